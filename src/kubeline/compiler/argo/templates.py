"""One container template per step shape: steps that differ only in arguments share it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from hera.workflows.models import (
    Affinity,
    Artifact,
    Cache,
    Container,
    EnvVar,
    EnvVarSource,
    Inputs,
    LocalObjectReference,
    Memoize,
    Metadata,
    Outputs,
    Parameter,
    ResourceRequirements,
    SecretKeySelector,
    Template,
    Toleration,
    UserContainer,
    ValueFrom,
    VolumeMount,
)

from kubeline.compiler.argo.spec import SPEC_MOUNT
from kubeline.compiler.scheduling import Scheduling, profile, warn_once
from kubeline.graph.model import PipelineGraph, Step, StepInput
from kubeline.graph.names import CONTENT_AWARE_PARAMETER as CONTENT_AWARE_PARAMETER
from kubeline.graph.names import REGENERATE_PARAMETER as REGENERATE_PARAMETER
from kubeline.graph.names import param_name, short_hash
from kubeline.stores.config import SecretRef, secret_env_name
from kubeline.workspace.config import WorkspaceConfig

INPUTS_DIR = "/kubeline/inputs"
INPUT_MODE = 0o755  # input artifacts readable by the step's (non-root) user
OUT_DIR = "/kubeline/out"
KEY_PATH = f"{OUT_DIR}/key"
METRICS_PATH = f"{OUT_DIR}/metrics.json"
ORIGIN_PATH = f"{OUT_DIR}/origin"
MEMO_KEY_INPUT = "memo-key"
RUNTIME_DIR = "/kubeline/runtime"
SPEC_VOLUME = "kubeline-spec"
OUT_VOLUME = "kubeline-out"
RUNTIME_VOLUME = "kubeline-runtime"
SHIM_COMMAND = ["python3", "-m", "kubeline.runtime"]
BOOT_COMMAND = ["python3", f"{RUNTIME_DIR}/boot.py"]


def artifact_inputs(step: Step, config: WorkspaceConfig) -> list[StepInput]:
    """DataReference inputs that Argo's artifact drivers fetch (direct mode passes a URI)."""
    return [i for i in step.inputs
            if i.source == "datastore" and i.mode != "direct" and i.datastore in config.datastores]


@dataclass(frozen=True)
class Shape:
    """What a template fixes; everything else about a step arrives as task arguments."""

    kind: str
    image: str
    compute_target: str
    artifacts: tuple[str, ...]
    step: str = ""  # set for kinds whose template is per step (spark, data_transfer)
    memoize: bool = False  # Argo's memoize fast path (docs/reuse.md)

    @property
    def template_name(self) -> str:
        return _template_name(self)


@lru_cache(maxsize=4096)
def _template_name(shape: Shape) -> str:
    """Cached: every step of a shape asks, and most steps share a few shapes."""
    fixed: list[object] = [shape.kind, shape.image, shape.compute_target, shape.artifacts]
    if shape.step:
        fixed.append(shape.step)
    if shape.memoize:
        fixed.append("memoize")
    digest = short_hash(json.dumps(fixed), 6)
    return f"{shape.kind.replace('_', '-')}-{digest}"


PER_STEP_KINDS = ("spark", "data_transfer", "hyperdrive", "parallel_run")


def shape_of(step: Step, config: WorkspaceConfig, memoize: bool = False) -> Shape:
    """The step's shape; ``memoize`` asks for the fast path (container steps that may be
    reused, outside compact pipelines)."""
    names = tuple(sorted(param_name(i.name) for i in artifact_inputs(step, config)))
    per_step = step.kind in PER_STEP_KINDS
    return Shape(step.kind, step.image, step.compute_target, names,
                 step.id if per_step else "", memoize and step.allow_reuse and not per_step)


def _env(graph: PipelineGraph, config: WorkspaceConfig) -> list[EnvVar]:
    env = [
        EnvVar(name="KUBELINE_WORKFLOW", value="{{workflow.name}}"),
        EnvVar(name="KUBELINE_RUN_ID", value="{{workflow.uid}}"),
        EnvVar(name="KUBELINE_NODE", value="{{node.name}}"),
        # the pod paths the shim uses, named so a local run without bubblewrap can relocate them
        EnvVar(name="KUBELINE_SPEC_DIR", value=SPEC_MOUNT),
        EnvVar(name="KUBELINE_OUT_DIR", value=OUT_DIR),
        EnvVar(name="KUBELINE_INPUTS_DIR", value=INPUTS_DIR),
        EnvVar(name="KUBELINE_REGENERATE_OUTPUTS",
               value=f"{{{{workflow.parameters.{REGENERATE_PARAMETER}}}}}"),
        EnvVar(name="KUBELINE_CONTENT_AWARE",
               value=f"{{{{workflow.parameters.{CONTENT_AWARE_PARAMETER}}}}}"),
    ]
    # One variable per parameter (index = position in pipeline.json): Argo inserts values
    # unescaped, so a JSON object of several values would break on a quote in a value.
    env += [EnvVar(name=f"KUBELINE_PARAM_{index}",
                   value=f"{{{{workflow.parameters.{param_name(p.name)}}}}}")
            for index, p in enumerate(graph.parameters)]
    for ref in datastore_secret_refs(graph, config):
        env.append(EnvVar(name=secret_env_name(ref), value_from=EnvVarSource(
            secret_key_ref=SecretKeySelector(name=ref.name, key=ref.key, optional=True))))
    return env


def datastore_secret_refs(graph: PipelineGraph, config: WorkspaceConfig) -> list[SecretRef]:
    """The Secret references of the datastores a pipeline uses, sorted: what every step's
    container gets as environment variables (shared by the Argo and KFP backends)."""
    refs: list[SecretRef] = []
    for name in graph.datastores:
        store = config.datastores.get(name)
        if store is None:
            continue
        refs.extend(getattr(store, field) for field in ("access_key_secret", "secret_key_secret",
                                                        "account_key_secret", "sas_token_secret")
                    if getattr(store, field, None) is not None)
    return sorted(set(refs), key=lambda r: (r.name, r.key))


def step_template(shape: Shape, graph: PipelineGraph, config: WorkspaceConfig,
                  labels: dict[str, str], compact: bool, cache_name: str = "") -> Template:
    """The container template of a shape. In compact mode the step is found from the node
    name and upstream keys from the run record, so tasks carry no arguments. A memoizing
    shape takes its key as the ``memo-key`` argument (kubeline.reuse.memoize)."""
    # Argo's executor (root) downloads a single-file input with mode 0600; the runtime image
    # runs as a non-root user, so without a mode the step cannot read it (seen on the in-box
    # cluster, docs/cluster.md). 0755 keeps folders enterable.
    artifacts = [Artifact(name=n, path=f"{INPUTS_DIR}/{n}", mode=INPUT_MODE, recurse_mode=True)
                 for n in shape.artifacts]
    if compact:
        params: list[Parameter] = []
        args = ["--node", "{{node.name}}"]
    else:
        params = [Parameter(name="step"), Parameter(name="upstream", default="")]
        args = ["--step", "{{inputs.parameters.step}}",
                "--upstream", "{{inputs.parameters.upstream}}"]
    memoize = None
    if shape.memoize and not compact and cache_name:
        params.append(Parameter(name=MEMO_KEY_INPUT))
        memoize = Memoize(key=f"{{{{inputs.parameters.{MEMO_KEY_INPUT}}}}}", max_age="",
                          cache=Cache(config_map=LocalObjectReference(name=cache_name)))
    inject = config.cluster.runtime == "inject"
    mounts = [VolumeMount(name=SPEC_VOLUME, mount_path=SPEC_MOUNT, read_only=True),
              VolumeMount(name=OUT_VOLUME, mount_path=OUT_DIR)]
    init = None
    if inject:
        mounts.append(VolumeMount(name=RUNTIME_VOLUME, mount_path=RUNTIME_DIR))
        init = [UserContainer(name="kubeline-runtime", image=config.cluster.runtime_image,
                              command=["cp", "-R", "/opt/kubeline/.", f"{RUNTIME_DIR}/"],
                              volume_mounts=[VolumeMount(name=RUNTIME_VOLUME,
                                                         mount_path=RUNTIME_DIR)])]
    sched = step_scheduling(shape.compute_target, config)
    annotations = {} if compact else {"kubeline.io/step": "{{inputs.parameters.step}}"}
    annotations.update(sched.annotations)
    return Template(
        name=shape.template_name,
        init_containers=init,
        metadata=Metadata(labels=labels, annotations=dict(sorted(annotations.items())) or None),
        inputs=Inputs(parameters=params or None, artifacts=artifacts or None),
        memoize=memoize,
        outputs=Outputs(parameters=[
            Parameter(name="key", value_from=ValueFrom(path=KEY_PATH)),
            Parameter(name="metrics", value_from=ValueFrom(path=METRICS_PATH, default="{}")),
            Parameter(name="origin", value_from=ValueFrom(path=ORIGIN_PATH, default="")),
        ]),
        container=Container(
            image=shape.image,
            command=BOOT_COMMAND if inject else SHIM_COMMAND,
            args=args,
            env=_env(graph, config),
            resources=(ResourceRequirements.model_validate(sched.resources)
                       if sched.resources else None),
            volume_mounts=mounts,
        ),
        **scheduling_fields(sched),
    )


def step_scheduling(target: str, config: WorkspaceConfig) -> Scheduling:
    """The compute target's profile; its warnings (e.g. GPUs on kind) are shown once."""
    sched = profile(target, config)
    for message in sched.warnings:
        warn_once(message)
    return sched


def scheduling_fields(sched: Scheduling) -> dict[str, object]:
    """Template-level nodeSelector, tolerations and affinity: they apply to the whole pod,
    init containers included (docs/compute.md)."""
    fields: dict[str, object] = {}
    if sched.node_selector:
        fields["node_selector"] = dict(sorted(sched.node_selector.items()))
    if sched.tolerations:
        fields["tolerations"] = [Toleration.model_validate(t) for t in sched.tolerations]
    if sched.affinity:
        fields["affinity"] = Affinity.model_validate(sched.affinity)
    return fields
