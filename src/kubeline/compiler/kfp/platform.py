"""Compute targets as KFP resources and the kubernetes platform spec.

KFP keeps CPU, memory and accelerators in the container's ``resources`` (PipelineSpec) and
everything else a pod needs (node selector, tolerations, node affinity, Secrets, pod
metadata) in the kubernetes platform spec, in the shape the kfp-kubernetes extension writes
(KubernetesExecutorConfig). Both are built from the same Scheduling profile the Argo backend
uses, so a compute target places a step the same way on either.
"""

from __future__ import annotations

from typing import Any

from kubeline.compiler.scheduling import GPU_RESOURCE, Scheduling
from kubeline.exceptions import KubelineError
from kubeline.stores.config import SecretRef, secret_env_name

# Kubernetes quantity suffixes -> bytes; KFP's deprecated float fields count memory in GB.
_MEMORY_UNITS = {"E": 10**18, "P": 10**15, "T": 10**12, "G": 10**9, "M": 10**6, "K": 10**3,
                 "Ei": 2**60, "Pi": 2**50, "Ti": 2**40, "Gi": 2**30, "Mi": 2**20, "Ki": 2**10}


def _cpu_cores(text: str) -> float:
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def _memory_gb(text: str) -> float:
    for suffix in sorted(_MEMORY_UNITS, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * _MEMORY_UNITS[suffix] / 10**9
    return float(text) / 10**9


def resources(sched: Scheduling, where: str) -> dict[str, Any]:
    """The container's ``resources``: the string fields KFP reads today plus the numeric
    ones older KFP backends read (kfp's own compiler writes both)."""
    out: dict[str, Any] = {}
    extra = sorted((set(sched.limits) | set(sched.requests)) - {"cpu", "memory", GPU_RESOURCE})
    if extra:
        raise KubelineError(f"{where}: resource '{extra[0]}' has no KFP counterpart",
                            "KFP sets only cpu, memory and one accelerator per container")
    if sched.gpus:
        out["accelerator"] = {"count": str(sched.gpus), "resourceCount": str(sched.gpus),
                              "resourceType": GPU_RESOURCE, "type": GPU_RESOURCE}
    for kind, values in (("Limit", sched.limits), ("Request", sched.requests)):
        if "cpu" in values:
            out[f"cpu{kind}"] = _cpu_cores(values["cpu"])
            out[f"resourceCpu{kind}"] = values["cpu"]
        if "memory" in values:
            out[f"memory{kind}"] = _memory_gb(values["memory"])
            out[f"resourceMemory{kind}"] = values["memory"]
    return dict(sorted(out.items()))


def _node_affinity(affinity: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """kfp-kubernetes' nodeAffinity terms: required terms without weight, preferred ones
    with theirs. Pod (anti-)affinity has no counterpart there."""
    other = sorted(k for k in affinity if k != "nodeAffinity")
    if other:
        raise KubelineError(f"{where}: affinity '{other[0]}' has no KFP counterpart",
                            "kfp-kubernetes sets node affinity only; use nodeAffinity or a "
                            "node selector")
    node = affinity.get("nodeAffinity") or {}
    terms: list[dict[str, Any]] = []
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms += [dict(term) for term in required.get("nodeSelectorTerms") or []]
    for preferred in node.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
        terms.append({**preferred.get("preference", {}), "weight": preferred["weight"]})
    return terms


def _toleration(toleration: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: toleration[k] for k in ("effect", "key", "operator", "value")
                           if k in toleration}
    if "tolerationSeconds" in toleration:
        out["tolerationSeconds"] = str(toleration["tolerationSeconds"])  # int64 in the proto
    return out


def secret_as_env(refs: list[SecretRef]) -> list[dict[str, Any]]:
    """One secretAsEnv entry per Secret, its keys as the variables the shim reads (optional,
    as on Argo: a datastore without credentials in this namespace still starts)."""
    by_secret: dict[str, list[SecretRef]] = {}
    for ref in refs:
        by_secret.setdefault(ref.name, []).append(ref)
    return [{"keyToEnv": [{"envVar": secret_env_name(r), "secretKey": r.key}
                          for r in sorted(items, key=lambda r: r.key)],
             "optional": True,
             "secretName": name,
             "secretNameParameter": {"runtimeValue": {"constant": name}}}
            for name, items in sorted(by_secret.items())]


def executor_config(sched: Scheduling, refs: list[SecretRef], labels: dict[str, str],
                    where: str) -> dict[str, Any]:
    """The KubernetesExecutorConfig of one step's executor ({} when it needs nothing)."""
    out: dict[str, Any] = {}
    if sched.affinity:
        out["nodeAffinity"] = _node_affinity(sched.affinity, where)
    if sched.node_selector:
        out["nodeSelector"] = {"labels": dict(sorted(sched.node_selector.items()))}
    metadata: dict[str, Any] = {}
    if sched.annotations:
        metadata["annotations"] = dict(sorted(sched.annotations.items()))
    if labels:
        metadata["labels"] = dict(sorted(labels.items()))
    if metadata:
        out["podMetadata"] = metadata
    if refs:
        out["secretAsEnv"] = secret_as_env(refs)
    if sched.tolerations:
        out["tolerations"] = [_toleration(t) for t in sched.tolerations]
    return out
