"""The step spec: what each step's runtime shim reads, shipped as ConfigMap files.

Keeping per-step details (script, arguments, data locations) out of the DAG tasks lets
steps of one shape share a template and keeps the Workflow object small; the ConfigMap is
one line of canonical JSON per step, so GitOps diffs read step by step. What most steps
share is written once, as ``step_defaults`` in pipeline.json (kubeline.graph.stepspec.pack),
and the fingerprint is not shipped: the shim recomputes it from the record.
Argo's models are imported only to build the ConfigMap objects: spec_files alone is what
the compile cache keys on, without them.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from kubeline.graph.model import PipelineGraph
from kubeline.graph.stepspec import encode_step, pack, step_defaults
from kubeline.stores.config import datastore_to_dict
from kubeline.workspace.config import WorkspaceConfig

if TYPE_CHECKING:
    from kubeline.compiler.argo.k8s import ConfigMap

SPEC_MOUNT = "/kubeline/spec"
PIPELINE_KEY = "pipeline.json"
MAX_CONFIGMAP_BYTES = 900 * 1024  # Kubernetes caps a ConfigMap at 1 MiB


def step_key(step_id: str) -> str:
    return f"step.{step_id}.json"


def _line(data: Any) -> str:
    """One line of canonical JSON: a changed step is one changed line in a diff."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"


def spec_files(graph: PipelineGraph, config: WorkspaceConfig) -> dict[str, str]:
    """File name -> content, in a stable order: the pipeline file, then one per step."""
    stores = {name: datastore_to_dict(config.datastores[name])
              for name in graph.datastores if name in config.datastores}
    pipeline = {
        "name": graph.name,
        "default_datastore": graph.default_datastore,
        "datastores": stores,
        "parameters": [
            {"name": p.name, "type": p.type,
             "default": p.default if not hasattr(p.default, "datastore") else
             {"datastore": p.default.datastore, "path": p.default.path}}  # type: ignore[union-attr]
            for p in graph.parameters
        ],
    }
    records = [encode_step(step, "") for step in graph.steps]
    defaults = step_defaults(records)
    if defaults:
        pipeline["step_defaults"] = defaults
    files = {PIPELINE_KEY: _line(pipeline)}
    for step, record in zip(graph.steps, records, strict=True):
        files[step_key(step.id)] = _line(pack(record, defaults, graph.default_datastore))
    return files


def spec_digest(files: dict[str, str]) -> str:
    """A content id of the whole pipeline: changes whenever any step's spec changes."""
    digest = hashlib.sha256()
    for key, text in files.items():
        digest.update(key.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()[:16]


def spec_configmaps(name: str, labels: dict[str, str], files: dict[str, str]) -> list[ConfigMap]:
    """One ConfigMap, or several of at most MAX_CONFIGMAP_BYTES when the pipeline is large."""
    from hera.workflows.models import ObjectMeta

    from kubeline.compiler.argo.k8s import ConfigMap

    groups: list[dict[str, str]] = [{}]
    size = 0
    for key, text in files.items():
        if size + len(text) > MAX_CONFIGMAP_BYTES and groups[-1]:
            groups.append({})
            size = 0
        groups[-1][key] = text
        size += len(text)
    names = [name] if len(groups) == 1 else [f"{name}-{i}" for i in range(len(groups))]
    return [ConfigMap(metadata=ObjectMeta(name=n, labels=labels), data=data)
            for n, data in zip(names, groups, strict=True)]
