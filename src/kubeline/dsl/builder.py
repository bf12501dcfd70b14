"""Build and validate the PipelineGraph from DSL objects, collecting every problem at once."""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.datapaths import DatastorePathError, safe_name, safe_path
from kubeline.dsl.compute import ComputeTarget
from kubeline.dsl.data import (
    DataPath,
    DataPathComputeBinding,
    DataReference,
    PipelineData,
    PipelineParameter,
)
from kubeline.dsl.spark_steps import SparkStep
from kubeline.dsl.steps import PipelineStep, PythonScriptStep
from kubeline.dsl.transfer import DataTransferStep
from kubeline.exceptions import KubelineError
from kubeline.graph.model import (
    Arg,
    DataPathValue,
    DataRef,
    GitInfo,
    Lit,
    Parameter,
    ParamRef,
    PipelineGraph,
    Step,
    StepInput,
    StepOutput,
)
from kubeline.graph.names import dns_label, param_name

if TYPE_CHECKING:
    from kubeline.dsl.workspace import Workspace


def _upstream(step: PipelineStep) -> list[PipelineStep]:
    found: list[PipelineStep] = list(step._run_after)
    for item in step.inputs:
        if isinstance(item, PipelineData):
            found.extend(item._origin._producers)
    return found


def resolve_closure(steps: list[PipelineStep]) -> list[PipelineStep]:
    """The listed steps plus, transitively, every producer of data they consume; a pulled-in
    producer comes before the step that needed it (iterative, so 10,000-step chains work)."""
    out: list[PipelineStep] = []
    done: set[int] = set()
    entered: set[int] = set()  # a cycle is reported by the graph checks, not looped on here
    for root in steps:
        stack: list[tuple[PipelineStep, bool]] = [(root, False)]
        while stack:
            step, expanded = stack.pop()
            if id(step) in done:
                continue
            if expanded:
                done.add(id(step))
                out.append(step)
                continue
            if id(step) in entered:
                continue
            entered.add(id(step))
            stack.append((step, True))
            stack.extend((up, False) for up in reversed(_upstream(step)) if id(up) not in entered)
    return out


@dataclass
class _Analysed:
    """One step's graph record plus what the cross-step checks need."""

    step: Step
    consumed: list[tuple[str, PipelineData]] = field(default_factory=list)


class GraphBuilder:
    """Turns DSL steps into a PipelineGraph; ``problems()`` lists every defect, one line each."""

    def __init__(self, *, workspace: Workspace, steps: list[PipelineStep], name: str,
                 description: str, default_datastore: str,
                 default_source_directory: str | None, resolve_closure: bool,
                 base_dir: Path) -> None:
        self.ws = workspace
        self.name = name
        self.description = description
        self.default_datastore = default_datastore
        self.default_source_directory = default_source_directory
        self.base_dir = base_dir
        self.dsl_steps = globals()["resolve_closure"](steps) if resolve_closure else steps
        self._problems: list[str] = []
        self._params: dict[str, PipelineParameter] = {}
        self._git: GitInfo | None = None
        self._snapshots: dict[tuple[str, tuple[str, ...]], tuple[str, str]] = {}
        self._folders: set[Path] = set()
        self._scripts: dict[tuple[str, str], bool] = {}
        self._ids = {id(s): dns_label(s.name) for s in self.dsl_steps}
        self._makers: dict[int, list[PipelineStep]] = {}  # id(PipelineData origin) -> producers
        for dsl in self.dsl_steps:
            for out in dsl.outputs:
                if isinstance(out, PipelineData):
                    self._makers.setdefault(id(out._origin), []).append(dsl)
        self._analysed = [self._analyse(s) for s in self.dsl_steps]
        self._check_names()
        self._order = self._link()
        self._git = self._revision()

    # -- public -------------------------------------------------------------------------------
    def problems(self) -> list[str]:
        return list(self._problems)

    def build(self) -> PipelineGraph:
        steps = tuple(self._order)
        params = tuple(self._parameter(p) for _, p in sorted(self._params.items()))
        stores = sorted({i.datastore for s in steps for i in s.inputs}
                        | {o.datastore for s in steps for o in s.outputs}
                        | {self.default_datastore} | _settings_stores(steps))
        return PipelineGraph(name=self.name, parameters=params, steps=steps,
                             default_datastore=self.default_datastore,
                             description=self.description, git=self._git,
                             datastores=tuple(stores))

    # -- per step -----------------------------------------------------------------------------
    def _problem(self, step: PipelineStep | None, text: str) -> None:
        prefix = f"step '{step.name}': " if step is not None else ""
        self._problems.append(prefix + text)

    def _analyse(self, dsl: PipelineStep) -> _Analysed:
        source_rel, snapshot = self._snapshot(dsl)
        inputs, consumed = self._inputs(dsl)
        outputs = self._outputs(dsl)
        known = {i.name for i in inputs} | {o.name for o in outputs}
        arguments = tuple(self._arg(dsl, a, known) for a in dsl.arguments)
        params = tuple((k, self._arg(dsl, v, known)) for k, v in sorted(dsl.params.items()))
        default_image = "" if isinstance(dsl, SparkStep) else self.ws.config.cluster.default_image
        image = dsl.runconfig.image(default_image) if dsl.runconfig else default_image
        settings, script = self._settings(dsl)
        step_id = self._ids[id(dsl)]
        deps = {self._ids[id(s)] for s in dsl._run_after if id(s) in self._ids}
        deps |= {i.producer for i in inputs if i.producer}
        step = Step(
            id=step_id,
            name=dsl.name,
            kind=dsl.kind,  # type: ignore[arg-type]
            image=image,
            script=dsl.script_name if isinstance(dsl, PythonScriptStep) else script,
            command=(),
            arguments=arguments,
            params=params,
            inputs=inputs,
            outputs=outputs,
            source_directory=source_rel,
            snapshot=snapshot,
            compute_target=self._compute(dsl),
            allow_reuse=bool(dsl.allow_reuse),
            version=dsl.version or "",
            hash_paths=tuple(str(p) for p in dsl.hash_paths),
            settings=settings,
            depends_on=tuple(sorted(deps - {step_id})),
        )
        return _Analysed(step=step, consumed=consumed)

    def _settings(self, dsl: PipelineStep) -> tuple[str, str]:
        """Kind-specific settings as canonical JSON, and the script a Spark step runs."""
        import json

        if isinstance(dsl, SparkStep):
            data = dsl.spark_settings()
            script = str(data.get("script", "")) if "script_uri" not in data else ""
            return json.dumps(data, sort_keys=True, separators=(",", ":")), script
        if isinstance(dsl, DataTransferStep):
            data = dsl.transfer_settings()
            self._datastore(dsl, data["destination"]["datastore"])
            return json.dumps(data, sort_keys=True, separators=(",", ":")), ""
        kind_settings = getattr(dsl, "kind_settings", None)  # ParallelRunStep
        if callable(kind_settings):
            data, script = kind_settings()
            return json.dumps(data, sort_keys=True, separators=(",", ":")), script
        return "", ""

    def _snapshot(self, dsl: PipelineStep) -> tuple[str, str]:
        if isinstance(dsl, DataTransferStep):
            return "", ""  # moves data only: no code

        folder = dsl.source_directory or self.default_source_directory or "."
        cache_key = (folder, tuple(str(p) for p in dsl.hash_paths))
        if cache_key not in self._snapshots:
            self._snapshots[cache_key] = self._fingerprint(dsl, folder)
        rel, digest = self._snapshots[cache_key]
        if digest:  # the folder exists: check this step's own script in it
            self._check_scripts(dsl, folder)
        return rel, digest

    def _check_scripts(self, dsl: PipelineStep, folder: str) -> None:
        if isinstance(dsl, PythonScriptStep) and not self._script_exists(folder,
                                                                          dsl.script_name):
            self._problem(dsl, f"script '{dsl.script_name}' is not in source_directory '{folder}' "
                               "(fix script_name or source_directory)")
        spark_script = (dsl.spark_settings().get("script", "") if isinstance(dsl, SparkStep)
                        else "")
        if spark_script and not self._script_exists(folder, spark_script):
            self._problem(dsl, f"script '{spark_script}' is not in source_directory '{folder}' "
                               "(fix the script path or source_directory)")

    def _script_exists(self, folder: str, script: str) -> bool:
        """One look per (folder, script): many steps of a pipeline run the same script."""
        key = (folder, script)
        if key not in self._scripts:
            self._scripts[key] = (self.base_dir / folder / script).is_file()
        return self._scripts[key]

    def _fingerprint(self, dsl: PipelineStep, folder: str) -> tuple[str, str]:
        from kubeline.reuse.snapshot import fingerprint

        path = (self.base_dir / folder).resolve()
        rel = Path(os.path.relpath(path, self.base_dir.resolve())).as_posix()
        if not path.is_dir():
            self._problem(dsl, f"source_directory '{folder}' does not exist "
                               f"(create it or fix the path; it is relative to {self.base_dir})")
            return rel, ""
        try:
            digest = fingerprint(path, dsl.hash_paths, with_git=False).hash
        except KubelineError as exc:
            self._problem(dsl, str(exc))
            return rel, ""
        self._folders.add(path)
        return rel, digest

    def _revision(self) -> GitInfo | None:
        from kubeline.reuse.snapshot import source_revision

        info = source_revision(sorted(self._folders))
        if info is None or not info.commit:
            return None
        return GitInfo(commit=info.commit, branch=info.branch or "", dirty=info.dirty)

    def _compute(self, dsl: PipelineStep) -> str:
        target = dsl.compute_target
        if target is None:
            return ""
        name = target.name if isinstance(target, ComputeTarget) else str(target)
        config = self.ws.config.compute_targets.get(name)
        if config is None:
            known = ", ".join(sorted(self.ws.config.compute_targets)) or "none"
            self._problem(dsl, f"compute target '{name}' is not in the workspace "
                               f"(known: {known}; create it with ComputeTarget.create)")
        elif isinstance(dsl, SparkStep) and config.type not in _SPARK_TARGETS:
            self._problem(dsl, f"compute target '{name}' is a {config.type}; Spark steps run "
                               "on a DatabricksCompute or AdlaCompute target (size the "
                               "Spark pods with node_type)")
        elif not isinstance(dsl, SparkStep) and config.type in _SPARK_TARGETS:
            self._problem(dsl, f"compute target '{name}' is a {config.type}, which only "
                               "DatabricksStep and AdlaStep can use (pick an AmlCompute or "
                               "KubernetesCompute target)")
        return name

    def _datastore(self, dsl: PipelineStep, name: str) -> str:
        if name not in self.ws.config.datastores:
            known = ", ".join(sorted(self.ws.config.datastores))
            self._problem(dsl, f"datastore '{name}' is not registered "
                               f"(known: {known}; register it with Datastore.register_*)")
        return name

    def _inputs(self, dsl: PipelineStep) -> tuple[tuple[StepInput, ...],
                                                 list[tuple[str, PipelineData]]]:
        inputs: list[StepInput] = []
        consumed: list[tuple[str, PipelineData]] = []
        for item in dsl.inputs:
            if isinstance(item, DataReference):
                inputs.append(StepInput(
                    name=item.data_reference_name, source="datastore",
                    datastore=self._datastore(dsl, item.datastore.name),
                    mode="direct" if isinstance(dsl, SparkStep) else _mode(item.mode),
                    path=self._path(dsl, item.path_on_datastore,
                                    f"input '{item.data_reference_name}': path_on_datastore",
                                    item.datastore.name),
                    path_on_compute=item.path_on_compute or "",
                    overwrite=item.overwrite))
            elif isinstance(item, PipelineData):
                store = item.datastore.name if item.datastore else self.default_datastore
                inputs.append(StepInput(
                    name=item.name, source="pipeline_data",
                    datastore=self._datastore(dsl, store),
                    mode="direct" if isinstance(dsl, SparkStep) else _mode(item._input_mode),
                    path_on_compute=item._input_path_on_compute or "",
                    producer=self._producer(item._origin)))
                consumed.append((item.name, item._origin))
            elif (param := _datapath_param(item)) is not None and isinstance(dsl, SparkStep):
                self._problem(dsl, f"input '{param.name}': DataPath parameters are not "
                                   "supported by Spark steps (use a DataReference)")
            elif (param := _datapath_param(item)) is not None:
                binding = item[1] if isinstance(item, tuple) else DataPathComputeBinding()
                self._register_param(dsl, param)
                default = param.default_value
                self._path(dsl, default.path_on_datastore,
                           f"PipelineParameter '{param.name}': DataPath path",
                           default.datastore.name)
                inputs.append(StepInput(
                    name=param.name, source="datapath_param",
                    datastore=self._datastore(dsl, default.datastore.name),
                    mode=_mode(binding.mode), parameter=param.name,
                    path_on_compute=binding.path_on_compute or "", overwrite=binding.overwrite))
            else:
                self._problem(dsl, f"input {item!r} is not a DataReference, PipelineData or "
                                   "(DataPath PipelineParameter, DataPathComputeBinding)")
        return tuple(inputs), consumed

    def _path(self, dsl: PipelineStep, path: str, what: str, store: str) -> str:
        """A datastore path checked again here: attributes may change after construction."""
        try:
            return safe_path(path, what, store=store)
        except DatastorePathError as exc:
            self._problem(dsl, str(exc))
            return ""

    def _producer(self, origin: PipelineData) -> str:
        """The id of the step producing this PipelineData; "" when none does (_link says so)."""
        makers = self._makers.get(id(origin))
        return self._ids[id(makers[0])] if makers else ""

    def _outputs(self, dsl: PipelineStep) -> tuple[StepOutput, ...]:
        outputs: list[StepOutput] = []
        for item in dsl.outputs:
            if not isinstance(item, PipelineData):
                self._problem(dsl, f"output {item!r} is not a PipelineData")
                continue
            store = item.datastore.name if item.datastore else self.default_datastore
            try:
                safe_name(item.name, "PipelineData")
            except DatastorePathError as exc:
                self._problem(dsl, str(exc))
            outputs.append(StepOutput(
                name=item.name, datastore=self._datastore(dsl, store),
                mode="upload" if item.output_mode == "upload" else "mount",
                path_on_compute=item.output_path_on_compute or "",
                overwrite=item.output_overwrite, is_directory=item.is_directory))
        return tuple(outputs)

    def _arg(self, dsl: PipelineStep, value: Any, known: set[str]) -> Arg:
        if isinstance(value, str):
            return Lit(str(value))  # str() too: a str subclass may print otherwise
        if isinstance(value, PipelineData):  # the commonest after text: checked early
            return self._data_arg(dsl, value.name, known)
        if isinstance(value, (bool, int, float)):
            return Lit(str(value))
        if (param := _datapath_param(value)) is not None:
            return self._data_arg(dsl, param.name, known)
        if isinstance(value, PipelineParameter):
            self._register_param(dsl, value)
            return ParamRef(value.name)
        if isinstance(value, DataReference):
            return self._data_arg(dsl, value.data_reference_name, known)
        self._problem(dsl, f"argument {value!r} has an unsupported type "
                           f"{type(value).__name__} (use str, numbers, data objects or "
                           "PipelineParameter)")
        return Lit(str(value))

    def _data_arg(self, dsl: PipelineStep, name: str, known: set[str]) -> Arg:
        if name not in known:
            self._problem(dsl, f"argument references data '{name}' that is neither an input nor "
                               f"an output (add it to inputs=[...] or outputs=[...])")
        return DataRef(name)

    def _register_param(self, dsl: PipelineStep, param: PipelineParameter) -> None:
        existing = self._params.get(param.name)
        if existing is None:
            self._params[param.name] = param
            if param.type_name is None:
                self._problem(dsl, f"PipelineParameter '{param.name}' has a default of type "
                                   f"{type(param.default_value).__name__} (use str, int, float, "
                                   "bool or DataPath)")
        elif existing is not param and not _same_default(existing, param):
            self._problem(dsl, f"PipelineParameter '{param.name}' is not resolvable: it is "
                               f"defined twice with defaults {existing.default_value!r} and "
                               f"{param.default_value!r} (use one PipelineParameter object)")

    @staticmethod
    def _parameter(param: PipelineParameter) -> Parameter:
        value = param.default_value
        if isinstance(value, DataPath):
            return Parameter(param.name, "datapath",
                             DataPathValue(value.datastore.name, value.path_on_datastore))
        return Parameter(param.name, param.type_name or "string",  # type: ignore[arg-type]
                         value)

    # -- across steps -------------------------------------------------------------------------
    def _check_names(self) -> None:
        by_param: dict[str, list[str]] = {}
        for name in sorted(self._params):
            by_param.setdefault(param_name(name), []).append(name)
        for valid, names in sorted(by_param.items()):
            if valid == RESERVED_PARAMETER:
                self._problems.append(f"PipelineParameter '{names[0]}' uses a name kubeline "
                                      "reserves for regenerate_outputs (rename it)")
            elif len(names) > 1:
                listed = " and ".join(f"'{n}'" for n in names)
                self._problems.append(f"PipelineParameters {listed} collide as '{valid}' once "
                                      "made valid for Argo (rename one of them)")
        by_id: dict[str, list[str]] = {}
        for analysed in self._analysed:
            by_id.setdefault(analysed.step.id, []).append(analysed.step.name)
        for step_id, names in sorted(by_id.items()):
            if len(names) > 1:
                uniq = sorted(set(names))
                if len(uniq) == 1:
                    self._problems.append(f"step '{uniq[0]}': the name is used by {len(names)} "
                                          "steps (give each step a unique name=...)")
                else:
                    listed = " and ".join(f"'{n}'" for n in uniq)
                    self._problems.append(f"steps {listed} collide as '{step_id}' once made "
                                          "valid for Kubernetes (rename one of them)")
        for dsl, analysed in zip(self.dsl_steps, self._analysed, strict=True):
            seen: dict[str, str] = {}
            names = [i.name for i in analysed.step.inputs] + [o.name for o in analysed.step.outputs]
            for data_name in names:
                key = param_name(data_name)
                if key in seen and seen[key] != data_name:
                    self._problem(dsl, f"data names '{seen[key]}' and '{data_name}' collide as "
                                       f"'{key}' once made valid for Argo (rename one)")
                elif key in seen:
                    self._problem(dsl, f"data name '{data_name}' is used twice in this step "
                                       "(give each input and output a unique name)")
                seen[key] = data_name

    def _link(self) -> list[Step]:
        """Report data with no or several producers, then order steps topologically (ties by
        id); report cycles. Producers and dependencies were set while analysing."""
        for origin_id, makers in self._makers.items():
            if len(makers) > 1:
                data = next(o for o in makers[0].outputs if id(getattr(o, "_origin", None))
                            == origin_id)
                listed = " and ".join(f"'{m.name}'" for m in makers)
                self._problems.append(f"PipelineData '{data.name}' is produced by steps {listed} "
                                      "(each PipelineData needs exactly one producing step)")
        for dsl, analysed in zip(self.dsl_steps, self._analysed, strict=True):
            for name, origin in analysed.consumed:
                if id(origin) not in self._makers:
                    self._problem(dsl, f"consumes PipelineData '{name}' that no step in the "
                                       "pipeline produces (add the producing step, or list it "
                                       "in outputs=[...] of a step)")
        return self._toposort([a.step for a in self._analysed])

    def _toposort(self, steps: list[Step]) -> list[Step]:
        by_id = {s.id: s for s in steps}
        indegree = {s.id: sum(1 for d in s.depends_on if d in by_id) for s in steps}
        children: dict[str, list[str]] = {}
        for s in steps:
            for dep in s.depends_on:
                children.setdefault(dep, []).append(s.id)
        ready = [sid for sid, deg in indegree.items() if deg == 0]
        heapq.heapify(ready)
        order: list[Step] = []
        while ready:
            sid = heapq.heappop(ready)
            order.append(by_id[sid])
            for child in children.get(sid, ()):
                indegree[child] -= 1
                if indegree[child] == 0:
                    heapq.heappush(ready, child)
        if len(order) < len(by_id):
            stuck = sorted(sid for sid, deg in indegree.items() if deg > 0)
            names = ", ".join(f"'{by_id[s].name}'" for s in stuck)
            self._problems.append(f"dependency cycle between steps {names} "
                                  "(a step cannot consume data produced after it)")
        return order


RESERVED_PARAMETER = "kubeline-regenerate-outputs"  # the compiler's own workflow argument


_SPARK_TARGETS = ("DatabricksCompute", "AdlaCompute")


def _settings_stores(steps: Iterable[Step]) -> set[str]:
    """Datastores named only in settings: a DataTransferStep's destination."""
    import json

    found: set[str] = set()
    for step in steps:
        if step.kind == "data_transfer" and step.settings:
            found.add(json.loads(step.settings)["destination"]["datastore"])
    return found


def _mode(mode: str) -> Any:
    return mode if mode in ("mount", "download", "direct") else "mount"


def _datapath_param(value: Any) -> PipelineParameter | None:
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], PipelineParameter):
        value = value[0]
    if isinstance(value, PipelineParameter) and isinstance(value.default_value, DataPath):
        return value
    return None


def _same_default(a: PipelineParameter, b: PipelineParameter) -> bool:
    if isinstance(a.default_value, DataPath) and isinstance(b.default_value, DataPath):
        return (a.default_value.datastore.name, a.default_value.path_on_datastore) == (
            b.default_value.datastore.name, b.default_value.path_on_datastore)
    return bool(a.default_value == b.default_value and type(a.default_value)
                is type(b.default_value))

