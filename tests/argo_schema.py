"""Strict validation against Argo's own JSON schema (../shared/schemas), as Argo decodes:
every object schema is closed (unknown fields are errors)."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import jsonschema

from tests.conftest import require_shared

KINDS = {
    "Workflow": "io.argoproj.workflow.v1alpha1.Workflow",
    "WorkflowTemplate": "io.argoproj.workflow.v1alpha1.WorkflowTemplate",
    "CronWorkflow": "io.argoproj.workflow.v1alpha1.CronWorkflow",
}


def _close(node: Any) -> None:
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _close(value)
    elif isinstance(node, list):
        for value in node:
            _close(value)


@cache
def _validator(kind: str) -> jsonschema.protocols.Validator:
    path = require_shared("schemas", "argo-workflows.schema.json")
    schema = copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))
    _close(schema["definitions"])
    root = {"$schema": schema["$schema"], "definitions": schema["definitions"],
            "$ref": f"#/definitions/{KINDS[kind]}"}
    return jsonschema.Draft202012Validator(root)


def schema_errors(doc: dict[str, Any]) -> list[str]:
    """Messages for every violation of Argo's schema; [] when valid or not an Argo kind."""
    kind = doc.get("kind")
    if kind not in KINDS:
        return []
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in _validator(str(kind)).iter_errors(doc)]
