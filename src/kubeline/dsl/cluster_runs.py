"""Where the user API meets the cluster backend (kubeline.cluster): submitting a prepared
job there, showing its progress with the local runs' display, and starting published
pipelines' runs there for ``kubeline serve``. The cluster backend knows nothing of the
local executor; the display's node type is built here from Argo's node status."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubeline.cluster.follow import RunEnd
    from kubeline.cluster.record import NodeCallback
    from kubeline.dsl.workspace import Workspace
    from kubeline.local.executor import Reporter
    from kubeline.server.registry import PublishedRecord
    from kubeline.server.runs import StartedRun


def progress(reporter: Reporter | None) -> NodeCallback | None:
    """Argo node states to a local progress reporter (the same table or lines)."""
    if reporter is None:
        return None
    from kubeline.local.nodes import Node, Outputs

    def show(node_id: str, data: Mapping[str, Any]) -> None:
        memo = data.get("memoizationStatus")
        reporter.node_updated(Node(
            id=node_id, name=str(data.get("name", "")),
            display_name=str(data.get("displayName", "")), type=str(data.get("type", "")),
            phase=str(data.get("phase") or "Pending"),
            template_name=str(data.get("templateName", "")),
            boundary_id=str(data.get("boundaryID", "")),
            children=list(data.get("children") or []),
            outputs=Outputs.from_json(data.get("outputs")),
            message=str(data.get("message", "")),
            started_at=str(data.get("startedAt") or ""),
            finished_at=str(data.get("finishedAt") or ""),
            memoization=dict(memo) if isinstance(memo, Mapping) else None))

    return show


def submit_job(workspace: Workspace, job: dict[str, Any], state_dir: Path,
               parameters: Mapping[str, str], reporter: Reporter | None, foreground: bool
               ) -> tuple[str, RunEnd | None, Any]:
    """Create a prepared job's run on the workspace's cluster; followed here (foreground,
    with the reporter) or by a follower process."""
    from kubeline.cluster.jobs import submit
    from kubeline.history import RunInfo

    def started(name: str, where: str) -> None:
        if foreground and reporter is not None:
            reporter.run_started(name, where, False)

    run_id, end, process = submit(job["docs"], parameters, RunInfo(**job["info"]), state_dir,
                                  workspace, on_node=progress(reporter), foreground=foreground,
                                  on_started=started)
    if foreground and reporter is not None:
        finished: Any = reporter.run_finished  # the displays read nothing from the summary
        finished(end)
    return run_id, end, process


def published_starter(workspace_root: Path) -> Callable[..., StartedRun] | None:
    """For ``kubeline serve``: how a published pipeline's run starts on the cluster, or
    None when the workspace runs locally (kubeline.yaml ``cluster.submit``)."""
    from kubeline.dsl.experiment import submits_to_cluster
    from kubeline.dsl.workspace import Workspace

    workspace = Workspace(_root=workspace_root)
    if not submits_to_cluster(workspace):
        return None

    def start(record: PublishedRecord, experiment: str, arguments: Mapping[str, str],
              started_by: str, properties: dict[str, Any], tags: dict[str, str],
              state_dir: Path) -> StartedRun:
        from kubeline.cluster.connect import ClusterError
        from kubeline.cluster.jobs import submit
        from kubeline.history import History, RunInfo
        from kubeline.server.body import RequestError
        from kubeline.server.runs import StartedRun

        info = RunInfo(started_by=started_by, experiment=experiment, tags=tags,
                       git=record.source.get("git"), workspace=str(workspace.root),
                       properties={**properties, "published_pipeline_id": record.id,
                                   "published_pipeline": record.name,
                                   "published_version": record.version,
                                   "pipeline_id": record.pipeline_id,
                                   "continue_on_step_failure":
                                   record.continue_on_step_failure})
        try:
            run_id, _, _process = submit(record.docs, dict(arguments), info, state_dir,
                                         workspace)
        except ClusterError as exc:  # the REST caller gets it as HTTP 503 naming it
            raise RequestError(503, "cluster", exc.message, exc.hint) from None
        with History(state_dir) as db:
            workflow = db.get_run(run_id).workflow
        return StartedRun(id=run_id, workflow=workflow, experiment=experiment)

    return start
