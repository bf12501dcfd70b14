"""Node-by-node views of one workflow run, from Argo's status or from the local executor's
summary, in one shape so that the two compare with ==.

A node is named by its path below the workflow (Argo's node name without the workflow's own
name, e.g. ``.train-py`` or ``[0].step``), since the two runs give the workflow different names.
Values that name the run itself (the workflow's uid, pod names, times) are left out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from kubeline.local import RunSummary

# Output parameters whose value names the run (kubeline's origin: run id and step id).
RUN_SPECIFIC_PARAMETERS = {"origin"}


@dataclass(frozen=True)
class NodeView:
    type: str
    phase: str
    parameters: dict[str, str] = field(default_factory=dict)
    artifacts: tuple[str, ...] = ()
    run_id: str = field(default="", compare=False)  # kubeline's run id (origin), not compared


def relative(name: str, workflow: str) -> str:
    return name[len(workflow):] if name.startswith(workflow) else name


def _params(pairs: dict[str, str]) -> dict[str, str]:
    out = {}
    for name, value in pairs.items():
        if name in RUN_SPECIFIC_PARAMETERS:
            out[name] = _origin_step(value)
        else:
            out[name] = value
    return out


def _origin_step(value: str) -> str:
    try:
        return str(json.loads(value).get("step_id"))
    except (ValueError, AttributeError):
        return value


def _run_id(pairs: dict[str, str]) -> str:
    try:
        return str(json.loads(pairs.get("origin", "")).get("run_id", ""))
    except (ValueError, AttributeError):
        return ""


def argo_nodes(wf: dict[str, Any]) -> dict[str, NodeView]:
    name = wf["metadata"]["name"]
    views = {}
    for node in wf.get("status", {}).get("nodes", {}).values():
        outputs = node.get("outputs") or {}
        params = {p["name"]: str(p.get("value", "")) for p in outputs.get("parameters") or []}
        arts = tuple(sorted(a["name"] for a in outputs.get("artifacts") or []
                            if a["name"] != "main-logs"))
        views[relative(node["name"], name)] = NodeView(node["type"], node["phase"],
                                                       _params(params), arts, _run_id(params))
    return views


def local_nodes(summary: RunSummary, workflow: str) -> dict[str, NodeView]:
    views = {}
    for node in summary.nodes:
        arts = tuple(sorted(a["name"] for a in node.output_artifacts if a["name"] != "main-logs"))
        params = dict(node.output_parameters)
        views[relative(node.name, workflow)] = NodeView(
            node.type, node.phase, _params(params), arts, _run_id(params))
    return views


# Node types that exist only in Argo's status, never as work: Argo adds a Skipped node for a
# `when` that is false and a Retry parent for retried templates; the local executor keeps them
# too, so nothing is filtered by default.
def differences(cluster: dict[str, NodeView], local: dict[str, NodeView]) -> list[str]:
    """Every node that differs, one line each (empty when the runs agree)."""
    lines = []
    for path in sorted(set(cluster) | set(local)):
        a, b = cluster.get(path), local.get(path)
        if a != b:
            lines.append(f"{path or '(workflow)'}: cluster={a} local={b}")
    return lines


def workflow_name_of(docs: list[dict[str, Any]]) -> str:
    [wf] = [d for d in docs if d.get("kind") == "Workflow"]
    meta = wf["metadata"]
    return str(meta.get("name") or meta["generateName"])


def strip_generated(name: str) -> str:
    return re.sub(r"-[a-z0-9]{5}$", "", name)
