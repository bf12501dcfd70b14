"""RunDetails(run).show(): a run's steps as a table, widget-free.

In a terminal: a table printed once, or kept up to date until the run ends when stdout is
a terminal. In Jupyter: an HTML table (no ipywidgets) refreshed in place until the run ends.
Both carry the link of the run's web page when ``kubeline serve`` answers at its address.
"""

from __future__ import annotations

import html
import json
import sys
import threading
import time
import urllib.request
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.exceptions import KubelineError

if TYPE_CHECKING:
    from kubeline.dsl.pipeline_run import PipelineRun

REFRESH_SECONDS = 1.0
_TERMINAL = ("Finished", "Failed", "Canceled")


def web_link(run_id: str) -> str | None:
    """The run's page on ``kubeline serve`` when it answers (a short loopback probe)."""
    from kubeline.dsl.publish import serve_url

    base = serve_url()
    try:
        with urllib.request.urlopen(f"{base}/api/health", timeout=5.0) as response:
            json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError):
        return None
    return f"{base}/ui/#/runs/{run_id}"


def _duration(start: str | None, end: str | None) -> str:
    if not start:
        return ""
    try:
        begin = datetime.fromisoformat(start.replace("Z", "+00:00"))
        finish = datetime.fromisoformat(end.replace("Z", "+00:00")) if end else None
    except ValueError:
        return ""
    seconds = ((finish or datetime.now(begin.tzinfo)) - begin).total_seconds()
    return f"{seconds:.1f}s"


def _in_jupyter() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


@aml_surface(surface("RunDetails"))
class RunDetails:
    """The SDK's notebook widget, as a plain table."""

    def __init__(self, run_instance: PipelineRun) -> None:
        if not hasattr(run_instance, "_step_records") or not hasattr(run_instance, "get_status"):
            raise KubelineError(f"RunDetails: run_instance is a {type(run_instance).__name__}",
                                "pass the PipelineRun that Experiment.submit returned")
        self.run_instance = run_instance

    def get_widget_data(self, widget_settings: dict[str, Any] | None = None
                        ) -> dict[str, Any]:
        """The table's data: the run's status, its steps and the web page link."""
        run = self.run_instance
        status = run.get_status()
        steps = [{"name": s.name, "status": s.status, "reused": s.reused,
                  "duration": _duration(s.started_at, s.finished_at),
                  "message": s.message} for s in run._step_records()]
        return {"run_id": run.id, "experiment": run.experiment.name, "status": status,
                "steps": steps, "link": web_link(run.id)}

    def show(self, render_lib: Any = None, widget_settings: dict[str, Any] | None = None
             ) -> None:
        if _in_jupyter():
            self._show_html()
        else:
            self._show_text()

    # --- terminal ------------------------------------------------------------------------
    def _table(self, data: dict[str, Any]) -> Any:
        from rich.table import Table

        title = f"{data['experiment']} / {data['run_id']}: {data['status']}"
        table = Table(title=title, caption=data["link"] or "kubeline runs show " +
                      data["run_id"])
        for column in ("step", "status", "duration", "note"):
            table.add_column(column)
        for step in data["steps"]:
            note = "reused" if step["reused"] else (step["message"] or "")
            table.add_row(step["name"], step["status"], step["duration"], note[:60])
        return table

    def _show_text(self) -> None:
        from rich.console import Console

        console = Console(file=sys.stdout)
        data = self.get_widget_data()
        if data["status"] in _TERMINAL or not sys.stdout.isatty():
            console.print(self._table(data))
            return
        from rich.live import Live

        with Live(self._table(data), console=console, refresh_per_second=4) as live:
            while data["status"] not in _TERMINAL:
                time.sleep(REFRESH_SECONDS)
                data = self.get_widget_data()
                live.update(self._table(data))

    # --- Jupyter -------------------------------------------------------------------------
    @staticmethod
    def html_of(data: dict[str, Any]) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(s['name'])}</td><td>{html.escape(s['status'])}</td>"
            f"<td>{html.escape(s['duration'])}</td>"
            f"<td>{'reused' if s['reused'] else html.escape(s['message'] or '')}</td></tr>"
            for s in data["steps"])
        link = (f'<p><a href="{html.escape(data["link"])}" target="_blank">'
                f"{html.escape(data['link'])}</a></p>") if data["link"] else \
            f"<p>kubeline runs show {html.escape(data['run_id'])}</p>"
        return (f"<div class=\"kubeline-run-details\"><p><b>{html.escape(data['experiment'])}"
                f"</b> / {html.escape(data['run_id'])}: <b>{html.escape(data['status'])}</b>"
                "</p><table><thead><tr><th>step</th><th>status</th><th>duration</th>"
                f"<th>note</th></tr></thead><tbody>{rows}</tbody></table>{link}</div>")

    def _show_html(self) -> None:
        import importlib

        ipd: Any = importlib.import_module("IPython.display")  # untyped: kept at arm's length
        data = self.get_widget_data()
        handle = ipd.display(ipd.HTML(self.html_of(data)), display_id=True)
        if data["status"] in _TERMINAL or handle is None:
            return

        def refresh() -> None:
            current = data
            while current["status"] not in _TERMINAL:
                time.sleep(REFRESH_SECONDS)
                current = self.get_widget_data()
                handle.update(ipd.HTML(self.html_of(current)))

        threading.Thread(target=refresh, name="kubeline-run-details", daemon=True).start()
