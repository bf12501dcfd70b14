"""``kubeline runs attach WORKFLOW``: record and follow a Workflow started elsewhere."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kubeline.cli_support import state_dir as _state_dir
from kubeline.cli_support import user_errors


@click.command("attach")
@click.argument("workflow")
@click.option("--experiment", metavar="NAME",
              help="Experiment to record it under (default: its kubeline.io/experiment "
              "label, else its pipeline's name).")
@click.option("--state-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="The state directory holding history.db (default: the workspace's "
              ".kubeline/).")
@user_errors
def attach_command(workflow: str, experiment: str | None, state_dir: Path | None) -> None:
    """Follow WORKFLOW (a kubeline-compiled Workflow on the workspace's cluster, started by
    kubectl or Argo's UI) to its end, recording it in the run history."""
    from kubeline.cluster.jobs import attach
    from kubeline.dsl.workspace import Workspace
    from kubeline.local.progress import reporter_for

    workspace = Workspace()
    run_id, summary = attach(workspace, _state_dir(state_dir), workflow, experiment,
                             reporter=reporter_for(sys.stderr))
    click.echo(f"run:     {run_id} (workflow {summary.id})")
    click.echo(f"phase:   {summary.phase}" + (f" ({summary.message})" if summary.message else ""))
    click.echo(f"history: kubeline runs show {run_id}")
    sys.exit(0 if summary.phase == "Succeeded" else 1)
