"""Create a run's objects on the cluster: the step-spec ConfigMaps and the Workflow.

The compiled manifest has fixed names (for GitOps); a submission is a new run each time,
so the Workflow gets ``generateName`` and the spec ConfigMaps content-addressed, immutable
names (two runs of different versions of one pipeline never share a spec; two runs of the
same version share it). Every object is first created with a server-side dry run, so an
admission error comes back as one line before anything exists. Each ConfigMap is owned by
the Workflows that use it, so deleting the runs garbage-collects it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from kubeline.cluster.checks import ARGO_GROUP, ARGO_VERSION, WORKFLOWS, preflight
from kubeline.cluster.connect import Cluster, ClusterError

SUBMITTED_LABEL = "kubeline.io/submitted"
EXPERIMENT_LABEL = "kubeline.io/experiment"


def _message(exc: BaseException) -> str:
    """The API server's own message of an ApiException (its Status body), one line."""
    body = getattr(exc, "body", None)
    try:
        text = str(json.loads(body).get("message")) if body else str(exc)
    except (ValueError, AttributeError):
        text = str(body or exc)
    return " ".join(text.split())


def _workflow_of(docs: list[dict[str, Any]]) -> dict[str, Any]:
    found = [d for d in docs if d.get("kind") == "Workflow"]
    if len(found) != 1:
        raise ClusterError(f"the manifest holds {len(found)} Workflows, expected one",
                           "submit one compiled pipeline at a time")
    return found[0]


def prepare(docs: list[dict[str, Any]], parameters: Mapping[str, str], namespace: str,
            labels: Mapping[str, str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(spec ConfigMaps, Workflow) as submitted: names, namespace, argument values, labels."""
    docs = copy.deepcopy(docs)
    workflow = _workflow_of(docs)
    configmaps = [d for d in docs if d.get("kind") == "ConfigMap"]
    renames: dict[str, str] = {}
    for cm in configmaps:
        meta = cm["metadata"]
        digest = hashlib.sha256(json.dumps(cm.get("data") or {}, sort_keys=True)
                                .encode()).hexdigest()[:10]
        new = f"{meta['name'][:52]}-{digest}"
        renames[meta["name"]] = new
        meta["name"] = new
        meta["namespace"] = namespace
        cm["immutable"] = True
    _point_at(workflow["spec"], renames)
    meta = workflow["metadata"]
    base = str(meta.pop("name", None) or meta.get("generateName") or "run").rstrip("-")
    meta["generateName"] = f"{base[:52]}-"
    meta["namespace"] = namespace
    meta.setdefault("labels", {}).update({SUBMITTED_LABEL: "true", **labels})
    arguments = workflow["spec"].setdefault("arguments", {}).setdefault("parameters", [])
    known = {str(p.get("name")) for p in arguments}
    unknown = sorted(set(parameters) - known)
    if unknown:
        raise ClusterError(f"workflow arguments {', '.join(unknown)} are not parameters of "
                           f"'{meta['generateName'][:-1]}'",
                           f"its parameters are: {', '.join(sorted(known)) or 'none'}")
    for p in arguments:
        if str(p.get("name")) in parameters:
            p["value"] = str(parameters[str(p["name"])])
    return configmaps, workflow


def _point_at(value: Any, renames: Mapping[str, str]) -> None:
    """Every ``configMap: {name}`` reference under value (volumes, projected sources)
    follows the renames."""
    if isinstance(value, dict):
        ref = value.get("configMap")
        if isinstance(ref, dict) and ref.get("name") in renames:
            ref["name"] = renames[ref["name"]]
        for child in value.values():
            _point_at(child, renames)
    elif isinstance(value, list):
        for child in value:
            _point_at(child, renames)


def _create_configmap(cluster: Cluster, cm: dict[str, Any], dry_run: bool) -> None:
    try:
        cluster.core.create_namespaced_config_map(cluster.namespace, cm,
                                                  dry_run="All" if dry_run else None)
    except Exception as exc:
        if getattr(exc, "status", None) == 409:  # the same spec, already there (immutable)
            return
        if getattr(exc, "status", None) is None:
            raise
        raise ClusterError(f"the cluster refused ConfigMap {cm['metadata']['name']}: "
                           f"{_message(exc)}") from None


def _create_workflow(cluster: Cluster, workflow: dict[str, Any], dry_run: bool
                     ) -> dict[str, Any]:
    try:
        made: dict[str, Any] = cluster.custom.create_namespaced_custom_object(
            ARGO_GROUP, ARGO_VERSION, cluster.namespace, WORKFLOWS, workflow,
            dry_run="All" if dry_run else None)
    except Exception as exc:
        if getattr(exc, "status", None) is None:
            raise
        raise ClusterError(f"the cluster refused workflow "
                           f"{workflow['metadata']['generateName']}*: {_message(exc)}",
                           "fix the pipeline (or the admission policy) and submit again"
                           ) from None
    return made


def _own(cluster: Cluster, cm: dict[str, Any], workflow: dict[str, Any]) -> None:
    """Add the Workflow to the ConfigMap's owners (a strategic merge appends by uid)."""
    meta = workflow["metadata"]
    owner = {"apiVersion": f"{ARGO_GROUP}/{ARGO_VERSION}", "kind": "Workflow",
             "name": meta["name"], "uid": meta["uid"]}
    try:
        cluster.core.patch_namespaced_config_map(
            cm["metadata"]["name"], cluster.namespace,
            {"metadata": {"ownerReferences": [owner]}})
    except Exception as exc:  # the run goes on; the spec is then left when it is deleted
        if getattr(exc, "status", None) is None:
            raise


def create_run(cluster: Cluster, docs: list[dict[str, Any]], parameters: Mapping[str, str],
               labels: Mapping[str, str],
               transform: Callable[[dict[str, Any], list[dict[str, Any]]], dict[str, Any]]
               | None = None) -> dict[str, Any]:
    """Check the cluster, dry-run every object, then create them; the created Workflow.
    ``transform(workflow, documents)`` may rewrite the Workflow before it is created
    (reuse resolution)."""
    preflight(cluster, docs)
    configmaps, workflow = prepare(docs, parameters, cluster.namespace, labels)
    if transform is not None:
        workflow = transform(workflow, [*configmaps, workflow])
    for cm in configmaps:
        _create_configmap(cluster, cm, dry_run=True)
    _create_workflow(cluster, workflow, dry_run=True)
    for cm in configmaps:
        _create_configmap(cluster, cm, dry_run=False)
    made = _create_workflow(cluster, workflow, dry_run=False)
    for cm in configmaps:
        _own(cluster, cm, made)
    return made


def label_value(text: str) -> str:
    """A label value from free text: [A-Za-z0-9._-], at most 63, alphanumeric ends."""
    value = "".join(c if c.isalnum() or c in "._-" else "_" for c in text)[:63]
    return value.strip("._-")
