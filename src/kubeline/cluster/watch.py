"""Each new state of one Workflow, from a watch that survives the API server.

A GET gives the object and its resourceVersion; a watch resumes from the last version
seen. When the stream ends (its timeout, an API server restart, a dropped connection) the
watch is opened again from that version; when the server has compacted it away (HTTP 410
Gone) the object is read again. Reconnecting waits with a capped backoff; there is no
polling while the watch is open.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from kubeline.cluster.checks import ARGO_GROUP, ARGO_VERSION, WORKFLOWS
from kubeline.cluster.connect import Cluster, ClusterError

WATCH_SECONDS = 240  # the server ends each watch after this; it is reopened at once
GIVE_UP_SECONDS = 900.0  # the API server unreachable this long ends the follow
_BACKOFF = (0.2, 0.5, 1.0, 2.0, 4.0)
_LOG = logging.getLogger("kubeline.cluster")


class WorkflowGone(ClusterError):
    """The Workflow was deleted while it was followed."""


def _transport_error(exc: BaseException) -> bool:
    import urllib3

    return isinstance(exc, (urllib3.exceptions.HTTPError, ConnectionError, OSError))


def get_workflow(cluster: Cluster, name: str) -> dict[str, Any]:
    try:
        found: dict[str, Any] = cluster.custom.get_namespaced_custom_object(
            ARGO_GROUP, ARGO_VERSION, cluster.namespace, WORKFLOWS, name)
    except Exception as exc:
        if getattr(exc, "status", None) == 404:
            raise WorkflowGone(f"workflow {name} does not exist in namespace "
                               f"'{cluster.namespace}' on {cluster.where}",
                               "list them with: kubectl get workflows -n "
                               f"{cluster.namespace}") from None
        raise
    return found


def workflow_states(cluster: Cluster, name: str) -> Iterator[dict[str, Any]]:
    """The Workflow now, then each change to it, until the caller stops iterating."""
    from kubernetes import watch

    version: str | None = None
    failures = 0
    down_since: float | None = None
    while True:
        try:
            if version is None:
                obj = get_workflow(cluster, name)
                version = str(obj["metadata"]["resourceVersion"])
                yield obj
            stream = watch.Watch()
            for event in stream.stream(
                    cluster.custom.list_namespaced_custom_object, ARGO_GROUP, ARGO_VERSION,
                    cluster.namespace, WORKFLOWS, field_selector=f"metadata.name={name}",
                    resource_version=version, timeout_seconds=WATCH_SECONDS,
                    allow_watch_bookmarks=True):
                failures, down_since = 0, None
                kind, obj = event["type"], event["object"]
                if kind == "ERROR":
                    if isinstance(obj, dict) and obj.get("code") == 410:
                        version = None
                        break
                    raise ClusterError(f"watching workflow {name}: {obj}")
                version = str(obj["metadata"]["resourceVersion"])
                if kind == "BOOKMARK":
                    continue
                if kind == "DELETED":
                    raise WorkflowGone(f"workflow {name} was deleted from namespace "
                                       f"'{cluster.namespace}' while it ran")
                yield obj
        except ClusterError:
            raise
        except Exception as exc:
            if getattr(exc, "status", None) == 410:
                version = None
                continue
            if getattr(exc, "status", None) is None and not _transport_error(exc):
                raise
            if down_since is None:
                _LOG.warning("kubeline: lost the watch of workflow %s (%s); reconnecting "
                             "from resourceVersion %s", name,
                             str(exc).splitlines()[0][:200] or type(exc).__name__, version)
            down_since = down_since or time.monotonic()
            if time.monotonic() - down_since > GIVE_UP_SECONDS:
                raise ClusterError(f"lost the API server of {cluster.where} for more than "
                                   f"{GIVE_UP_SECONDS:.0f} s while following {name}",
                                   f"attach again later: kubeline runs attach {name}"
                                   ) from None
            time.sleep(_BACKOFF[min(failures, len(_BACKOFF) - 1)])  # reconnect backoff
            failures += 1
