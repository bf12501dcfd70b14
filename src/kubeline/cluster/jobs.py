"""A submission to the cluster from start to record: create the run, put it in the history,
then follow it, in this process (``kubeline run``) or in a follower process of its own
session (``Experiment.submit``: the script may exit, the run goes on and keeps being
recorded). A follower that is gone while its run is not over is started again by whoever
reads the run (``ensure_follower``), which is also how a run started elsewhere is attached.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from kubeline.cluster.connect import Cluster, ClusterError, connect
from kubeline.cluster.reuse import ReusePlan, resolve_reuse
from kubeline.history import (
    CANCELED,
    RUNNING,
    History,
    RunInfo,
    RunNotInHistory,
    RunRecord,
    effective_parameters,
)
from kubeline.reuse.memoize import CONTENT_AWARE_PARAMETER, REGENERATE_PARAMETER

if TYPE_CHECKING:
    from kubeline.cluster.follow import RunEnd
    from kubeline.cluster.record import NodeCallback
    from kubeline.workspace.config import ClusterConfig

BACKEND = "cluster"
FOLLOWERS_DIR = "submissions"


def _settings_of(cluster: Cluster, settings: ClusterConfig) -> dict[str, Any]:
    """What a follower needs to reach the same cluster, namespace and context."""
    return {"kubeconfig": cluster.source if cluster.source != "in-cluster" else None,
            "context": None if cluster.context == "in-cluster" else cluster.context,
            "namespace": cluster.namespace, "fail_stuck": True,
            "service_account": settings.service_account}


def reconnect(saved: Mapping[str, Any]) -> Cluster:
    from kubeline.workspace.config import ClusterConfig

    fields = {k: saved[k] for k in ("context", "namespace") if saved.get(k)}
    if saved.get("kubeconfig"):
        fields["kubeconfig"] = str(saved["kubeconfig"]).split(os.pathsep)[0]
    return connect(ClusterConfig(**fields), Path.cwd())


def run_parameters(docs: list[dict[str, Any]], parameters: Mapping[str, str],
                   info: RunInfo) -> dict[str, str]:
    """The workflow arguments of a submission, with regenerate/content-aware switches."""
    values = {k: str(v) for k, v in parameters.items()}
    known = effective_parameters(docs, {})
    if info.regenerate_outputs and REGENERATE_PARAMETER in known:
        values[REGENERATE_PARAMETER] = "true"
    if info.content_aware and CONTENT_AWARE_PARAMETER in known:
        values[CONTENT_AWARE_PARAMETER] = "true"
    return values


class _Reuse:
    """Pod-free reuse (kubeline.cluster.reuse): ``resolve`` rewrites the Workflow before it is
    created so steps whose outputs exist start no pod; ``record`` writes what the skipped
    steps' shims would have, once the Workflow has its uid."""

    def __init__(self, workspace: Any) -> None:
        self.workspace = workspace
        self.plan: ReusePlan | None = None

    def resolve(self, workflow: dict[str, Any], documents: list[dict[str, Any]]
                ) -> dict[str, Any]:
        self.plan = resolve_reuse(workflow, self.workspace, documents)
        return self.plan.workflow

    def record(self, created: dict[str, Any]) -> None:
        if self.plan is not None:
            self.plan.record(created)


def submit(docs: list[dict[str, Any]], parameters: Mapping[str, str], info: RunInfo,
           state_dir: Path, workspace: Any, *, on_node: NodeCallback | None = None,
           foreground: bool = False, out: IO[str] | None = None,
           on_started: Callable[[str, str], None] | None = None
           ) -> tuple[str, RunEnd | None, subprocess.Popen[bytes] | None]:
    """Create the run on the workspace's cluster and record it; then follow it here
    (foreground: returns its summary) or in a follower process (returns that process)."""
    from kubeline.cluster.follow import follow, spec_docs
    from kubeline.cluster.record import ClusterRecorder
    from kubeline.cluster.submit import EXPERIMENT_LABEL, create_run, label_value

    settings = workspace.config.cluster
    cluster = connect(settings, workspace.root)
    values = run_parameters(docs, parameters, info)
    labels = {EXPERIMENT_LABEL: label_value(info.experiment or "")} if info.experiment else {}
    reuse = _Reuse(workspace)
    made = create_run(cluster, docs, values, labels, transform=reuse.resolve)
    reuse.record(made)
    name = str(made["metadata"]["name"])
    saved = _settings_of(cluster, settings)
    info = RunInfo(**{**asdict(info), "properties": {
        **info.properties, "backend": BACKEND, "cluster": saved,
        "cluster_server": cluster.server}})
    recorder = ClusterRecorder(cluster, made, state_dir, spec_docs(cluster, made), values,
                               info, on_node)
    recorder.start(f"cluster {cluster.where}")
    run_id = recorder.run_id
    if on_started is not None:
        on_started(name, f"cluster {cluster.where}")
    if foreground:
        summary = follow(cluster, name, recorder, out=out)
        return run_id, summary, None
    recorder.close()
    process = start_follower(state_dir, run_id)
    return run_id, None, process


def start_follower(state_dir: Path, run_id: str) -> subprocess.Popen[bytes]:
    """``python -m kubeline.cluster.jobs STATE_DIR RUN_ID`` in its own session; the run's
    runner pid becomes the follower's at once (so readers do not start a second one)."""
    folder = Path(state_dir) / FOLLOWERS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}-follow.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "kubeline.cluster.jobs", str(Path(state_dir).resolve()),
             run_id], stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True)
    with History(state_dir) as db:
        db.set_run_status(run_id, RUNNING, "", only_if_not_terminal=True,
                          runner_pid=process.pid)
    return process


def is_cluster_run(record: RunRecord) -> bool:
    return record.properties.get("backend") == BACKEND


def follow_recorded(state_dir: Path, ref: str, *, on_node: NodeCallback | None = None,
                    out: IO[str] | None = None) -> RunEnd:
    """Follow a recorded cluster run to its end from here (the follower's body)."""
    from kubeline.cluster.follow import follow, spec_docs
    from kubeline.cluster.record import ClusterRecorder
    from kubeline.cluster.watch import get_workflow

    with History(state_dir) as db:
        record = db.get_run(ref)
    saved = record.properties.get("cluster") or {}
    cluster = reconnect(saved)
    wf = get_workflow(cluster, record.workflow)
    info = RunInfo(started_by=record.started_by, experiment=record.experiment,
                   tags=dict(record.tags), git=record.git, properties=dict(record.properties),
                   workspace=str(record.properties.get("workspace") or "") or None)
    recorder = ClusterRecorder(cluster, wf, state_dir, spec_docs(cluster, wf),
                               record.parameters, info, on_node)
    return follow(cluster, record.workflow, recorder, out=out,
                  fail_stuck=bool(saved.get("fail_stuck", True)))


def attach(workspace: Any, state_dir: Path, name: str, experiment: str | None = None,
           *, on_node: NodeCallback | None = None, out: IO[str] | None = None
           ) -> tuple[str, RunEnd]:
    """Record and follow a Workflow started elsewhere (kubectl, Argo's UI) by name."""
    from kubeline.cluster.follow import follow, spec_docs
    from kubeline.cluster.record import ClusterRecorder
    from kubeline.cluster.watch import get_workflow

    settings = workspace.config.cluster
    cluster = connect(settings, workspace.root)
    wf = get_workflow(cluster, name)
    docs = spec_docs(cluster, wf)
    labels = (wf.get("metadata") or {}).get("labels") or {}
    info = RunInfo(started_by="kubeline runs attach",
                   experiment=experiment or labels.get("kubeline.io/experiment"),
                   properties={"backend": BACKEND, "cluster": _settings_of(cluster, settings),
                               "cluster_server": cluster.server},
                   workspace=str(workspace.root))
    parameters = {str(p.get("name")): str(p.get("value", "")) for p in
                  ((wf.get("spec") or {}).get("arguments") or {}).get("parameters") or []}
    recorder = ClusterRecorder(cluster, wf, state_dir, docs, parameters, info, on_node)
    summary = follow(cluster, name, recorder, out=out)
    return recorder.run_id, summary


_RESTARTED: dict[str, float] = {}
RESTART_SECONDS = 10.0


def ensure_follower(state_dir: Path, record: RunRecord) -> None:
    """Start a follower for an unfinished cluster run whose follower is gone (at most one
    try every RESTART_SECONDS from one process, so a follower that cannot reach the
    cluster is not started in a loop)."""
    last = _RESTARTED.get(record.id, 0.0)
    if time.monotonic() - last < RESTART_SECONDS:
        return
    _RESTARTED[record.id] = time.monotonic()
    start_follower(state_dir, record.id)


def cancel(state_dir: Path, record: RunRecord, wait_seconds: float) -> None:
    """Stop the Workflow (Argo's stop) and wait for its follower to record the end;
    record Canceled here when no follower does it in time."""
    from kubeline.cluster.follow import stop

    cluster = reconnect(record.properties.get("cluster") or {})
    with contextlib.suppress(ClusterError):
        stop(cluster, record.workflow)
    deadline = time.monotonic() + wait_seconds
    with History(state_dir) as db:
        db.set_run_status(record.id, record.status, "canceling: workflow stopped",
                          only_if_not_terminal=True)
        while time.monotonic() < deadline:
            if db.get_run(record.id).terminal:
                return
            time.sleep(0.2)  # the history is a local file: read it again
        db.set_run_status(record.id, CANCELED, "canceled by the user",
                          only_if_not_terminal=True)


def main(argv: list[str]) -> int:
    """The follower process."""
    from kubeline.cluster.follow import PlainProgress
    from kubeline.exceptions import KubelineError

    state_dir, run_id = Path(argv[0]), argv[1]
    try:
        summary = follow_recorded(state_dir, run_id, on_node=PlainProgress(sys.stdout),
                                  out=sys.stdout)
    except KubelineError as exc:
        print(f"kubeline: error: {exc}", flush=True)
        with History(state_dir) as db, contextlib.suppress(RunNotInHistory):
            record = db.get_run(run_id)
            if not record.terminal:  # only the runner pid is ours; the run goes on
                db.set_run_status(run_id, record.status, f"not followed: {exc}")
        return 2
    print(f"run {run_id}: {summary.phase}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
