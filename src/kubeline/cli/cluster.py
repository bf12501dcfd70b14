"""The cluster commands: ``kubeline runs attach WORKFLOW`` (record and follow a Workflow
started elsewhere) and ``kubeline published apply`` (published pipelines' objects)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kubeline.cli.support import state_dir as _state_dir
from kubeline.cli.support import user_errors


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
    from kubeline.dsl.cluster_runs import progress
    from kubeline.dsl.workspace import Workspace
    from kubeline.local.progress import reporter_for

    workspace = Workspace()
    reporter = reporter_for(sys.stderr)
    reporter.run_started(workflow, f"cluster {workspace.config.cluster.namespace}", True)
    run_id, summary = attach(workspace, _state_dir(state_dir), workflow, experiment,
                             on_node=progress(reporter))
    click.echo(f"run:     {run_id} (workflow {summary.id})")
    click.echo(f"phase:   {summary.phase}" + (f" ({summary.message})" if summary.message else ""))
    click.echo(f"history: kubeline runs show {run_id}")
    sys.exit(0 if summary.phase == "Succeeded" else 1)


@click.command("apply")
@click.option("--no-events", is_flag=True,
              help="Leave out Argo Events' EventSource and Sensors (REST endpoints stay with "
              "kubeline serve); WorkflowTemplates and CronWorkflows are applied.")
@click.option("--dry-run", is_flag=True, help="Server-side dry run: check, change nothing.")
@click.option("-w", "--workspace", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="The workspace folder (default: found from here).")
@user_errors
def published_apply(no_events: bool, dry_run: bool, workspace: Path | None) -> None:
    """Apply what `kubeline published compile` writes to the workspace's cluster:
    WorkflowTemplates of published pipelines, CronWorkflows of schedules, the webhook
    EventSource and Sensors of REST endpoints (Argo Events) and their RBAC."""
    from kubeline.cluster.apply import EVENT_KINDS, apply
    from kubeline.cluster.checks import reachable
    from kubeline.cluster.connect import connect
    from kubeline.compiler.argo.events import registry_files
    from kubeline.dsl.workspace import Workspace
    from kubeline.server.registry import Registry

    ws = Workspace(_root=(workspace or Path.cwd()))
    files = registry_files(Registry(ws.state_dir), ws.config)
    docs = [d for objs in files.values() for d in objs
            if not (no_events and d["kind"] in EVENT_KINDS)]
    if not docs:
        click.echo("nothing published")
        return
    cluster = connect(ws.config.cluster, ws.root)
    reachable(cluster)
    for name in apply(cluster, docs, dry_run=dry_run):
        click.echo(f"{'checked' if dry_run else 'applied'} {name} in namespace "
                   f"{cluster.namespace}")
