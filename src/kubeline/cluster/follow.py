"""Follow a Workflow to its end, recording it: progress node by node, problems the cluster
reports while a pod waits (an image that cannot be pulled, no node that fits) as one line
and the end of the run, Ctrl-C as Argo's stop (running steps end, exit handlers run)."""

from __future__ import annotations

import json
import re
import sys
from typing import IO, TYPE_CHECKING, Any

from kubeline.cluster.checks import ARGO_GROUP, ARGO_VERSION, WORKFLOWS
from kubeline.cluster.connect import Cluster
from kubeline.cluster.record import ClusterRecorder, nodes_of
from kubeline.cluster.watch import workflow_states
from kubeline.local import history as h
from kubeline.local.summary import NodeSummary, RunSummary

if TYPE_CHECKING:
    from kubeline.local.nodes import Node

DONE = ("Succeeded", "Failed", "Error")
# what a waiting pod's message starts with when it will not start by itself
_STUCK = re.compile(r"^(ImagePullBackOff|ErrImagePull|InvalidImageName|Unschedulable|"
                    r"CreateContainerConfigError|CreateContainerError)\b")


def stop(cluster: Cluster, name: str) -> None:
    """Argo's stop: no new steps, running ones are ended, exit handlers still run."""
    cluster.custom.patch_namespaced_custom_object(
        ARGO_GROUP, ARGO_VERSION, cluster.namespace, WORKFLOWS, name,
        {"spec": {"shutdown": "Stop"}})


def stuck(node: Node) -> str | None:
    """A one-line reason when a step's pod waits for something that will not come."""
    if node.type != "Pod" or node.phase != "Pending" or not _STUCK.match(node.message):
        return None
    return node.message.splitlines()[0]


def _settled(wf: dict[str, Any]) -> bool:
    phase = (wf.get("status") or {}).get("phase")
    labels = (wf.get("metadata") or {}).get("labels") or {}
    return phase in DONE and labels.get("workflows.argoproj.io/completed") == "true"


def summary_of(wf: dict[str, Any], state_dir: str) -> RunSummary:
    """The end of a cluster run in the local executor's summary shape."""
    status = wf.get("status") or {}
    nodes = []
    for n in nodes_of(wf):
        params = {str(p.get("name")): str(p.get("value", ""))
                  for p in (n.outputs.parameters if n.outputs else [])}
        code = n.outputs.exit_code if n.outputs else None
        nodes.append(NodeSummary(
            id=n.id, name=n.name, display_name=n.display_name, type=n.type,
            template_name=n.template_name, phase=n.phase, message=n.message,
            attempts=1 if n.type == "Pod" else None,
            exit_code=int(code) if code not in (None, "") and str(code).isdigit() else None,
            output_parameters=params, output_artifacts=[],
            memoized=bool(n.memoization and n.memoization.get("hit")),
            started_at=n.started_at, finished_at=n.finished_at, log_dir=n.log_path,
            image="", children=list(n.children)))
    meta = wf["metadata"]
    return RunSummary(id=str(meta["name"]), phase=str(status.get("phase") or ""),
                      message=str(status.get("message") or ""), nodes=nodes, outputs={},
                      state_dir=state_dir, artifacts_dir="", sandbox=meta.get("namespace", ""),
                      started_at=str(status.get("startedAt") or ""),
                      finished_at=str(status.get("finishedAt") or ""))


def follow(cluster: Cluster, name: str, recorder: ClusterRecorder, *,
           out: IO[str] | None = None, fail_stuck: bool = True) -> RunSummary:
    """Record the Workflow until it ends. A stuck pod is reported at once and, with
    fail_stuck, the run is stopped and ends Failed with that line; a first Ctrl-C stops
    the workflow and waits for it to end (Canceled), a second one leaves it running."""
    out = out or sys.stderr
    started = recorder.history is not None  # the submitter may have recorded it already
    stopping = False
    while True:
        try:
            for wf in workflow_states(cluster, name):
                if not started:
                    recorder.run_started(name, f"cluster {cluster.where}", False)
                    started = True
                if (wf.get("spec") or {}).get("shutdown") and recorder.ending is None:
                    recorder.ending = (h.CANCELED, "stopped on the cluster (spec.shutdown="
                                       f"{wf['spec']['shutdown']})")
                for node in nodes_of(wf):
                    recorder.node_updated(node)
                    reason = stuck(node)
                    if reason and not stopping:
                        line = f"step '{node.display_name}' cannot start: {reason}"
                        print(f"kubeline: {line}", file=out, flush=True)
                        if fail_stuck:
                            recorder.ending = (h.FAILED, line)
                            stopping = True
                            stop(cluster, name)
                if _settled(wf):
                    summary = summary_of(wf, str(recorder.state_dir))
                    recorder.run_finished(summary)
                    return summary
        except KeyboardInterrupt:
            if stopping or not started:
                raise
            stopping = True
            recorder.ending = (h.CANCELED, "canceled by the user (Ctrl-C)")
            print(f"kubeline: stopping workflow {name} in namespace {cluster.namespace} "
                  "(Argo's stop: running steps end, exit handlers run); Ctrl-C again to "
                  "leave it running", file=out, flush=True)
            stop(cluster, name)


def spec_docs(cluster: Cluster, wf: dict[str, Any]) -> list[dict[str, Any]]:
    """The Workflow with the spec ConfigMaps it mounts (what the recorder reads steps from)."""
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
