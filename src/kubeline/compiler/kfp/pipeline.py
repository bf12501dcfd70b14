"""Assemble a pipeline graph into a KFP v2 PipelineSpec and its kubernetes platform spec.

The output is what ``kfp.compiler.Compiler`` writes: one YAML stream with the PipelineSpec
and, when any step needs node placement, Secrets or pod metadata, a second document with
the platform spec in kfp-kubernetes' shape. It is deterministic: no timestamps, no versions,
sorted maps. What KFP cannot express is refused with one line naming the step and feature.
"""

from __future__ import annotations

import logging
from typing import Any

from kubeline._gc import paused_gc
from kubeline.compiler.argo.compiled import CompiledPipeline
from kubeline.compiler.argo.spec import PIPELINE_KEY, spec_files, step_key
from kubeline.compiler.argo.templates import datastore_secret_refs, step_scheduling
from kubeline.compiler.argo.workflow import MANAGED_BY
from kubeline.compiler.kfp.components import (
    DATASET,
    ENTRY_COMMAND,
    Importer,
    StepParts,
    base_args,
    importer_parts,
    importers,
    step_parts,
)
from kubeline.compiler.kfp.names import (
    CONTENT_AWARE,
    PARAMETER_TYPES,
    REGENERATE,
    identifier,
    parameter_names,
)
from kubeline.compiler.kfp.platform import executor_config, resources
from kubeline.exceptions import KubelineError
from kubeline.graph.model import DataPathValue, Parameter, PipelineGraph, Step
from kubeline.graph.names import dns_label, param_name
from kubeline.stores.config import LocalDatastore
from kubeline.workspace.config import WorkspaceConfig

SCHEMA_VERSION = "2.1.0"
SDK_VERSION = "kubeline"  # no version number: the same pipeline gives the same bytes
_LOG = logging.getLogger("kubeline.compile")
HEADER = "# Kubeflow Pipelines v2 PipelineSpec, compiled by kubeline (compile --target kfp)"


def _default(param: Parameter) -> Any:
    value = param.default
    if isinstance(value, DataPathValue):
        return {"datastore": value.datastore, "path": value.path}
    if param.type == "float":
        return float(value)
    return value


def refuse_unsupported(graph: PipelineGraph, config: WorkspaceConfig) -> None:
    """One line for the first feature KFP cannot express."""
    if config.cluster.runtime == "inject":
        raise KubelineError("cluster.runtime 'inject' has no KFP counterpart (KFP components "
                            "have no init containers to copy the runtime in)",
                            "use runtime: installed with images that contain kubeline, or "
                            "compile with --target argo")
    outputs = {step.id: {o.name for o in step.outputs} for step in graph.steps}
    for step in graph.steps:
        if step.kind == "spark":
            raise KubelineError(f"step '{step.name}': Spark steps (DatabricksStep/AdlaStep) "
                                "have no KFP counterpart (KFP v2 cannot create and watch a "
                                "SparkApplication)", "compile this pipeline with --target argo")
        if step.kind == "hyperdrive":
            raise KubelineError(f"step '{step.name}': HyperDriveStep is not compiled for KFP "
                                "yet (its trials are an Argo fan-out)",
                                "compile this pipeline with --target argo")
        for item in step.inputs:
            if item.source == "pipeline_data" and item.name not in outputs.get(item.producer,
                                                                              ()):
                raise KubelineError(f"step '{step.name}': input '{item.name}' names no output "
                                    f"of step '{item.producer}'", "recompile the pipeline")


def _transfer_parts(step: Step, spec: tuple[str, str]) -> StepParts:
    """A DataTransferStep: the entry point copies source to destination with kubeline's
    datastore drivers (KFP has no artifact drivers that write to a chosen location). Never
    cached: the destination is outside KFP's view, so a cache hit could skip a needed copy."""
    args = [*base_args(step, spec), "--transfer"]
    task: dict[str, Any] = {"cachingOptions": {}, "componentRef": {"name": f"comp-{step.id}"}}
    if step.depends_on:
        task["dependentTasks"] = sorted(step.depends_on)
    task["taskInfo"] = {"name": step.name}
    return StepParts({"executorLabel": f"exec-{step.id}"},
                     {"container": {"args": args, "command": list(ENTRY_COMMAND),
                                    "image": step.image}},
                     task)


def pipeline_outputs(graph: PipelineGraph) -> dict[str, tuple[str, str]]:
    """The pipeline's own outputs: every PipelineData no step of it reads (what a caller of
    the loaded pipeline gets back), by name -> (producer step, output artifact). A name two
    steps share is prefixed with the step's."""
    read = {(i.producer, i.name) for s in graph.steps for i in s.inputs if i.producer}
    sinks = [(s.id, param_name(o.name)) for s in graph.steps if s.kind != "data_transfer"
             for o in s.outputs if (s.id, o.name) not in read]
    counts: dict[str, int] = {}
    for _, name in sinks:
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(
        ((name if counts[name] == 1 else f"{identifier(step)}__{name}"), (step, name))
        for step, name in sinks))


def _root(tasks: dict[str, Any], params: dict[str, Any],
          outputs: dict[str, tuple[str, str]]) -> dict[str, Any]:
    dag: dict[str, Any] = {}
    if outputs:
        dag["outputs"] = {"artifacts": {
            name: {"artifactSelectors": [{"outputArtifactKey": key, "producerSubtask": step}]}
            for name, (step, key) in outputs.items()}}
    dag["tasks"] = dict(sorted(tasks.items()))
    root: dict[str, Any] = {"dag": dag, "inputDefinitions": {"parameters": dict(sorted(
        params.items()))}}
    if outputs:
        root["outputDefinitions"] = {"artifacts": {name: {"artifactType": dict(DATASET)}
                                                   for name in outputs}}
    return root


def compile_graph_kfp(graph: PipelineGraph, config: WorkspaceConfig,
                      files: dict[str, str] | None = None) -> CompiledPipeline:
    """Graph -> [PipelineSpec, platform spec?] as plain dicts, deterministic. The cyclic GC
    is paused: a large pipeline allocates many small dicts and none of them are garbage."""
    with paused_gc():
        return _compile(graph, config, files)


def _warn_local_datastores(graph: PipelineGraph, config: WorkspaceConfig) -> None:
    """On Argo a local datastore falls back to the namespace's artifact repository; KFP has
    no such fallback, so its pods cannot reach one (KFP's local runner can mount it)."""
    local = sorted(n for n in graph.datastores
                   if isinstance(config.datastores.get(n), LocalDatastore))
    if local:
        _LOG.warning("kubeline: warning: datastore(s) %s are local folders: KFP pods on a "
                     "cluster cannot reach them (KFP's local DockerRunner can mount them); "
                     "use S3 or Azure Blob datastores for cluster runs", ", ".join(local))


def _compile(graph: PipelineGraph, config: WorkspaceConfig,
             files: dict[str, str] | None) -> CompiledPipeline:
    refuse_unsupported(graph, config)
    _warn_local_datastores(graph, config)
    files = files or spec_files(graph, config)
    name = dns_label(graph.name)
    names = parameter_names(graph.parameters)
    types = {names[p.name]: PARAMETER_TYPES[p.type] for p in graph.parameters}
    refs = datastore_secret_refs(graph, config)
    labels = {**MANAGED_BY, "kubeline.io/pipeline": name}

    components: dict[str, Any] = {}
    executors: dict[str, Any] = {}
    tasks: dict[str, Any] = {}
    platform: dict[str, Any] = {}
    for step in graph.steps:
        spec = (files[PIPELINE_KEY].rstrip("\n"), files[step_key(step.id)].rstrip("\n"))
        where = f"step '{step.name}'"
        sched = step_scheduling(step.compute_target, config)
        imported: list[Importer] = []
        if step.kind == "data_transfer":
            parts = _transfer_parts(step, spec)
        else:
            imported = importers(step, config)
            parts = step_parts(step, graph, config, spec, names, types,
                               resources(sched, where), imported)
        for imp in imported:
            extra = importer_parts(imp)
            components[f"comp-{imp.task}"] = extra.component
            executors[f"exec-{imp.task}"] = extra.executor
            tasks[imp.task] = extra.task
        components[f"comp-{step.id}"] = parts.component
        executors[f"exec-{step.id}"] = parts.executor
        tasks[step.id] = parts.task
        pod = executor_config(sched, refs, {**labels, "kubeline.io/step": step.id}, where)
        if pod:
            platform[f"exec-{step.id}"] = pod

    outputs = pipeline_outputs(graph)
    root_params: dict[str, Any] = {}
    for param in graph.parameters:
        root_params[names[param.name]] = {"defaultValue": _default(param), "isOptional": True,
                                          "parameterType": types[names[param.name]]}
    root_params[REGENERATE] = {
        "defaultValue": False, "description": "true reruns every step (regenerate_outputs); "
        "submit with enable_caching=False too", "isOptional": True, "parameterType": "BOOLEAN"}
    root_params[CONTENT_AWARE] = {
        "defaultValue": False, "description": "true adds each DataReference input's ETag to "
        "its step's cache key", "isOptional": True, "parameterType": "BOOLEAN"}
    info: dict[str, Any] = {"displayName": graph.name}
    if graph.description:
        info["description"] = graph.description
    info["name"] = name
    spec_doc: dict[str, Any] = {
        "components": dict(sorted(components.items())),
        "deploymentSpec": {"executors": dict(sorted(executors.items()))},
        "pipelineInfo": info,
        "root": _root(tasks, root_params, outputs),
        "schemaVersion": SCHEMA_VERSION,
        "sdkVersion": SDK_VERSION,
    }
    documents = [spec_doc]
    if platform:
        documents.append({"platforms": {"kubernetes": {"deploymentSpec": {
            "executors": dict(sorted(platform.items()))}}}})
    return CompiledPipeline(name=name, documents=documents, namespace=config.cluster.namespace)

