"""Follow a Workflow to its end, recording it: each state goes to the recorder (and to
the caller's progress display), problems the cluster reports while a pod waits (an image
that cannot be pulled, no node that fits) are one line and end the run, Ctrl-C is Argo's
stop (running steps end, exit handlers run) and the run ends Canceled."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from kubeline.cluster.checks import ARGO_GROUP, ARGO_VERSION, WORKFLOWS
from kubeline.cluster.connect import Cluster
from kubeline.cluster.record import DONE, ClusterRecorder
from kubeline.cluster.watch import workflow_states
from kubeline.history import CANCELED, FAILED

# what a waiting pod's message starts with when it will not start by itself
_STUCK = re.compile(r"^(ImagePullBackOff|ErrImagePull|InvalidImageName|Unschedulable|"
                    r"CreateContainerConfigError|CreateContainerError)\b")


@dataclass(frozen=True)
class RunEnd:
    """How a cluster run ended (what ``kubeline run`` prints)."""

    id: str  # the Workflow's name
    phase: str
    message: str
    namespace: str
    run_id: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "phase": self.phase, "message": self.message,
                "namespace": self.namespace, "uid": self.run_id}


def stop(cluster: Cluster, name: str) -> None:
    """Argo's stop: no new steps, running ones are ended, exit handlers still run."""
    cluster.custom.patch_namespaced_custom_object(
        ARGO_GROUP, ARGO_VERSION, cluster.namespace, WORKFLOWS, name,
        {"spec": {"shutdown": "Stop"}})


def stuck(node: Mapping[str, Any]) -> str | None:
    """A one-line reason when a step's pod waits for something that will not come."""
    message = str(node.get("message") or "")
    if node.get("type") != "Pod" or node.get("phase") != "Pending" or not _STUCK.match(message):
        return None
    return message.splitlines()[0]


def settled(wf: Mapping[str, Any]) -> bool:
    """Ended, and Argo has reconciled its task results (the completed label)."""
    phase = (wf.get("status") or {}).get("phase")
    labels = (wf.get("metadata") or {}).get("labels") or {}
    return phase in DONE and labels.get("workflows.argoproj.io/completed") == "true"


def follow(cluster: Cluster, name: str, recorder: ClusterRecorder, *,
           out: IO[str] | None = None, fail_stuck: bool = True) -> RunEnd:
    """Record the Workflow until it ends. A stuck pod is reported at once and, with
    fail_stuck, the run is stopped and ends Failed with that line; a first Ctrl-C stops
    the workflow and waits for it to end (Canceled), a second one leaves it running."""
    out = out or sys.stderr
    stopping = False
    if recorder.history is None:
        recorder.start(f"cluster {cluster.where}")
    while True:
        try:
            for wf in workflow_states(cluster, name):
                shutdown = (wf.get("spec") or {}).get("shutdown")
                if shutdown and recorder.ending is None:
                    recorder.ending = (CANCELED, f"stopped on the cluster (spec.shutdown="
                                       f"{shutdown})")
                recorder.update(wf)
                for node in ((wf.get("status") or {}).get("nodes") or {}).values():
                    reason = stuck(node)
                    if reason and not stopping:
                        line = f"step '{node.get('displayName')}' cannot start: {reason}"
                        print(f"kubeline: {line}", file=out, flush=True)
                        if fail_stuck:
                            recorder.ending = (FAILED, line)
                            stopping = True
                            stop(cluster, name)
                if settled(wf):
                    status = wf.get("status") or {}
                    recorder.finish(str(status.get("phase")), str(status.get("message") or ""))
                    return RunEnd(name, str(status.get("phase")),
                                  str(status.get("message") or ""), cluster.namespace,
                                  recorder.run_id)
        except KeyboardInterrupt:
            if stopping:
                recorder.close()
                raise
            stopping = True
            recorder.ending = (CANCELED, "canceled by the user (Ctrl-C)")
            print(f"kubeline: stopping workflow {name} in namespace {cluster.namespace} "
                  "(Argo's stop: running steps end, exit handlers run); Ctrl-C again to "
                  "leave it running", file=out, flush=True)
            stop(cluster, name)
        except BaseException:
            recorder.close()
            raise


def spec_docs(cluster: Cluster, wf: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Workflow with the spec ConfigMaps it mounts (what the recorder reads steps from)."""
    import json

    names = []
    for volume in (wf.get("spec") or {}).get("volumes") or []:
        if "configMap" in volume:
            names.append(volume["configMap"]["name"])
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "configMap" in source:
                names.append(source["configMap"]["name"])
    docs: list[dict[str, Any]] = []
    for name in names:
        cm = cluster.core.read_namespaced_config_map(name, cluster.namespace)
        docs.append({"kind": "ConfigMap", "metadata": {"name": name},
                     "data": dict(cm.data or {})})
    return [*docs, json.loads(json.dumps(wf))]


class PlainProgress:
    """One line per step pod phase change (the follower process's log)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self._last: dict[str, str] = {}

    def __call__(self, node_id: str, node: Mapping[str, Any]) -> None:
        import time

        phase = str(node.get("phase") or "Pending")
        if node.get("type") not in ("Pod", "Skipped") or self._last.get(node_id) == phase:
            return
        self._last[node_id] = phase
        message = f" ({node['message']})" if node.get("message") and phase in DONE else ""
        print(f"{time.strftime('%H:%M:%S')} {node.get('displayName')} {phase}{message}",
              file=self.out, flush=True)
