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
from pathlib import Path
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


def archive_members(data: bytes | dict[str, bytes]) -> dict[str, str]:
    """An artifact's files and their sha256: Argo stores directories and files as .tgz (its
    default archive), the local executor the same; member times and owners are not compared.
    An unarchived folder (archive none) is its files by relative path on both sides."""
    import hashlib
    import io
    import tarfile

    if isinstance(data, dict):
        return {name: hashlib.sha256(body).hexdigest() for name, body in data.items()}

    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            return {m.name.lstrip("./"): hashlib.sha256(tar.extractfile(m).read()).hexdigest()
                    for m in tar.getmembers() if m.isfile() and tar.extractfile(m)}
    except tarfile.TarError:
        return {"": hashlib.sha256(data).hexdigest()}


def argo_artifacts(wf: dict[str, Any], read: Any, bucket: str) -> dict[str, dict[str, Any]]:
    """{node path: {artifact: members}} of a finished Workflow's output artifacts in S3."""
    name = wf["metadata"]["name"]
    found: dict[str, dict[str, Any]] = {}
    for node in wf.get("status", {}).get("nodes", {}).values():
        for art in (node.get("outputs") or {}).get("artifacts") or []:
            s3 = art.get("s3") or {}
            if art["name"] == "main-logs" or "key" not in s3:
                continue
            data = read(s3.get("bucket") or bucket, s3["key"])
            found.setdefault(relative(node["name"], name), {})[art["name"]] = archive_members(data)
    return found


def local_artifacts(summary: RunSummary, workflow: str) -> dict[str, dict[str, Any]]:
    """The same for a local run, whose artifacts are files (file:// locations)."""
    from urllib.parse import urlparse

    found: dict[str, dict[str, Any]] = {}
    for node in summary.nodes:
        for art in node.output_artifacts:
            location = art.get("location", "")
            if art["name"] == "main-logs" or not location.startswith("file://"):
                continue
            path = Path(urlparse(location).path)
            data: bytes | dict[str, bytes] = path.read_bytes() if path.is_file() else {
                str(f.relative_to(path)): f.read_bytes()
                for f in sorted(path.rglob("*")) if f.is_file()}
            found.setdefault(relative(node.name, workflow), {})[art["name"]] = (
                archive_members(data))
    return found
