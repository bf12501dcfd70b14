"""``kubeline runs``: list, show and read the logs of runs in the run history."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from kubeline.cli.support import state_dir as _state_dir
from kubeline.cli.support import user_errors
from kubeline.exceptions import KubelineError


def _open(state_dir: Path | None) -> Any:
    from kubeline.history.db import HISTORY_FILE, History

    folder = _state_dir(state_dir)
    if not (folder / HISTORY_FILE).exists():
        raise KubelineError(f"no run history in {folder}",
                            "run a pipeline first, or pass --state-dir")
    return History(folder)


_STATE_OPTION = click.option(
    "--state-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="The state directory holding history.db (default: the workspace's .kubeline/).")


@click.group("runs")
def runs_group() -> None:
    """Runs recorded in the run history (<workspace>/.kubeline/history.db)."""


@runs_group.command("list")
@click.option("--experiment", metavar="NAME", help="Only runs of this experiment.")
@click.option("--limit", type=int, default=None, metavar="N", help="At most N runs (newest).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_STATE_OPTION
@user_errors
def list_command(experiment: str | None, limit: int | None, as_json: bool,
                 state_dir: Path | None) -> None:
    """Runs, newest first."""
    with _open(state_dir) as db:
        runs = db.list_runs(experiment, limit)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in runs], indent=2, sort_keys=True))
        return
    if not runs:
        click.echo("no runs" + (f" in experiment '{experiment}'" if experiment else ""))
        return
    rows = [("RUN", "EXPERIMENT", "PIPELINE", "STATUS", "CREATED", "STARTED BY")]
    rows += [(r.id, r.experiment, r.pipeline, r.status, r.created_at, r.started_by)
             for r in runs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


@runs_group.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True,
              help="JSON: the run and each step (status, attempts, exit_code, reused, outputs, "
                   "metrics).")
@_STATE_OPTION
@user_errors
def show_command(run_id: str, as_json: bool, state_dir: Path | None) -> None:
    """A run: status, parameters, snapshots, git and every step."""
    with _open(state_dir) as db:
        run = db.get_run(run_id)
        steps = db.steps(run.id)
    if as_json:
        click.echo(json.dumps({**run.to_json(), "steps": [s.to_json() for s in steps]},
                              indent=2, sort_keys=True))
        return
    click.echo(f"run:        {run.id}")
    click.echo(f"experiment: {run.experiment}")
    click.echo(f"pipeline:   {run.pipeline} (workflow {run.workflow})")
    click.echo(f"status:     {run.status}" + (f" ({run.message})" if run.message else ""))
    click.echo(f"started by: {run.started_by}")
    click.echo(f"created:    {run.created_at}   finished: {run.finished_at or '-'}")
    if run.parameters:
        click.echo("parameters: " + ", ".join(f"{k}={v}" for k, v in
                                               sorted(run.parameters.items())))
    if run.tags:
        click.echo("tags:       " + ", ".join(f"{k}={v}" for k, v in sorted(run.tags.items())))
    if run.git:
        dirty = " (dirty)" if run.git.get("dirty") else ""
        click.echo(f"git:        {run.git.get('commit')} on {run.git.get('branch')}{dirty}")
    if run.metrics:
        click.echo(f"metrics:    {json.dumps(run.metrics, sort_keys=True)}")
    for warning in run.properties.get("warnings") or []:
        click.echo(f"warning:    {warning}")
    click.echo("steps:")
    for s in steps:
        extra = []
        if s.exit_code is not None:
            extra.append(f"exit {s.exit_code}")
        if s.attempts > 1:
            extra.append(f"{s.attempts} attempts")
        if s.reused:
            extra.append(f"reused from {s.reused_from_run}")
        click.echo(f"  {s.name:<24} {s.status:<10} {', '.join(extra)}".rstrip())
        for name, out in sorted(s.outputs.items()):
            click.echo(f"    output {name}: {out.get('datastore')}:{out.get('location')} "
                       f"({out.get('files')} files, {out.get('size')} bytes)")
        if s.metrics:
            click.echo(f"    metrics: {json.dumps(s.metrics, sort_keys=True)}")
        if s.status == "Failed" and s.stderr_tail:
            click.echo("    stderr (last lines):")
            for line in s.stderr_tail.splitlines():
                click.echo(f"      {line}")


@runs_group.command("resume")
@click.argument("run_id")
@click.option("--parallelism", type=int, metavar="N", help="Most step processes at once.")
@_STATE_OPTION
@user_errors
def resume_command(run_id: str, parallelism: int | None, state_dir: Path | None) -> None:
    """Finish a run whose runner stopped (killed, machine restarted); finished steps are kept."""
    from kubeline.local.progress import reporter_for
    from kubeline.local.recorder import resume_recorded

    summary, rid = resume_recorded(_state_dir(state_dir), run_id, parallelism=parallelism,
                                   reporter=reporter_for(sys.stderr))
    click.echo(f"run:     {rid} (workflow {summary.id})")
    click.echo(f"phase:   {summary.phase}" + (f" ({summary.message})" if summary.message else ""))
    sys.exit(0 if summary.phase == "Succeeded" else 1)


@runs_group.command("logs")
@click.argument("run_id")
@click.argument("step", required=False)
@click.option("--stderr/--no-stderr", default=True, show_default=True,
              help="Include stderr after stdout.")
@_STATE_OPTION
@user_errors
def logs_command(run_id: str, step: str | None, stderr: bool, state_dir: Path | None) -> None:
    """The stdout (and stderr) of a run's steps, or of one STEP (name or id)."""
    from kubeline.history.db import read_log

    with _open(state_dir) as db:
        run = db.get_run(run_id)
        steps = db.steps(run.id)
    if step is not None:
        chosen = [s for s in steps if step in (s.name, s.step_id)]
        if not chosen:
            raise KubelineError(f"run {run.id} has no step '{step}'",
                                "steps: " + ", ".join(s.name for s in steps))
        steps = chosen
    for s in steps:
        if s.status == "NotStarted":
            continue
        if len(steps) > 1:
            click.echo(f"==> {s.name} ({s.status}) <==")
        if s.reused_from_run:  # no process ran: its logs are those of the run it came from
            click.echo(f"(reused the outputs of run {s.reused_from_run}: see `kubeline runs "
                       f"logs {s.reused_from_run} {s.name}`)")
        click.echo(read_log(s.stdout_location), nl=False)
        if stderr:
            text = read_log(s.stderr_location) or s.stderr_tail
            if text:
                click.echo(text if text.endswith("\n") else text + "\n", nl=False, err=False)


