"""Argo's node model: names, IDs, pod names, display names, phases.

Names and IDs follow Argo's controller exactly (workflow_types.go NodeID, util/pod_name.go,
operator.go generateNodeName/initializeNode) so that a local run's node list reads like the
same workflow's status on a cluster.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

SUCCEEDED = "Succeeded"
FAILED = "Failed"
ERROR = "Error"
SKIPPED = "Skipped"
OMITTED = "Omitted"
RUNNING = "Running"
PENDING = "Pending"

FULFILLED = frozenset({SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED})
COMPLETED = frozenset({SUCCEEDED, FAILED, ERROR})
FAILED_OR_ERROR = frozenset({FAILED, ERROR})

_STEP_OR_DAG_SEPARATOR = re.compile(r"^(\[\d+\])?\.")
_MAX_POD_PREFIX = 253 - 10 - 1


def fnv32a(text: str) -> int:
    """The 32-bit FNV-1a hash Argo uses for node IDs and pod names."""
    h = 0x811C9DC5
    for byte in text.encode():
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def node_id(workflow_name: str, node_name: str) -> str:
    """Argo's deterministic node ID: the workflow name for the root, else name-fnv32a."""
    if node_name == workflow_name:
        return workflow_name
    return f"{workflow_name}-{fnv32a(node_name)}"


def pod_name(workflow_name: str, node_name: str, template_name: str) -> str:
    """Argo's v2 pod name: ``<wf>-<template>-<fnv32a(nodeName)>``."""
    if node_name == workflow_name:
        return workflow_name
    prefix = f"{workflow_name}-{template_name}" if template_name else workflow_name
    prefix = prefix[:_MAX_POD_PREFIX]
    return f"{prefix}-{fnv32a(node_name)}"


def display_name(node_name: str, boundary_name: str | None) -> str:
    """The node name without its boundary's prefix and the ``[i].``/``.`` separator."""
    if boundary_name is None:
        return node_name
    name = node_name[len(boundary_name) :] if node_name.startswith(boundary_name) else node_name
    return _STEP_OR_DAG_SEPARATOR.sub("", name, count=1)


def go_json(value: Any) -> str:
    """JSON text as Go's json.Marshal writes it: compact, sorted map keys, HTML-escaped."""
    text = json.dumps(_go_numbers(value), separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _go_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {k: _go_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_go_numbers(v) for v in value]
    return value


def item_string(item: Any) -> str:
    """How Argo prints a loop item (wfv1.Item.String): raw strings, JSON for the rest."""
    if isinstance(item, str):
        return json.dumps(item, ensure_ascii=False)[1:-1]
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, list):
        return "[" + " ".join(item_string(v) for v in item) + "]"
    return go_json(item)


def loop_node_name(name: str, index: int, item: Any) -> str:
    """``name(index:desc)`` with parentheses removed from desc, as Argo's generateNodeName."""
    if isinstance(item, dict):
        desc = ",".join(sorted(f"{k}:{item_string(v)}" for k, v in item.items()))
    else:
        desc = item_string(item)
    desc = desc.replace("(", "").replace(")", "")
    return f"{name}({index}:{desc})"


def loop_index(node_name: str) -> int:
    """The loop index of an expanded child's name (Argo's parseLoopIndex)."""
    tail = node_name.rsplit("(", 1)[-1]
    return int(tail.split(":", 1)[0].rstrip(")"))


@dataclass
class Outputs:
    """A node's outputs in Argo's shape (parameters keep declaration order)."""

    parameters: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    result: str | None = None
    exit_code: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.parameters:
            out["parameters"] = self.parameters
        if self.artifacts:
            out["artifacts"] = self.artifacts
        if self.result is not None:
            out["result"] = self.result
        if self.exit_code is not None:
            out["exitCode"] = self.exit_code
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Outputs | None:
        if data is None:
            return None
        return cls(
            parameters=list(data.get("parameters", [])),
            artifacts=list(data.get("artifacts", [])),
            result=data.get("result"),
            exit_code=data.get("exitCode"),
        )

    def parameter(self, name: str) -> str | None:
        for p in self.parameters:
            if p.get("name") == name:
                value = p.get("value")
                return None if value is None else str(value)
        return None


@dataclass
class Node:
    """One entry of the workflow's node status (Argo's NodeStatus, the fields we use)."""

    id: str
    name: str
    display_name: str
    type: str
    phase: str
    template_name: str = ""
    boundary_id: str = ""
    children: list[str] = field(default_factory=list)
    outputs: Outputs | None = None
    message: str = ""
    started_at: str = ""
    finished_at: str = ""
    pod_name: str = ""
    memoization: dict[str, Any] | None = None
    process_starts: int = 0
    retried: bool = False
    log_path: str = ""
    image: str = ""
    start_seq: int = 0
    finish_seq: int = 0
    daemoned: bool = False  # a daemon that runs on in the background (daemons.py)
    pod_ip: str = ""

    @property
    def fulfilled(self) -> bool:
        """Argo's Fulfilled(): done, or a daemon that is up."""
        return self.phase in FULFILLED or (self.daemoned and self.phase != "Pending")

    @property
    def completed(self) -> bool:
        return self.phase in COMPLETED

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "displayName": self.display_name,
            "type": self.type,
            "phase": self.phase,
            "templateName": self.template_name,
            "boundaryID": self.boundary_id,
            "children": self.children,
            "message": self.message,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "podName": self.pod_name,
            "processStarts": self.process_starts,
            "retried": self.retried,
            "logPath": self.log_path,
            "image": self.image,
            "startSeq": self.start_seq,
            "finishSeq": self.finish_seq,
        }
        if self.outputs is not None:
            data["outputs"] = self.outputs.to_json()
        if self.memoization is not None:
            data["memoizationStatus"] = self.memoization
        if self.daemoned:
            data["daemoned"] = True
        if self.pod_ip:
            data["podIP"] = self.pod_ip
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Node:
        return cls(
            id=data["id"],
            name=data["name"],
            display_name=data["displayName"],
            type=data["type"],
            phase=data["phase"],
            template_name=data.get("templateName", ""),
            boundary_id=data.get("boundaryID", ""),
            children=list(data.get("children", [])),
            outputs=Outputs.from_json(data.get("outputs")),
            message=data.get("message", ""),
            started_at=data.get("startedAt", ""),
            finished_at=data.get("finishedAt", ""),
            pod_name=data.get("podName", ""),
            memoization=data.get("memoizationStatus"),
            process_starts=int(data.get("processStarts", 0)),
            retried=bool(data.get("retried", False)),
            log_path=data.get("logPath", ""),
            image=data.get("image", ""),
            start_seq=int(data.get("startSeq", 0)),
            finish_seq=int(data.get("finishSeq", 0)),
            daemoned=bool(data.get("daemoned", False)),
            pod_ip=str(data.get("podIP", "")),
        )
