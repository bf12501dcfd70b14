"""A cluster run in the run history, recorded exactly as a local one.

Argo's node status has the shape the local executor's nodes have (kubeline.local.nodes
follows Argo's), so the local history recorder is reused: each Workflow state's nodes are
fed to it. What differs: the run id is the Workflow's uid (the shims' KUBELINE_RUN_ID, under
which they write result records), a step's logs are fetched from the datastore the shim
uploaded them to (else from the pod) into ``<state>/cluster-logs/<run>/``, a run already in
the history (a reconnected or second follower) is taken over, never created again, and a
stopped Workflow ends Canceled.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.local import history as h
from kubeline.local.nodes import COMPLETED, Node, pod_name
from kubeline.local.recorder import HistoryRecorder, RunInfo

if TYPE_CHECKING:
    from kubeline.cluster.connect import Cluster
    from kubeline.local.executor import Reporter
    from kubeline.local.summary import RunSummary

LOGS_DIR = "cluster-logs"
POD_LOG_LINES = 2000


class ClusterRecorder(HistoryRecorder):
    """The history recorder fed from a Workflow's status instead of the local executor."""

    def __init__(self, cluster: Cluster, workflow: dict[str, Any], state_dir: Path,
                 docs: list[dict[str, Any]], parameters: Mapping[str, str], info: RunInfo,
                 inner: Reporter | None = None) -> None:
        super().__init__(state_dir, docs, parameters, info, inner)
        self.cluster = cluster
        self.uid = str(workflow["metadata"]["uid"])
        self.ending: tuple[str, str] | None = None  # (status, message) decided by kubeline
        self._fetched: set[str] = set()
        self._skips: dict[str, bool] = {}

    def _new_run_id(self, workflow: str) -> str:
        return self.uid

    def run_started(self, run_id: str, sandbox: str, resumed: bool) -> None:
        history = h.History(self.state_dir)
        try:
            existing = history.get_run(self.uid)
        except h.RunNotInHistory:
            history.close()
            super().run_started(run_id, sandbox, False)
            return
        self.history, self.workflow, self.run_id = history, run_id, existing.id
        self._known = {s.step_id for s in history.steps(existing.id)}
        if not existing.terminal:  # this process now keeps the record up to date
            history.set_run_status(existing.id, existing.status, existing.message,
                                   runner_pid=os.getpid())
        if self.inner is not None:
            self.inner.run_started(run_id, sandbox, True)

    def node_updated(self, node: Node) -> None:
        if node.phase == "Skipped" and self._resolved_before_submit(node):
            import copy

            node = copy.copy(node)  # reused before submit: Skipped by Argo, done for us
            node.phase = "Succeeded"
        if node.type == "Pod":
            node.log_path = str(self.state_dir / LOGS_DIR / self.uid / node.id)
            if node.phase in COMPLETED and node.id not in self._fetched:
                self._fetched.add(node.id)
                self._fetch_logs(node)
        super().node_updated(node)

    def _resolved_before_submit(self, node: Node) -> bool:
        """Whether a Skipped step was served from the cache before the Workflow was created
        (kubeline.cluster.reuse wrote its ``reused`` result record under this run)."""
        if node.id in self._skips:
            return self._skips[node.id]
        located = self._locate(node) if self.spec.is_kubeline else None
        result = self._result(located[0]) if located is not None and located[1] else None
        self._skips[node.id] = bool(result and result.get("status") == "reused")
        return self._skips[node.id]

    def _finished_fields(self, node: Node, step: str) -> dict[str, Any]:
        """A step ended by stopping the workflow was canceled, not failed."""
        fields = super()._finished_fields(node, step)
        if self.ending is not None and self.ending[0] == h.CANCELED \
                and fields.get("status") == h.FAILED:
            fields["status"] = h.CANCELED
        return fields

    def run_finished(self, summary: RunSummary) -> None:
        if self.history is not None:
            if self.ending is not None:
                status, message = self.ending
            else:
                status = h.FINISHED if summary.phase == "Succeeded" else h.FAILED
                message = summary.message
            if self.parent_metrics:
                self.history.set_run_metrics(self.run_id, self.parent_metrics)
            self.history.set_run_status(self.run_id, status, message)
            self.history.close()
            self.history = None
        if self.inner is not None:
            self.inner.run_finished(summary)

    # --- logs --------------------------------------------------------------------------

    def _fetch_logs(self, node: Node) -> None:
        """main.stdout / main.stderr of a finished pod: the shim's uploads, else the pod's
        log (stdout and stderr interleaved, as Kubernetes keeps them)."""
        folder = Path(node.log_path)
        folder.mkdir(parents=True, exist_ok=True)
        located = self._locate(node)
        got = False
        if located is not None and self.spec.is_kubeline:
            from kubeline.runtime.layout import step_dir

            base = step_dir(self.run_id, located[0])
            for name, target in (("stdout.txt", "main.stdout"), ("stderr.txt", "main.stderr")):
                data = self._read_bytes(f"{base}/{name}")
                if data is not None:
                    (folder / target).write_bytes(data)
                    got = True
        if not got:
            text = self._pod_log(node)
            (folder / "main.stdout").write_text(text, encoding="utf-8")
            (folder / "main.stderr").write_text(text, encoding="utf-8")

    def _read_bytes(self, key: str) -> bytes | None:
        from kubeline.exceptions import KubelineError

        try:
            if self._store is None:
                from kubeline.runtime.datastores import Datastores

                self._store = Datastores(self.spec.datastores, self.spec.default_datastore,
                                         self.workspace).default
            if not self._store.exists(key):
                return None
            return self._store.get_bytes(key)
        except (KubelineError, OSError):
            return None

    def _pod_log(self, node: Node) -> str:
        pod = pod_name(self.workflow, node.name, node.template_name)
        with contextlib.suppress(Exception):  # the pod may be gone (pod GC): no log then
            text: str = self.cluster.core.read_namespaced_pod_log(
                pod, self.cluster.namespace, container="main", tail_lines=POD_LOG_LINES)
            return text
        return ""


def node_from_status(node_id: str, data: Mapping[str, Any]) -> Node:
    """One entry of a Workflow's status.nodes as the local executor's Node."""
    from kubeline.local.nodes import Outputs

    return Node(
        id=str(data.get("id") or node_id), name=str(data.get("name", "")),
        display_name=str(data.get("displayName", "")), type=str(data.get("type", "")),
        phase=str(data.get("phase") or "Pending"),
        template_name=str(data.get("templateName", "")),
        boundary_id=str(data.get("boundaryID", "")),
        children=list(data.get("children") or []),
        outputs=Outputs.from_json(data.get("outputs")),
        message=str(data.get("message", "")), started_at=str(data.get("startedAt") or ""),
        finished_at=str(data.get("finishedAt") or ""),
        memoization=data.get("memoizationStatus"),
        process_starts=1 if data.get("type") == "Pod" and data.get("phase") not in
        (None, "", "Pending") else 0)


def nodes_of(workflow: Mapping[str, Any]) -> list[Node]:
    """The Workflow's nodes, in the order they started."""
    raw = (workflow.get("status") or {}).get("nodes") or {}
    nodes = [node_from_status(k, v) for k, v in raw.items()]
    nodes.sort(key=lambda n: (n.started_at or "~", n.name))
    return nodes

