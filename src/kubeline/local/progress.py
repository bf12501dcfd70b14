"""Live progress of a run: a rich table on a terminal, one plain line per change otherwise."""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, Any

from kubeline.local.nodes import FULFILLED, Node
from kubeline.local.summary import RunSummary

_SHOWN = ("Pod", "Skipped")
_STYLE = {
    "Succeeded": "green",
    "Failed": "red",
    "Error": "red",
    "Running": "yellow",
    "Pending": "dim",
    "Skipped": "cyan",
    "Omitted": "cyan",
}


def _shown(node: Node) -> bool:
    return node.type in _SHOWN or (node.memoization is not None and node.type != "Pod")


class PlainReporter:
    """One line per node phase change: ``<time> <node> <phase> [message]``."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()

    def run_started(self, run_id: str, sandbox: str, resumed: bool) -> None:
        verb = "resuming" if resumed else "running"
        self._write(f"kubeline: {verb} {run_id} (sandbox: {sandbox})")

    def node_updated(self, node: Node) -> None:
        if not _shown(node) or self._last.get(node.id) == node.phase:
            return
        self._last[node.id] = node.phase
        extra = f" ({node.message})" if node.message and node.phase in FULFILLED else ""
        if node.memoization and node.memoization.get("hit"):
            extra = " (memoized)"
        self._write(f"{time.strftime('%H:%M:%S')} {node.display_name} {node.phase}{extra}")

    def run_finished(self, summary: RunSummary) -> None:
        return None

    def _write(self, line: str) -> None:
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()


class RichReporter:
    """A live table of nodes and phases, redrawn by rich at most ten times a second."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self.nodes: dict[str, Node] = {}
        self.title = ""
        self.live = Live(
            console=self.console,
            refresh_per_second=10,
            get_renderable=self._render,
            transient=False,
        )

    def _render(self) -> Any:
        from rich.table import Table

        table = Table(title=self.title, expand=False, show_edge=False)
        table.add_column("node")
        table.add_column("phase")
        table.add_column("message", overflow="fold")
        for n in list(self.nodes.values()):
            style = _STYLE.get(n.phase, "")
            msg = "memoized" if n.memoization and n.memoization.get("hit") else n.message
            table.add_row(n.display_name, f"[{style}]{n.phase}[/]" if style else n.phase, msg)
        return table

    def run_started(self, run_id: str, sandbox: str, resumed: bool) -> None:
        self.title = f"{'resuming' if resumed else 'running'} {run_id} (sandbox: {sandbox})"
        self.live.start()

    def node_updated(self, node: Node) -> None:
        if _shown(node):
            self.nodes[node.id] = node

    def run_finished(self, summary: RunSummary) -> None:
        self.live.refresh()
        self.live.stop()


def reporter_for(stream: IO[str]) -> PlainReporter | RichReporter:
    """Rich when stream is a terminal, plain lines otherwise."""
    if stream.isatty():
        return RichReporter()
    return PlainReporter(stream)
