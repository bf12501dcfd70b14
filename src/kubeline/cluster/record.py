"""A cluster run in the run history (kubeline.history), recorded as a local one is.

Fed each state of the Workflow, it writes what changed: a step Running when its pod runs,
a step's end when its task node ends (exit code from its last pod, logs fetched from the
datastore the shim uploaded them to, else from the pod, into
``<state>/cluster-logs/<run>/<node>/``, and the rest from the shim's result record). The
run id is the Workflow's uid (the shims' KUBELINE_RUN_ID). Every write is idempotent and
each node is written once per state, so a reconnected watch, a second follower or an
attach after the end records nothing twice. A stopped Workflow's steps end Canceled.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.cluster.connect import ClusterError
from kubeline.history import (
    CANCELED,
    FAILED,
    FINISHED,
    History,
    PipelineSpecInfo,
    RunInfo,
    RunNotInHistory,
    effective_parameters,
    log_fields,
    merge_metrics,
    new_run,
    read_record,
    result_fields,
    result_key,
)
from kubeline.reuse.memoize import run_switches

if TYPE_CHECKING:
    from kubeline.cluster.connect import Cluster
    from kubeline.stores import Store

LOGS_DIR = "cluster-logs"
POD_LOG_LINES = 2000
DONE = frozenset({"Succeeded", "Failed", "Error"})
_STATUS = {"Succeeded": FINISHED, "Failed": FAILED, "Error": FAILED}
_RETRY = re.compile(r"\(\d+\)$")

NodeCallback = Callable[[str, Mapping[str, Any]], None]


def pod_name(workflow: str, node: Mapping[str, Any]) -> str:
    """Argo's (v2) pod name of a Pod node: ``<workflow>-<template>-<hash>``, the hash being
    the numeric tail of the node's id."""
    suffix = str(node.get("id", "")).rsplit("-", 1)[-1]
    template = str(node.get("templateName") or "")
    prefix = f"{workflow}-{template}" if template else workflow
    return f"{prefix[:242]}-{suffix}"


class ClusterRecorder:
    """Writes one cluster run's history from the states of its Workflow."""

    def __init__(self, cluster: Cluster, workflow: Mapping[str, Any], state_dir: Path,
                 docs: list[dict[str, Any]], parameters: Mapping[str, str], info: RunInfo,
                 on_node: NodeCallback | None = None) -> None:
        self.cluster = cluster
        self.state_dir = Path(state_dir).resolve()
        self.spec = PipelineSpecInfo.from_docs(docs)
        if not self.spec.is_kubeline:
            name = (workflow.get("metadata") or {}).get("name")
            raise ClusterError(f"workflow {name} was not compiled by kubeline (it has no "
                               "step spec)", "record kubeline pipelines' workflows only")
        self.parameters = effective_parameters(docs, parameters)
        self.info = info
        self.on_node = on_node
        self.name = str(workflow["metadata"]["name"])
        self.run_id = str(workflow["metadata"]["uid"])
        self.workspace = Path(info.workspace or os.environ.get("KUBELINE_WORKSPACE")
                              or Path.cwd()).resolve()
        self.history: History | None = None
        self.ending: tuple[str, str] | None = None  # (status, message) decided by kubeline
        self.parent_metrics: dict[str, Any] = {}
        self._known = {s for s, _ in self.spec.steps}
        self._seen: dict[str, str] = {}  # node id -> the state last written
        self._pods: dict[str, dict[str, Mapping[str, Any]]] = {}  # step -> pod nodes
        self._store: Store | None = None

    # --- the run -----------------------------------------------------------------------

    def start(self, sandbox: str) -> None:
        """Create the run's record, or take over the one a submitter (or an earlier
        follower) made: only the runner pid changes then."""
        history = History(self.state_dir)
        self.history = history
        try:
            existing = history.get_run(self.run_id)
        except RunNotInHistory:
            history.create_run(new_run(
                self.spec, run_id=self.run_id, workflow=self.name,
                experiment=self.info.experiment or self.spec.name,
                started_by=self.info.started_by, parameters=self.parameters,
                tags=self.info.tags, git=self.info.git,
                properties={
                    **self.info.properties, "sandbox": sandbox,
                    **run_switches(self.parameters, self.info.regenerate_outputs,
                                   self.info.content_aware)},
                workspace=self.workspace, state_dir=self.state_dir, runner_pid=os.getpid()))
            return
        self._known |= {s.step_id for s in history.steps(existing.id)}
        if not existing.terminal:
            history.set_run_status(existing.id, existing.status, existing.message,
                                   runner_pid=os.getpid())

    def update(self, workflow: Mapping[str, Any]) -> None:
        """Write what changed in this state of the Workflow."""
        nodes = (workflow.get("status") or {}).get("nodes") or {}
        for node_id, node in sorted(nodes.items(),
                                    key=lambda kv: (kv[1].get("startedAt") or "~", kv[0])):
            self._node(node_id, node)

    def finish(self, phase: str, message: str) -> None:
        """The run's end (kubeline's own decision, a stop or a stuck pod, wins)."""
        if self.history is None:
            return
        status, text = self.ending or (FINISHED if phase == "Succeeded" else FAILED, message)
        if self.parent_metrics:
            self.history.set_run_metrics(self.run_id, self.parent_metrics)
        self.history.set_run_status(self.run_id, status, text)
        self.close()

    def close(self) -> None:
        if self.history is not None:
            self.history.close()
            self.history = None

    # --- nodes -------------------------------------------------------------------------

    def _node(self, node_id: str, node: Mapping[str, Any]) -> None:
        phase = str(node.get("phase") or "Pending")
        memo = node.get("memoizationStatus") or {}
        state = f"{phase}:{bool(memo.get('hit'))}"
        if self._seen.get(node_id) == state:
            return
        self._seen[node_id] = state
        located = self._locate(str(node.get("name", "")))
        if located is not None and self.history is not None:
            step, own = located
            if step not in self._known:
                self._known.add(step)
                self.history.add_step(self.run_id, step, step)
            if node.get("type") == "Pod":
                self._pod(step, node_id, node, phase)
            if own:
                self._own(step, node, phase, bool(memo.get("hit")))
        if self.on_node is not None:
            self.on_node(node_id, node)

    def _locate(self, name: str) -> tuple[str, bool] | None:
        """(step id, whether this is the step's own task node): a step is the DAG task
        named by its id (chunked DAGs too); retries ``id(N)`` are pods inside it."""
        prefix = f"{self.name}."
        if not name.startswith(prefix):
            return None
        parts = name[len(prefix):].split(".")
        for i, part in enumerate(parts):
            base = _RETRY.sub("", part)
            if base in self._known:
                return base, i == len(parts) - 1 and part == base
        return None

    def _log_dir(self, node_id: str) -> Path:
        return self.state_dir / LOGS_DIR / self.run_id / node_id

    def _pod(self, step: str, node_id: str, node: Mapping[str, Any], phase: str) -> None:
        assert self.history is not None
        pods = self._pods.setdefault(step, {})
        pods[node_id] = node
        if phase == "Running":
            self.history.step_running(self.run_id, step, len(pods), str(self._log_dir(node_id)))
        elif phase in DONE:
            self._fetch_logs(step, node_id, node)

    def _own(self, step: str, node: Mapping[str, Any], phase: str, memoized: bool) -> None:
        assert self.history is not None
        result = self._read(result_key(self.run_id, step))
        if phase == "Skipped" and result is not None and result.get("status") == "reused":
            phase = "Succeeded"  # reused before submit (kubeline.cluster.reuse): no pod
        if phase not in DONE:
            return
        if result is None and memoized:
            result = self._memoized(node)
        pods = self._pods.get(step) or {}
        last_id, last = max(pods.items(), key=lambda kv: kv[1].get("startedAt") or "",
                            default=("", None))
        status = _STATUS[phase]
        if status == FAILED and self.ending is not None and self.ending[0] == CANCELED:
            status = CANCELED
        code = ((last or {}).get("outputs") or {}).get("exitCode")
        fields: dict[str, Any] = {
            "status": status, "attempts": len(pods),
            "exit_code": int(str(code)) if str(code or "").lstrip("-").isdigit() else None,
            "message": str(node.get("message") or (last or {}).get("message") or ""),
            "log_dir": str(self._log_dir(last_id)) if last_id else None,
        }
        if last_id:
            fields.update(log_fields(str(self._log_dir(last_id)), failed=phase != "Succeeded"))
        if result is not None:
            fields.update(result_fields(result))
            if result.get("error") and not fields["message"]:
                fields["message"] = str(result["error"])
            merge_metrics(self.parent_metrics, result.get("parent_metrics") or {})
        self.history.step_finished(self.run_id, step, fields)

    def _memoized(self, node: Mapping[str, Any]) -> dict[str, Any]:
        """An Argo memoize hit ran no pod: its cached outputs name the key and the run
        (``origin``); the key's index record has the outputs and tags."""
        values = {str(p.get("name")): p.get("value")
                  for p in ((node.get("outputs") or {}).get("parameters") or [])}
        key = str(values.get("key") or "")
        result: dict[str, Any] = {"key": key or None, "status": "reused"}
        with contextlib.suppress(ValueError, TypeError):
            result["reused_from"] = json.loads(str(values.get("origin") or "{}")) or None
        index = self._read(f"kubeline/cache/{key}.json") if key else None
        if index is not None:
            result.update({k: index.get(k) or {} for k in ("outputs", "tags", "metrics")})
        return result

    # --- the datastore and the pods ----------------------------------------------------

    def _default_store(self) -> Store | None:
        from kubeline.exceptions import KubelineError

        if self._store is None:
            from kubeline.runtime.datastores import Datastores

            with contextlib.suppress(KubelineError, OSError, ValueError):
                self._store = Datastores(self.spec.datastores, self.spec.default_datastore,
                                         self.workspace).default
        return self._store

    def _read(self, key: str) -> dict[str, Any] | None:
        store = self._default_store()
        return None if store is None else read_record(store, key)

    def _fetch_logs(self, step: str, node_id: str, node: Mapping[str, Any]) -> None:
        """main.stdout / main.stderr of a finished pod: the shim's uploads, else the pod's
        log (stdout and stderr interleaved, as Kubernetes keeps them)."""
        from kubeline.exceptions import KubelineError
        from kubeline.runtime.layout import step_dir

        folder = self._log_dir(node_id)
        folder.mkdir(parents=True, exist_ok=True)
        store = self._default_store()
        got = False
        for name, target in (("stdout.txt", "main.stdout"), ("stderr.txt", "main.stderr")):
            key = f"{step_dir(self.run_id, step)}/{name}"
            with contextlib.suppress(KubelineError, OSError):
                if store is not None and store.exists(key):
                    (folder / target).write_bytes(store.get_bytes(key))
                    got = True
        if not got:
            text = self._pod_log(node)
            (folder / "main.stdout").write_text(text, encoding="utf-8")
            (folder / "main.stderr").write_text(text, encoding="utf-8")

    def _pod_log(self, node: Mapping[str, Any]) -> str:
        with contextlib.suppress(Exception):  # the pod may be gone (pod GC): no log then
            text: str = self.cluster.core.read_namespaced_pod_log(
                pod_name(self.name, node), self.cluster.namespace, container="main",
                tail_lines=POD_LOG_LINES)
            return text
        return ""

