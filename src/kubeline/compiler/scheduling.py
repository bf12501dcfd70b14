"""Compute targets as Kubernetes scheduling: resources, GPUs, node selectors, tolerations.

A compute target names a node shape (an Azure VM size, or a KubernetesCompute instance
type). Every pod a step creates gets the same profile: the step's container pod, and for
Spark steps the driver and executor pod templates. How the shape is found on a cluster
depends on the cluster flavour of kubeline.yaml (docs/compute.md has the table).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from kubeline.compiler.vm_sizes import UnknownVmSize, VmSize, lookup
from kubeline.exceptions import ComputeTargetException
from kubeline.workspace.config import ComputeTargetConfig, WorkspaceConfig

_LOG = logging.getLogger("kubeline.compile")


@lru_cache(maxsize=256)
def warn_once(message: str) -> None:
    """Several templates (a step's pod, a Spark driver and its executors) can share one
    profile: say each thing once per process."""
    _LOG.warning("kubeline: warning: %s", message)

GPU_RESOURCE = "nvidia.com/gpu"
CPU_REQUEST_FRACTION = 0.9  # the kubelet and daemon sets keep part of every node
MEMORY_REQUEST_FRACTION = 0.75
MEMORY_LIMIT_FRACTION = 0.9
SCHEDULED_TYPES = ("AmlCompute", "KubernetesCompute")
SPARK_TYPES = ("DatabricksCompute", "AdlaCompute")

# GPU model -> the label value each cloud uses for it ("" = the cloud has no such GPU).
_GKE_ACCELERATORS = {"K80": "nvidia-tesla-k80", "P100": "nvidia-tesla-p100",
                     "V100": "nvidia-tesla-v100", "V100-32GB": "nvidia-tesla-v100",
                     "T4": "nvidia-tesla-t4", "A100": "nvidia-tesla-a100",
                     "A100-80GB": "nvidia-a100-80gb"}
_EKS_GPU_NAMES = {"K80": "k80", "V100": "v100", "V100-32GB": "v100", "T4": "t4",
                  "A100": "a100", "A100-80GB": "a100", "M60": "m60"}
_GPU_TOLERATION = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}


@dataclass(frozen=True)
class Scheduling:
    """What every pod of a step gets; plain Kubernetes JSON (camelCase) values."""

    requests: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    affinity: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    gpus: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def resources(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        if self.limits:
            out["limits"] = dict(sorted(self.limits.items()))
        if self.requests:
            out["requests"] = dict(sorted(self.requests.items()))
        return out

    @property
    def empty(self) -> bool:
        return not (self.requests or self.limits or self.node_selector or self.tolerations
                    or self.affinity or self.annotations)


NONE = Scheduling()


def _cpu(millis: int) -> str:
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"


def size_resources(size: VmSize) -> tuple[dict[str, str], dict[str, str]]:
    """Requests and limits of a pod that should own a node of this size."""
    cpu_millis = max(100, int(size.vcpus * 1000 * CPU_REQUEST_FRACTION) // 100 * 100)
    mem_mib = int(size.memory_gib * 1024)
    requests = {"cpu": _cpu(cpu_millis),
                "memory": f"{int(mem_mib * MEMORY_REQUEST_FRACTION)}Mi"}
    limits = {"cpu": _cpu(size.vcpus * 1000),
              "memory": f"{int(mem_mib * MEMORY_LIMIT_FRACTION)}Mi"}
    if size.gpus:
        limits[GPU_RESOURCE] = str(size.gpus)
    return requests, limits


def resolve_size(name: str, where: str) -> VmSize:
    """A VmSize, or a one-line ComputeTargetException listing close matches."""
    try:
        return lookup(name)
    except UnknownVmSize as exc:
        hint = (f"did you mean {', '.join(exc.matches)}?" if exc.matches
                else "see docs/compute.md for the sizes kubeline knows")
        raise ComputeTargetException(f"{where}: unknown vm_size '{name}'", hint) from None


def _flavour_placement(size: VmSize, flavour: str, spot: bool, props: dict[str, Any],
                       where: str) -> tuple[dict[str, str], list[dict[str, Any]], list[str]]:
    selector: dict[str, str] = {}
    tolerations: list[dict[str, Any]] = []
    notes: list[str] = []
    if flavour == "aks":
        selector["node.kubernetes.io/instance-type"] = size.name
        if size.gpus:
            tolerations.append({"key": "sku", "operator": "Equal", "value": "gpu",
                                "effect": "NoSchedule"})
        if spot:
            selector["kubernetes.azure.com/scalesetpriority"] = "spot"
            tolerations.append({"key": "kubernetes.azure.com/scalesetpriority",
                                "operator": "Equal", "value": "spot", "effect": "NoSchedule"})
    elif flavour == "eks":
        if size.gpus:
            name = _EKS_GPU_NAMES.get(size.gpu_model)
            if name is None:
                raise ComputeTargetException(
                    f"{where}: EKS has no {size.gpu_model} GPUs for vm_size '{size.name}'",
                    "pick a size with K80, V100, T4, A100 or M60 GPUs, or use a "
                    "KubernetesCompute instance type")
            selector["karpenter.k8s.aws/instance-gpu-name"] = name
        if spot:
            selector["karpenter.sh/capacity-type"] = "spot"
    elif flavour == "gke":
        if size.gpus:
            accel = _GKE_ACCELERATORS.get(size.gpu_model)
            if accel is None:
                raise ComputeTargetException(
                    f"{where}: GKE has no {size.gpu_model} GPUs for vm_size '{size.name}'",
                    "pick a size with K80, P100, V100, T4 or A100 GPUs, or use a "
                    "KubernetesCompute instance type")
            selector["cloud.google.com/gke-accelerator"] = accel
        if spot:
            selector["cloud.google.com/gke-spot"] = "true"
    elif flavour == "generic":
        selector.update({str(k): str(v) for k, v in (props.get("node_selector") or {}).items()})
        tolerations.extend(dict(t) for t in props.get("tolerations") or [])
    if size.gpus and flavour in ("aks", "eks", "gke", "generic"):
        tolerations.append(dict(_GPU_TOLERATION))
    if flavour == "kind" and size.gpus:
        notes.append(f"{where}: vm_size '{size.name}' has {size.gpus} {size.gpu_model} GPU(s) "
                     "but kind clusters have none: the step gets no nvidia.com/gpu limit and "
                     "runs on CPU")
    return selector, tolerations, notes


def _annotations(target: str, config: ComputeTargetConfig, extra: dict[str, str]
                 ) -> dict[str, str]:
    props = config.properties
    out = {"kubeline.io/compute-target": target, **extra}
    for key, name in (("min_nodes", "min-nodes"), ("max_nodes", "max-nodes"),
                      ("vm_priority", "vm-priority")):
        if props.get(key) is not None:
            out[f"kubeline.io/{name}"] = str(props[key])
    return dict(sorted(out.items()))


def for_vm_size(vm_size: str, flavour: str, *, spot: bool = False,
                props: dict[str, Any] | None = None, where: str = "vm_size"
                ) -> tuple[VmSize, Scheduling]:
    """The profile of one VM size on one cluster flavour (also used for Spark node types)."""
    size = resolve_size(vm_size, where)
    selector, tolerations, notes = _flavour_placement(size, flavour, spot, props or {}, where)
    if flavour == "kind":
        return size, Scheduling(warnings=tuple(notes))
    requests, limits = size_resources(size)
    return size, Scheduling(requests=requests, limits=limits, node_selector=selector,
                            tolerations=tolerations, gpus=size.gpus, warnings=tuple(notes))


def _instance_type(target: str, config: ComputeTargetConfig) -> tuple[str, Scheduling]:
    props = config.properties
    types: dict[str, Any] = props.get("instance_types") or {}
    name = str(props.get("default_instance_type") or "")
    if not name:
        if len(types) != 1:
            raise ComputeTargetException(
                f"compute target '{target}': no default_instance_type",
                "set default_instance_type to one of: " + (", ".join(sorted(types)) or "none"))
        name = next(iter(types))
    spec = types.get(name)
    if not isinstance(spec, dict):
        raise ComputeTargetException(
            f"compute target '{target}': instance type '{name}' is not defined",
            "known: " + (", ".join(sorted(types)) or "none"))
    resources = spec.get("resources") or {}
    limits = {str(k): str(v) for k, v in (resources.get("limits") or {}).items()}
    return name, Scheduling(
        requests={str(k): str(v) for k, v in (resources.get("requests") or {}).items()},
        limits=limits,
        node_selector={str(k): str(v) for k, v in (spec.get("nodeSelector") or {}).items()},
        tolerations=[dict(t) for t in spec.get("tolerations") or []],
        affinity=dict(spec.get("affinity") or {}),
        gpus=int(limits.get(GPU_RESOURCE, "0") or 0))


AML_PROPERTIES = ("vm_size", "vm_priority", "min_nodes", "max_nodes", "node_selector",
                  "tolerations")  # the last two: placement on generic clusters


def check_aml_properties(where: str, props: dict[str, Any]) -> None:
    """An AmlCompute target's properties as written in kubeline.yaml: known names, int
    scale, a known priority; one line naming the field otherwise."""
    import difflib

    for key in props:
        if key not in AML_PROPERTIES:
            close = difflib.get_close_matches(key, AML_PROPERTIES, n=1)
            hint = f"did you mean '{close[0]}'?" if close else \
                f"known: {', '.join(AML_PROPERTIES)}"
            raise ComputeTargetException(f"{where}: unknown property '{key}'", hint)
    for key in ("min_nodes", "max_nodes"):
        value = props.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 0):
            raise ComputeTargetException(f"{where}: {key} is {value!r}",
                                         "use a whole number of nodes, 0 or more")
    priority = props.get("vm_priority", "dedicated")
    if priority not in ("dedicated", "lowpriority"):
        raise ComputeTargetException(f"{where}: vm_priority '{priority}' is not valid",
                                     "use 'dedicated' or 'lowpriority'")


def profile(target: str, config: WorkspaceConfig) -> Scheduling:
    """The scheduling of steps on compute target ``target`` (NONE when there is none)."""
    if not target:
        return NONE
    compute = config.compute_targets.get(target)
    if compute is None:
        raise ComputeTargetException(f"compute target '{target}' is not in the workspace",
                                     "create it with ComputeTarget.create")
    flavour = config.cluster.flavour
    where = f"compute target '{target}'"
    if compute.type == "KubernetesCompute":
        name, sched = _instance_type(target, compute)
        return Scheduling(**{**sched.__dict__, "annotations": _annotations(
            target, compute, {"kubeline.io/instance-type": name})})
    if compute.type != "AmlCompute":
        return Scheduling(annotations=_annotations(target, compute, {}))
    check_aml_properties(where, compute.properties)
    vm_size = str(compute.properties.get("vm_size") or "")
    if not vm_size:
        raise ComputeTargetException(f"{where}: vm_size is empty",
                                     "set vm_size, e.g. STANDARD_D2_V2")
    spot = str(compute.properties.get("vm_priority", "dedicated")).lower() == "lowpriority"
    size, sched = for_vm_size(vm_size, flavour, spot=spot, props=compute.properties,
                              where=where)
    extra = {"kubeline.io/vm-size": size.name}
    return Scheduling(**{**sched.__dict__,
                         "annotations": _annotations(target, compute, extra)})


def pod_spec_fields(sched: Scheduling) -> dict[str, Any]:
    """nodeSelector / tolerations / affinity as Kubernetes pod spec fields."""
    out: dict[str, Any] = {}
    if sched.node_selector:
        out["nodeSelector"] = dict(sorted(sched.node_selector.items()))
    if sched.tolerations:
        out["tolerations"] = sched.tolerations
    if sched.affinity:
        out["affinity"] = sched.affinity
    return out


def cluster_needs(target: str, config: WorkspaceConfig) -> dict[str, Any]:
    """What ``kubeline compute show`` prints: the node shape, scale and placement."""
    compute = config.compute_targets.get(target)
    if compute is None:
        known = ", ".join(sorted(config.compute_targets)) or "none"
        raise ComputeTargetException(f"compute target '{target}' not found",
                                     f"known targets: {known}")
    out: dict[str, Any] = {"name": target, "type": compute.type,
                           "flavour": config.cluster.flavour}
    props = compute.properties
    if compute.type == "AmlCompute":
        check_aml_properties(f"compute target '{target}'", props)  # a misspelt name first
        size = resolve_size(str(props.get("vm_size") or ""), f"compute target '{target}'")
        out["node"] = {"vm_size": size.name, "family": size.family, "vcpus": size.vcpus,
                       "memory_gib": size.memory_gib, "gpus": size.gpus,
                       "gpu_model": size.gpu_model or None}
        out["scale"] = {"min_nodes": props.get("min_nodes", 0),
                        "max_nodes": props.get("max_nodes"),
                        "vm_priority": props.get("vm_priority", "dedicated")}
    if compute.type in SCHEDULED_TYPES:
        sched = profile(target, config)
        out["pod"] = {"resources": sched.resources, **pod_spec_fields(sched)}
        out["warnings"] = list(sched.warnings)
    if compute.type in SPARK_TYPES:
        out["note"] = ("Spark steps on this target run as spark-operator SparkApplications; "
                       "driver and executor pods are sized by each step's node_type")
    return out
