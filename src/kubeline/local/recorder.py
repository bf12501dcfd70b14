"""Fill the run history from a local run: the executor's progress events plus each step's
result record (kubeline.history.results), written through kubeline.history's interface.

``run_with_history`` is the one way runs start on this machine: ``kubeline run``, the
background runner of ``Experiment.submit`` and its foreground form all call it, so a run
looks the same in the history whichever way it was started.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.history import db as h
from kubeline.history.manifest import (
    CONTENT_AWARE_ENV,
    CONTENT_AWARE_PARAMETER,
    REGENERATE_PARAMETER,
    PipelineSpecInfo,
    RunInfo,
    effective_parameters,
    new_run,
)
from kubeline.history.results import (
    log_fields,
    merge_metrics,
    read_record,
    result_fields,
    result_key,
)
from kubeline.reuse.memoize import run_switches

if TYPE_CHECKING:
    from kubeline.local.executor import Reporter
    from kubeline.local.nodes import Node
    from kubeline.local.summary import RunSummary
    from kubeline.stores import Store

_RETRY_SUFFIX = re.compile(r"\(\d+\)$")
_PHASE_STATUS = {"Succeeded": h.FINISHED, "Failed": h.FAILED, "Error": h.FAILED,
                 "Skipped": h.NOT_STARTED, "Omitted": h.NOT_STARTED}


def _executor_uid(state_dir: Path, workflow: str) -> str | None:
    """The workflow uid the executor gave this run (the shim's KUBELINE_RUN_ID)."""
    try:
        db = sqlite3.connect(f"file:{state_dir / 'runs.db'}?mode=ro", uri=True, timeout=30.0)
        try:
            row = db.execute("SELECT uid FROM runs WHERE id = ?", (workflow,)).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


class HistoryRecorder:
    """A progress reporter that writes the history, then passes each event on."""

    def __init__(self, state_dir: Path, docs: list[dict[str, Any]], parameters: Mapping[str, str],
                 info: RunInfo, inner: Reporter | None = None, *,
                 on_started: Callable[[str, str], None] | None = None) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.spec = PipelineSpecInfo.from_docs(docs)
        self.parameters = effective_parameters(docs, parameters)
        self.info = info
        self.inner = inner
        self.on_started = on_started
        self.history: h.History | None = None
        self.run_id = ""
        self.workflow = ""
        self.workspace = Path(info.workspace or os.environ.get("KUBELINE_WORKSPACE")
                              or Path.cwd()).resolve()
        self._store: Store | None = None
        self._starts: dict[str, dict[str, dict[str, int]]] = {}
        self._phase: dict[str, str] = {}  # node id -> phase:memoized
        self._last_pod: dict[str, Node] = {}
        self._known: set[str] = set()
        self.parent_metrics: dict[str, Any] = {}

    # --- reporter protocol -------------------------------------------------------------

    def run_started(self, run_id: str, sandbox: str, resumed: bool) -> None:
        self.workflow = run_id
        self.history = h.History(self.state_dir)
        existing = None
        if resumed:
            with contextlib.suppress(h.RunNotInHistory):
                existing = self.history.get_run(run_id)
        if existing is not None:
            self.run_id = existing.id
            self._known = {s.step_id for s in self.history.steps(existing.id)}
            self.history.set_run_status(existing.id, h.RUNNING, "resumed",
                                        runner_pid=os.getpid())
        else:
            self.run_id = _executor_uid(self.state_dir, run_id) or run_id
            self._known = {s for s, _ in self.spec.steps}
            self.history.create_run(new_run(
                self.spec, run_id=self.run_id, workflow=run_id,
                experiment=self.info.experiment or self.spec.name,
                started_by=self.info.started_by, parameters=self.parameters,
                tags=self.info.tags, git=self.info.git,
                properties={
                    **self.info.properties, "sandbox": sandbox,
                    **run_switches(self.parameters, self.info.regenerate_outputs,
                                   self.info.content_aware)},
                workspace=self.workspace, state_dir=self.state_dir, runner_pid=os.getpid()))
        if self.on_started is not None:
            self.on_started(self.run_id, run_id)
        if self.inner is not None:
            self.inner.run_started(run_id, sandbox, resumed)

    def node_updated(self, node: Node) -> None:
        reused_from = None
        if self.history is not None and (node.type == "Pod" or self.spec.is_kubeline):
            reused_from = self._record(node)
        if self.inner is not None:
            if reused_from and not node.message:  # progress: mark a reused step
                import copy

                node = copy.copy(node)
                node.message = f"reused from run {reused_from}"
            self.inner.node_updated(node)

    def run_finished(self, summary: RunSummary) -> None:
        if self.history is not None:
            status = h.FINISHED if summary.phase == "Succeeded" else h.FAILED
            if self.parent_metrics:
                self.history.set_run_metrics(self.run_id, self.parent_metrics)
            self.history.set_run_status(self.run_id, status, summary.message)
            self.history.close()
            self.history = None
        if self.inner is not None:
            self.inner.run_finished(summary)

    # --- steps -------------------------------------------------------------------------

    def _locate(self, node: Node) -> tuple[str, bool, str] | None:
        """(step id, is it the step's own task node, the pod's path inside the step).

        A kubeline step is the DAG task named by its id (in chunked DAGs too); inside it
        are retry attempts ``id(N)`` or, for Spark steps, several pods. In other manifests
        every pod is a step, named by its display name without a retry suffix."""
        if not self.spec.is_kubeline:
            step = _RETRY_SUFFIX.sub("", node.display_name)
            return step, True, step
        prefix = f"{self.workflow}."
        if not node.name.startswith(prefix):
            return None
        parts = node.name[len(prefix):].split(".")
        for i, part in enumerate(parts):
            base = _RETRY_SUFFIX.sub("", part)
            if base in self._known:
                own = i == len(parts) - 1 and part == base
                sub = ".".join([base, *(_RETRY_SUFFIX.sub("", p) for p in parts[i + 1:])])
                return base, own, sub
        return None

    def _record(self, node: Node) -> str | None:
        """Record a node change; the run a finished step was reused from, if it was."""
        assert self.history is not None
        state = f"{node.phase}:{bool(node.memoization and node.memoization.get('hit'))}"
        if self._phase.get(node.id) == state:
            return None
        located = self._locate(node)
        if located is None:
            return None
        self._phase[node.id] = state
        step, own, sub = located
        if step not in self._known:
            self._known.add(step)
            self._add_step(step)
        if node.type == "Pod":
            starts = self._starts.setdefault(step, {}).setdefault(sub, {})
            starts[node.id] = node.process_starts
            # the step's logs and exit code are its work pod's (a Spark step's driver), not
            # those of a pod that then watched or deleted the work
            control = node.template_name in self.spec.control_templates
            if node.phase == "Running" and not control:
                self.history.step_running(self.run_id, step, self._attempts(step),
                                          node.log_path)
            elif node.phase in _PHASE_STATUS and (not control or step not in self._last_pod):
                self._last_pod[step] = node
        status = _PHASE_STATUS.get(node.phase)
        if own and status is not None and status != h.NOT_STARTED:
            fields = self._finished_fields(node, step)
            self.history.step_finished(self.run_id, step, fields)
            if fields.get("reused"):
                return str(fields.get("reused_from_run") or "")
        return None

    def _attempts(self, step: str) -> int:
        """Process starts of the step's busiest pod (retries of one pod add up; the pods of
        a multi-pod step do not)."""
        return max((sum(d.values()) for d in self._starts.get(step, {}).values()), default=0)

    def _add_step(self, step: str) -> None:
        assert self.history is not None
        self.history.add_step(self.run_id, step, step)

    def _finished_fields(self, node: Node, step: str) -> dict[str, Any]:
        """The step's end: status and message from its task node, exit code and logs from
        its last pod, the rest from the shim's result record."""
        pod = self._last_pod.get(step)
        exit_code = None
        if pod is not None and pod.outputs is not None and pod.outputs.exit_code not in (None,
                                                                                         ""):
            with contextlib.suppress(ValueError):
                exit_code = int(str(pod.outputs.exit_code))
        fields: dict[str, Any] = {
            "status": _PHASE_STATUS[node.phase], "attempts": self._attempts(step),
            "exit_code": exit_code, "message": node.message or (pod.message if pod else ""),
            "log_dir": (pod.log_path or None) if pod else None,
        }
        if pod is not None and pod.log_path:
            fields.update(log_fields(pod.log_path, failed=node.phase != "Succeeded"))
        result = self._result(step)
        if result is None and node.memoization and node.memoization.get("hit"):
            result = self._memoized_result(node)
        if result is not None:
            fields.update(result_fields(result))
            if result.get("error") and not node.message:
                fields["message"] = str(result["error"])
            merge_metrics(self.parent_metrics, result.get("parent_metrics") or {})
        return fields

    def _memoized_result(self, node: Node) -> dict[str, Any]:
        """A memoize hit runs no pod, so no result record: the cached outputs say which key
        and which run (``origin``); the key's index record has the outputs and tags."""
        values = {str(p.get("name")): p.get("value")
                  for p in (node.outputs.parameters if node.outputs else [])}
        key = str(values.get("key") or "")
        result: dict[str, Any] = {"key": key or None, "status": "reused", "timings": {}}
        with contextlib.suppress(ValueError, TypeError):
            result["reused_from"] = json.loads(str(values.get("origin") or "{}")) or None
        with contextlib.suppress(ValueError, TypeError):
            result["metrics"] = json.loads(str(values.get("metrics") or "{}"))
        index = self._read(f"kubeline/cache/{key}.json") if key else None
        if index is not None:
            result["outputs"] = index.get("outputs") or {}
            result["tags"] = index.get("tags") or {}
            result.setdefault("metrics", index.get("metrics") or {})
        return result

    def _read(self, key: str) -> dict[str, Any] | None:
        """A JSON record in the pipeline's default datastore, or None."""
        from kubeline.exceptions import KubelineError

        try:
            if self._store is None:
                from kubeline.runtime.datastores import Datastores

                self._store = Datastores(self.spec.datastores, self.spec.default_datastore,
                                         self.workspace).default
        except (KubelineError, OSError, ValueError):
            return None
        return read_record(self._store, key)

    def _result(self, step: str) -> dict[str, Any] | None:
        """The shim's step result, or None (not a kubeline step, or the shim died first)."""
        if not self.spec.is_kubeline:
            return None
        return self._read(result_key(self.run_id, step))


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set variables the executor passes to every node (it copies os.environ at start)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_with_history(docs: list[dict[str, Any]], *, parameters: Mapping[str, str],
                     state_dir: Path, info: RunInfo, resume: str | None = None,
                     parallelism: int | None = None, reporter: Reporter | None = None,
                     on_started: Callable[[str, str], None] | None = None,
                     stored_manifest: bool = False) -> tuple[RunSummary, str]:
    """Run (or resume) a manifest with the local executor, recording it in the history;
    returns the summary and the history's run id. With stored_manifest (resume only) docs
    are the executor's stored manifest, so the executor is not asked to compare them."""
    from kubeline.local.executor import run_manifest

    state_dir = Path(state_dir).resolve()
    parameters = dict(parameters)
    if resume is None:
        from kubeline.local.param_types import check_parameter_values

        check_parameter_values(docs, parameters)
    env = {}
    if info.regenerate_outputs:
        if REGENERATE_PARAMETER in effective_parameters(docs, {}):
            parameters[REGENERATE_PARAMETER] = "true"
        else:  # manifests compiled before the argument existed
            env["KUBELINE_REGENERATE_OUTPUTS"] = "true"
    if os.environ.get(CONTENT_AWARE_ENV, "").strip().lower() == "true" and not info.content_aware:
        info = dataclasses.replace(info, content_aware=True)
    if info.content_aware:
        if CONTENT_AWARE_PARAMETER in effective_parameters(docs, {}):
            parameters[CONTENT_AWARE_PARAMETER] = "true"
        else:
            env[CONTENT_AWARE_ENV] = "true"
    if info.workspace:
        env["KUBELINE_WORKSPACE"] = info.workspace
    # a killed local step's compute lease is taken over after this long without a beat
    # (the runtime's default suits pods on other machines; here 20 s is plenty)
    env["KUBELINE_LEASE_SECONDS"] = os.environ.get("KUBELINE_LEASE_SECONDS", "20")
    recorder = HistoryRecorder(state_dir, docs, parameters, info, reporter,
                               on_started=on_started)
    env["KUBELINE_EXPERIMENT"] = info.experiment or recorder.spec.name
    status, message = h.FAILED, "the runner stopped before the run finished"
    try:
        with _environment(env):
            summary = run_manifest([] if stored_manifest else docs,
                                   parameters=dict(parameters), state_dir=state_dir,
                                   resume=resume, parallelism=parallelism, reporter=recorder)
    except KeyboardInterrupt:
        status, message = h.CANCELED, "interrupted"
        raise
    finally:
        if recorder.history is not None:  # the run stopped without run_finished
            with contextlib.suppress(Exception):
                recorder.history.set_run_status(recorder.run_id, status, message,
                                                only_if_not_terminal=True)
            recorder.history.close()
    return summary, recorder.run_id


def resume_recorded(state_dir: Path, ref: str, *, parallelism: int | None = None,
                    reporter: Reporter | None = None) -> tuple[RunSummary, str]:
    """Finish a run whose runner died (``kubeline runs resume``): the executor replays the
    manifest and parameters it stored, reusing every finished step."""
    from kubeline.exceptions import KubelineError

    state_dir = Path(state_dir).resolve()
    with h.History(state_dir) as db:
        run = db.get_run(ref)
    if run.status == h.FINISHED:
        raise KubelineError(f"run {run.id} already finished", "nothing to resume")
    try:
        raw = sqlite3.connect(f"file:{state_dir / 'runs.db'}?mode=ro", uri=True, timeout=30.0)
        try:
            row = raw.execute("SELECT manifest FROM runs WHERE id = ?",
                              (run.workflow,)).fetchone()
        finally:
            raw.close()
    except sqlite3.Error as exc:
        raise KubelineError(f"the executor state {state_dir / 'runs.db'} cannot be read "
                            f"({exc})") from exc
    if row is None:
        raise KubelineError(f"run {run.id}: workflow {run.workflow} is not in "
                            f"{state_dir / 'runs.db'}", "was the state directory cleaned?")
    docs = json.loads(row[0])
    if isinstance(docs, str):  # the executor stores its canonical JSON text as a JSON string
        docs = json.loads(docs)
    info = RunInfo(started_by=run.started_by, experiment=run.experiment,
                   workspace=str(run.properties.get("workspace") or "") or None)
    return run_with_history(docs, parameters={}, state_dir=state_dir, info=info,
                            resume=run.workflow, parallelism=parallelism, reporter=reporter,
                            stored_manifest=True)
