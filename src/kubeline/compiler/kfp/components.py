"""One step as a KFP container component, its executor and its task in the root DAG.

Each step gets a component of its own (as kfp's compiler gives each task one): the container
runs the kubeline runtime shim through its KFP entry point (kubeline.runtime.kfp), with the
step spec the Argo backend ships in a ConfigMap passed here as two constant arguments, so the
compiled YAML is self-contained. Data moves as on Argo, through the datastores and keyed by
kubeline's cache key; KFP artifacts carry the same data between tasks (the entry point copies
each committed output to its output artifact) and a ``kubeline_key`` output parameter carries
the key downstream, as Argo's ``key`` output does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubeline.compiler.kfp.names import (
    CONTENT_AWARE,
    FINGERPRINT,
    KEY_OUTPUT,
    REGENERATE,
    SNAPSHOT,
    upstream_input,
)
from kubeline.graph.model import PipelineGraph, Step, StepInput
from kubeline.graph.names import param_name
from kubeline.reuse.keys import static_fingerprint, used_parameters
from kubeline.stores.config import S3Datastore
from kubeline.workspace.config import WorkspaceConfig

ENTRY_COMMAND = ["python3", "-m", "kubeline.runtime.kfp"]
DATASET = {"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"}
STRING, BOOLEAN = "STRING", "BOOLEAN"


def _param(name: str) -> str:
    return f"{{{{$.inputs.parameters['{name}']}}}}"


def importer_uri(item: StepInput, config: WorkspaceConfig) -> str:
    """The ``s3://bucket/key`` of a DataReference KFP's launcher can download itself ("" for
    Azure Blob and local datastores, which KFP cannot read: the shim fetches those)."""
    store = config.datastores.get(item.datastore)
    if item.source != "datastore" or item.mode == "direct" or not isinstance(store, S3Datastore):
        return ""
    key = "/".join(p.strip("/") for p in (store.prefix, item.path) if p and p.strip("/"))
    return f"s3://{store.bucket}/{key}"


@dataclass(frozen=True)
class Importer:
    """An importer task feeding one DataReference input of one step."""

    task: str
    step: Step
    item: StepInput
    uri: str


def importers(step: Step, config: WorkspaceConfig) -> list[Importer]:
    found = []
    for item in step.inputs:
        uri = importer_uri(item, config)
        if uri:
            found.append(Importer(f"importer-{step.id}-{param_name(item.name).lower()}"
                                  .replace("_", "-"), step, item, uri))
    return found


def base_args(step: Step, spec: tuple[str, str]) -> list[str]:
    """The entry point's arguments every step has: its id, its spec, the run's identity."""
    return ["--step", step.id, "--pipeline-json", spec[0], "--step-json", spec[1],
            "--run-id", "{{$.pipeline_job_uuid}}", "--run-name", "{{$.pipeline_job_name}}",
            "--task", "{{$.pipeline_task_name}}"]


@dataclass(frozen=True)
class StepParts:
    """What one step adds to the PipelineSpec."""

    component: dict[str, Any]
    executor: dict[str, Any]
    task: dict[str, Any]


def step_parts(step: Step, graph: PipelineGraph, config: WorkspaceConfig,
               spec: tuple[str, str], names: dict[str, str], types: dict[str, str],
               resources: dict[str, Any], imported: list[Importer]) -> StepParts:
    """The component, executor and task of a python/command step. ``spec`` is the shipped
    (pipeline.json, step.<id>.json) pair; ``names`` maps pipeline parameter names to their
    KFP input names and ``types`` those to KFP parameter types."""
    index = {p.name: i for i, p in enumerate(graph.parameters)}
    args = base_args(step, spec)
    in_params: dict[str, Any] = {}
    task_params: dict[str, Any] = {}
    for name in used_parameters(step):
        kfp = names[name]
        in_params[kfp] = {"parameterType": types[kfp]}
        task_params[kfp] = {"componentInputParameter": kfp}
        args += ["--param", f"{index[name]}={_param(kfp)}"]
    for producer in sorted({i.producer for i in step.inputs if i.producer}):
        name = upstream_input(producer)
        in_params[name] = {"parameterType": STRING}
        task_params[name] = {"taskOutputParameter": {"outputParameterKey": KEY_OUTPUT,
                                                     "producerTask": producer}}
        args += ["--upstream", f"{producer}={_param(name)}"]
    for name, kind in ((REGENERATE, BOOLEAN), (CONTENT_AWARE, BOOLEAN)):
        in_params[name] = {"parameterType": kind}
        task_params[name] = {"componentInputParameter": name}
    args += ["--regenerate-outputs", _param(REGENERATE), "--content-aware", _param(CONTENT_AWARE)]
    # constants KFP's cache key sees as task inputs: a changed step spec or source snapshot
    # changes kubeline's key, and so KFP's
    constants = {FINGERPRINT: static_fingerprint(step)}
    if step.snapshot:
        constants[SNAPSHOT] = step.snapshot
    for name, value in constants.items():
        in_params[name] = {"parameterType": STRING}
        task_params[name] = {"runtimeValue": {"constant": value}}

    in_artifacts: dict[str, Any] = {}
    task_artifacts: dict[str, Any] = {}
    for item in step.inputs:
        if item.source != "pipeline_data":
            continue
        name = param_name(item.name)
        in_artifacts[name] = {"artifactType": dict(DATASET)}
        task_artifacts[name] = {"taskOutputArtifact": {"outputArtifactKey": name,
                                                       "producerTask": item.producer}}
    for imp in imported:
        name = param_name(imp.item.name)
        in_artifacts[name] = {"artifactType": dict(DATASET)}
        task_artifacts[name] = {"taskOutputArtifact": {"outputArtifactKey": "artifact",
                                                       "producerTask": imp.task}}
        args += ["--input", f"{name}={{{{$.inputs.artifacts['{name}'].path}}}}"]
    out_artifacts = {}
    for output in step.outputs:
        name = param_name(output.name)
        out_artifacts[name] = {"artifactType": dict(DATASET)}
        args += ["--output", f"{name}={{{{$.outputs.artifacts['{name}'].path}}}}"]
    args += ["--key-file", f"{{{{$.outputs.parameters['{KEY_OUTPUT}'].output_file}}}}",
             "--executor-input", "{{$}}"]

    inputs: dict[str, Any] = {}
    if in_artifacts:
        inputs["artifacts"] = dict(sorted(in_artifacts.items()))
    inputs["parameters"] = dict(sorted(in_params.items()))
    outputs: dict[str, Any] = {}
    if out_artifacts:
        outputs["artifacts"] = dict(sorted(out_artifacts.items()))
    outputs["parameters"] = {KEY_OUTPUT: {"parameterType": STRING}}
    component = {"executorLabel": f"exec-{step.id}", "inputDefinitions": inputs,
                 "outputDefinitions": outputs}
    container: dict[str, Any] = {"args": args, "command": list(ENTRY_COMMAND),
                                 "image": step.image}
    if resources:
        container["resources"] = resources
    task_inputs: dict[str, Any] = {}
    if task_artifacts:
        task_inputs["artifacts"] = dict(sorted(task_artifacts.items()))
    task_inputs["parameters"] = dict(sorted(task_params.items()))
    depends = sorted(set(step.depends_on) | {i.task for i in imported})
    task: dict[str, Any] = {
        # kfp writes {} for a task that may not be cached
        "cachingOptions": {"enableCache": True} if step.allow_reuse else {},
        "componentRef": {"name": f"comp-{step.id}"},
    }
    if depends:
        task["dependentTasks"] = depends
    task["inputs"] = task_inputs
    task["taskInfo"] = {"name": step.name}
    return StepParts(component, {"container": container}, task)


def importer_parts(imp: Importer) -> StepParts:
    """An importer: KFP registers the datastore object as an artifact and downloads it for
    the step (reimport off: the same URI is the same artifact, as for kubeline's key)."""
    component = {"executorLabel": f"exec-{imp.task}",
                 "inputDefinitions": {"parameters": {"uri": {"parameterType": STRING}}},
                 "outputDefinitions": {"artifacts": {"artifact": {
                     "artifactType": dict(DATASET)}}}}
    executor = {"importer": {"artifactUri": {"constant": imp.uri},
                             "typeSchema": dict(DATASET)}}
    task = {"cachingOptions": {"enableCache": True} if imp.step.allow_reuse else {},
            "componentRef": {"name": f"comp-{imp.task}"},
            "inputs": {"parameters": {"uri": {"runtimeValue": {"constant": imp.uri}}}},
            "taskInfo": {"name": imp.task}}
    return StepParts(component, executor, task)
