"""Fill the run history from a local run: the executor's progress events plus each step's
result record (``kubeline/runs/<run>/steps/<step>/result.json``, docs/runtime.md).

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.graph.stepspec import unpack
from kubeline.local import history as h

if TYPE_CHECKING:
    from kubeline.local.executor import Reporter
    from kubeline.local.nodes import Node
    from kubeline.local.summary import RunSummary
    from kubeline.stores import Store

REGENERATE_PARAMETER = "kubeline-regenerate-outputs"
"""The workflow argument the compiler maps to the shim's KUBELINE_REGENERATE_OUTPUTS."""
CONTENT_AWARE_PARAMETER = "kubeline-content-aware"
"""The workflow argument the compiler maps to the shim's KUBELINE_CONTENT_AWARE."""
CONTENT_AWARE_ENV = "KUBELINE_CONTENT_AWARE"
"""Set to true in the environment of a submitting process: its runs are content-aware."""
INTERNAL_PREFIX = "kubeline-"
_RETRY_SUFFIX = re.compile(r"\(\d+\)$")
TAIL_LINES = 20
TAIL_CHARS = 4000
_PHASE_STATUS = {"Succeeded": h.FINISHED, "Failed": h.FAILED, "Error": h.FAILED,
                 "Skipped": h.NOT_STARTED, "Omitted": h.NOT_STARTED}


@dataclass(frozen=True)
class PipelineSpecInfo:
    """What the compiled manifest says about the kubeline pipeline inside it (if any)."""

    name: str
    default_datastore: str
    datastores: dict[str, dict[str, Any]]
    steps: list[tuple[str, str]]
    snapshots: dict[str, str]
    base_name: str
    # resource templates that watch or clean up what another pod of the step did (a
    # SparkApplication's get and delete): their pods never stand for the step's work
    control_templates: frozenset[str] = frozenset()

    @staticmethod
    def from_docs(docs: list[dict[str, Any]]) -> PipelineSpecInfo:
        files: dict[str, str] = {}
        workflow: dict[str, Any] = {}
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            if doc.get("kind") == "ConfigMap":
                files.update({str(k): str(v) for k, v in (doc.get("data") or {}).items()})
            elif doc.get("kind") in ("Workflow", "WorkflowTemplate"):
                workflow = doc
        meta = workflow.get("metadata") or {}
        base = str(meta.get("name") or meta.get("generateName") or "workflow").rstrip("-")
        annotations = meta.get("annotations") or {}
        pipeline = json.loads(files["pipeline.json"]) if "pipeline.json" in files else None
        control = _control_templates(workflow)
        if pipeline is None:
            return PipelineSpecInfo(base, "", {}, [], {}, base, control)
        names: dict[str, str] = json.loads(annotations.get("kubeline.io/step-names", "{}"))
        defaults = dict(pipeline.get("step_defaults") or {})
        store = str(pipeline.get("default_datastore", ""))
        specs = {k[5:-5]: unpack(k[5:-5], json.loads(v), defaults, store)
                 for k, v in files.items() if k.startswith("step.") and k.endswith(".json")}
        order = [s for s in _dag_order(workflow) if s in specs]
        order += sorted(s for s in specs if s not in order)
        return PipelineSpecInfo(
            name=str(annotations.get("kubeline.io/pipeline-name") or pipeline.get("name") or base),
            default_datastore=str(pipeline.get("default_datastore", "")),
            datastores=dict(pipeline.get("datastores", {})),
            steps=[(s, names.get(s) or str(specs[s].get("name") or s)) for s in order],
            snapshots={s: str(specs[s]["snapshot"]) for s in order if specs[s].get("snapshot")},
            base_name=base,
            control_templates=control,
        )

    @property
    def is_kubeline(self) -> bool:
        return bool(self.default_datastore)


def _control_templates(workflow: dict[str, Any]) -> frozenset[str]:
    """Resource templates other than create/apply: their logs and exit codes are about
    watching or deleting, not about the step's work."""
    return frozenset(
        str(t.get("name")) for t in (workflow.get("spec") or {}).get("templates") or []
        if isinstance(t.get("resource"), dict)
        and str(t["resource"].get("action", "")) not in ("create", "apply"))


def _dag_order(workflow: dict[str, Any]) -> list[str]:
    """Task names in the order the DAG templates list them (the compiler's topological order)."""
    out: list[str] = []
    for tmpl in (workflow.get("spec") or {}).get("templates") or []:
        for task in (tmpl.get("dag") or {}).get("tasks") or []:
            name = str(task.get("name", ""))
            if name and name not in out:
                out.append(name)
    return out


@dataclass
class RunInfo:
    """What the starter of a run knows that the manifest does not."""

    started_by: str
    experiment: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    git: dict[str, Any] | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    regenerate_outputs: bool = False
    workspace: str | None = None
    content_aware: bool = False  # DataReference inputs' ETags enter their steps' keys


def effective_parameters(docs: list[dict[str, Any]], overrides: Mapping[str, str]
                         ) -> dict[str, str]:
    """Workflow argument values after -p overrides (what the run uses)."""
    values: dict[str, str] = {}
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") in ("Workflow", "WorkflowTemplate"):
            for p in ((doc.get("spec") or {}).get("arguments") or {}).get("parameters") or []:
                value = p.get("value", p.get("default"))
                values[str(p.get("name"))] = "" if value is None else str(value)
    values.update({k: str(v) for k, v in overrides.items()})
    return values


def tail(path: Path, lines: int = TAIL_LINES, chars: int = TAIL_CHARS) -> str:
    """The last lines of a log file (reads only its end)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - chars))
            data = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(data.rstrip("\n").splitlines()[-lines:])


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


def merge_metrics(target: dict[str, Any], metrics: Mapping[str, Any]) -> None:
    """AML aggregation across steps: one value stays a value, more become a list."""
    for name, value in metrics.items():
        if name not in target:
            target[name] = value
            continue
        old = target[name]
        old_list = old if isinstance(old, list) else [old]
        target[name] = old_list + (value if isinstance(value, list) else [value])


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
            self.run_id = self._new_run_id(run_id)
            self._known = {s for s, _ in self.spec.steps}
            self.history.create_run(h.NewRun(
                id=self.run_id,
                experiment=self.info.experiment or self.spec.name,
                pipeline=self.spec.name,
                workflow=run_id,
                started_by=self.info.started_by,
                parameters={k: v for k, v in self.parameters.items()
                            if not k.startswith(INTERNAL_PREFIX)},
                tags=self.info.tags,
                snapshots=self.spec.snapshots,
                git=self.info.git,
                properties={
                    **self.info.properties,
                    "regenerate_outputs": self.info.regenerate_outputs
                    or self.parameters.get(REGENERATE_PARAMETER) == "true",
                    "content_aware": self.info.content_aware
                    or self.parameters.get(CONTENT_AWARE_PARAMETER) == "true",
                    "default_datastore": self.spec.default_datastore,
                    "datastores": self.spec.datastores,
                    "workspace": str(self.workspace),
                    "state_dir": str(self.state_dir),
                    "sandbox": sandbox,
                },
                steps=self.spec.steps,
                runner_pid=os.getpid(),
            ))
        if self.on_started is not None:
            self.on_started(self.run_id, run_id)
        if self.inner is not None:
            self.inner.run_started(run_id, sandbox, resumed)

    def _new_run_id(self, workflow: str) -> str:
        """The history id of a new run: the workflow uid its shims write under."""
        return _executor_uid(self.state_dir, workflow) or workflow

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
        with self.history._write():
            self.history.db.execute(
                "INSERT OR IGNORE INTO steps (run_id, step_id, name, position, status) "
                "VALUES (?, ?, ?, (SELECT COUNT(*) FROM steps WHERE run_id = ?), ?)",
                (self.run_id, step, step, self.run_id, h.NOT_STARTED))

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
            fields["stdout_location"] = str(Path(pod.log_path) / "main.stdout")
            fields["stderr_location"] = str(Path(pod.log_path) / "main.stderr")
            if node.phase != "Succeeded":
                fields["stderr_tail"] = tail(Path(pod.log_path) / "main.stderr")
        result = self._result(step)
        if result is None and node.memoization and node.memoization.get("hit"):
            result = self._memoized_result(node)
        if result is not None:
            reused_from = result.get("reused_from") or {}
            fields.update({
                "key": result.get("key"), "reused": result.get("status") == "reused",
                "reused_from_run": reused_from.get("run_id"),
                "reused_from_step": reused_from.get("step_id"),
                "metrics": result.get("metrics") or {}, "tags": result.get("tags") or {},
                "outputs": result.get("outputs") or {}, "timings": result.get("timings") or {},
            })
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
            if not self._store.exists(key):
                return None
            data: dict[str, Any] = json.loads(self._store.get_bytes(key))
        except (KubelineError, OSError, ValueError):
            return None
        return data

    def _result(self, step: str) -> dict[str, Any] | None:
        """The shim's step result, or None (not a kubeline step, or the shim died first)."""
        if not self.spec.is_kubeline:
            return None
        from kubeline.exceptions import KubelineError
        from kubeline.runtime.layout import step_dir

        try:
            if self._store is None:
                from kubeline.runtime.datastores import Datastores

                self._store = Datastores(self.spec.datastores, self.spec.default_datastore,
                                         self.workspace).default
            key = f"{step_dir(self.run_id, step)}/result.json"
            if not self._store.exists(key):
                return None
            data: dict[str, Any] = json.loads(self._store.get_bytes(key))
        except (KubelineError, OSError, ValueError):
            return None
        return data


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
