"""Apply objects to the cluster as ``kubectl apply --server-side`` does (field manager
``kubeline``), every kind checked to be served before anything is applied, so a missing
CRD (Argo Events' EventSource and Sensor, typically) is one line and nothing half-done."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubeline.cluster.connect import Cluster, ClusterError

FIELD_MANAGER = "kubeline"
EVENT_KINDS = frozenset({"EventSource", "Sensor"})  # Argo Events, installed separately


def _resources(cluster: Cluster, docs: list[dict[str, Any]]) -> list[tuple[Any, dict[str, Any]]]:
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    dynamic = DynamicClient(cluster.api)
    found, missing = [], []
    for doc in docs:
        try:
            found.append((dynamic.resources.get(api_version=doc["apiVersion"],
                                                kind=doc["kind"]), doc))
        except ResourceNotFoundError:
            missing.append(f"{doc['kind']} ({doc['apiVersion']})")
    if missing:
        events = all(m.split(" ")[0] in EVENT_KINDS for m in missing)
        hint = ("install Argo Events, or pass --no-events (kubeline serve keeps answering "
                "the REST endpoints)" if events else "install the CRDs that define them")
        raise ClusterError(f"{cluster.where} does not serve "
                           f"{', '.join(sorted(set(missing)))}", hint)
    return found


def apply(cluster: Cluster, docs: Iterable[dict[str, Any]], *, dry_run: bool = False
          ) -> list[str]:
    """Server-side apply every object into the cluster's namespace; ``kind/name`` of each."""
    from kubeline.cluster.submit import _message

    docs = list(docs)
    done = []
    for resource, doc in _resources(cluster, docs):
        body = {**doc, "metadata": {**doc["metadata"], "namespace": cluster.namespace}}
        try:
            resource.server_side_apply(body=body, namespace=cluster.namespace,
                                       field_manager=FIELD_MANAGER, force_conflicts=True,
                                       dry_run="All" if dry_run else None)
        except Exception as exc:
            if getattr(exc, "status", None) is None:
                raise
            raise ClusterError(f"the cluster refused {doc['kind']} {doc['metadata']['name']}: "
                               f"{_message(exc)}") from None
        done.append(f"{doc['kind']}/{doc['metadata']['name']}")
    return done
