"""Assemble a pipeline graph into Argo objects: Workflow or WorkflowTemplate + spec ConfigMap."""

from __future__ import annotations

import json
import logging
from typing import Any

from hera.workflows.models import (
    Arguments,
    ConfigMapProjection,
    ConfigMapVolumeSource,
    EmptyDirVolumeSource,
    ObjectMeta,
    Parameter,
    ProjectedVolumeSource,
    Template,
    Volume,
    VolumeProjection,
    Workflow,
    WorkflowSpec,
    WorkflowTemplate,
)

from kubeline._gc import paused_gc
from kubeline.compiler.argo.compiled import CompiledPipeline, Kind
from kubeline.compiler.argo.dag import ENTRYPOINT, MAX_TASKS, dag_templates
from kubeline.compiler.argo.hyperdrive import hyperdrive_templates
from kubeline.compiler.argo.spec import spec_configmaps, spec_digest, spec_files
from kubeline.compiler.argo.templates import (
    CONTENT_AWARE_PARAMETER,
    OUT_VOLUME,
    REGENERATE_PARAMETER,
    RUNTIME_VOLUME,
    SPEC_VOLUME,
    Shape,
    shape_of,
    step_template,
)
from kubeline.compiler.spark import driver_configmap, has_spark, spark_templates
from kubeline.compiler.transfer import transfer_template
from kubeline.graph.model import DataPathValue, PipelineGraph
from kubeline.graph.names import dns_label, param_name
from kubeline.reuse.keys import mutable_image
from kubeline.reuse.memoize import memoizable
from kubeline.workspace.config import WorkspaceConfig

MANAGED_BY = {"app.kubernetes.io/managed-by": "kubeline"}
_LOG = logging.getLogger("kubeline.compile")


def _value(default: object) -> str:
    if isinstance(default, DataPathValue):
        return json.dumps({"datastore": default.datastore, "path": default.path},
                          sort_keys=True)
    return str(default)


_FIRST = ("apiVersion", "kind", "metadata", "name")


def _ordered(value: Any) -> Any:
    """Identity keys first (apiVersion, kind, metadata, name), the rest as the models order
    them, so every object reads from what it is to what it holds."""
    if isinstance(value, dict):
        keys = [k for k in _FIRST if k in value] + [k for k in value if k not in _FIRST]
        return {k: _ordered(value[k]) for k in keys}
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def _dump(model: Any) -> dict[str, Any]:
    return _ordered(model.model_dump(by_alias=True, exclude_none=True, mode="json"))  # type: ignore[no-any-return]


def compile_graph(graph: PipelineGraph, config: WorkspaceConfig,
                  kind: Kind = "workflow", files: dict[str, str] | None = None,
                  memoize: bool | None = None) -> CompiledPipeline:
    """Graph -> Argo objects (as plain dicts), deterministic for the same graph and config.
    ``files`` are the graph's spec files when the caller already made them; ``memoize``
    (default: the workspace's cluster.argo_memoize) adds Argo's memoize fast path."""
    if memoize is None:
        memoize = config.cluster.argo_memoize
    with paused_gc():
        return _compile(graph, config, kind, files or spec_files(graph, config), memoize)


def _compile(graph: PipelineGraph, config: WorkspaceConfig, kind: Kind,
             files: dict[str, str], memoize: bool) -> CompiledPipeline:
    name = dns_label(graph.name)
    labels = {**MANAGED_BY, "kubeline.io/pipeline": name}
    annotations = {"kubeline.io/pipeline-name": graph.name,
                   "kubeline.io/pipeline-id": spec_digest(files)}
    snapshots = {s.source_directory: s.snapshot for s in graph.steps if s.snapshot}
    if snapshots:  # which code the pipeline runs: each source folder's snapshot hash
        annotations["kubeline.io/snapshots"] = json.dumps(snapshots, sort_keys=True)
    if graph.git is not None:
        annotations["kubeline.io/git-commit"] = graph.git.commit
        if graph.git.dirty:
            annotations["kubeline.io/git-dirty"] = "true"
    renamed = {s.id: s.name for s in graph.steps if s.id != s.name}
    if renamed and len(graph.steps) <= MAX_TASKS:
        annotations["kubeline.io/step-names"] = json.dumps(renamed, sort_keys=True)
    # compact tasks carry no arguments (the shim finds its step from the node name and the
    # upstream keys in the run record); the memoize fast path needs keys passed per task
    compact = not memoize or len(graph.steps) > MAX_TASKS
    _warn_mutable_images(graph)

    shapes: dict[str, Shape] = {s.id: shape_of(s, config, memoize=not compact and memoizable(s))
                                for s in graph.steps}
    unique = sorted({shape.template_name: shape for shape in shapes.values()}.items())
    cache_name = memoize_cache_name(name)
    templates = [
        *dag_templates(graph, shapes, config, compact),
        *(t for _, shape in unique
          for t in shape_templates(shape, graph, config, labels, compact, name, cache_name)),
    ]
    configmaps = spec_configmaps(dns_label(f"{name}-spec", 58), labels, files)
    if len(configmaps) == 1:
        volume = Volume(name=SPEC_VOLUME,
                        config_map=ConfigMapVolumeSource(name=configmaps[0].metadata.name))
    else:
        volume = Volume(name=SPEC_VOLUME, projected=ProjectedVolumeSource(sources=[
            VolumeProjection(config_map=ConfigMapProjection(name=cm.metadata.name))
            for cm in configmaps]))
    volumes = [volume, Volume(name=OUT_VOLUME, empty_dir=EmptyDirVolumeSource())]
    if config.cluster.runtime == "inject":
        volumes.append(Volume(name=RUNTIME_VOLUME, empty_dir=EmptyDirVolumeSource()))
    spec = WorkflowSpec(
        entrypoint=ENTRYPOINT,
        arguments=Arguments(parameters=[
            *(Parameter(name=param_name(p.name), value=_value(p.default))
              for p in graph.parameters),
            Parameter(name=REGENERATE_PARAMETER, value="false",
                      description="true reruns every step of this run (regenerate_outputs)"),
            Parameter(name=CONTENT_AWARE_PARAMETER, value="false",
                      description="true adds each DataReference input's ETag to its step's "
                                  "cache key (kubeline run --content-aware)"),
        ]),
        service_account_name=config.cluster.service_account,
        templates=templates,
        volumes=volumes,
    )
    meta = ObjectMeta(name=name, labels=labels, annotations=annotations)
    main: Workflow | WorkflowTemplate
    if kind == "workflowtemplate":
        main = WorkflowTemplate(api_version="argoproj.io/v1alpha1", kind="WorkflowTemplate",
                                metadata=meta, spec=spec)
    else:
        main = Workflow(api_version="argoproj.io/v1alpha1", kind="Workflow", metadata=meta,
                        spec=spec)
    if has_spark(graph):
        configmaps.append(driver_configmap(name, labels))

    return CompiledPipeline(name=name, documents=[*(_dump(cm) for cm in configmaps), _dump(main)],
                            namespace=config.cluster.namespace)


def memoize_cache_name(pipeline: str) -> str:
    """The pipeline's one memoize cache ConfigMap (a per-pipeline cache keeps each under
    Kubernetes' 1 MiB object cap for longer than one shared cache would). The workflow
    controller creates it, labelled ``workflows.argoproj.io/configmap-type: Cache``, on its
    first save; it is not in the compile output (docs/reuse.md says why)."""
    return dns_label(f"{pipeline}-memoize-cache", 63)


def _warn_mutable_images(graph: PipelineGraph) -> None:
    """A mutable tag can point at other bytes tomorrow while the key stays the same."""
    for image in sorted({s.image for s in graph.steps if s.image}):
        if mutable_image(image):
            users = ", ".join(s.name for s in graph.steps if s.image == image)
            _LOG.warning("kubeline: warning: image %s (steps: %s) is given by a mutable tag; "
                         "a rebuilt image under the same tag reuses the old outputs. Pin a "
                         "version tag or a digest (image@sha256:...) so reuse keys on it",
                         image, users)


def shape_templates(shape: Shape, graph: PipelineGraph, config: WorkspaceConfig,
                    labels: dict[str, str], compact: bool, pipeline: str,
                    cache_name: str = "") -> list[Template]:
    """The templates of one shape: a container template, or for Spark and data transfer
    steps the per-step templates of compiler/spark.py and compiler/transfer.py."""
    if shape.kind == "spark":
        return spark_templates(graph.step(shape.step), shape.template_name, graph, config,
                               labels, pipeline)
    if shape.kind == "data_transfer":
        return [transfer_template(graph.step(shape.step), shape.template_name, config, labels)]
    if shape.kind == "hyperdrive":
        return hyperdrive_templates(graph.step(shape.step), shape, graph, config, labels)
    return [step_template(shape, graph, config, labels, compact, cache_name)]
