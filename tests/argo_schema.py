"""Strict validation against the Argo projects' own JSON schemas (../shared/schemas), as
their decoders work: every object schema is closed (unknown fields are errors)."""

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
def closed_validator(schema_file: str, definition: str) -> jsonschema.protocols.Validator:
    """A validator of one definition of a ../shared/schemas file, with every object closed."""
    path = require_shared("schemas", schema_file)
    schema = copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))
    _close(schema["definitions"])
    root = {"$schema": schema["$schema"], "definitions": schema["definitions"],
            "$ref": f"#/definitions/{definition}"}
    return jsonschema.Draft202012Validator(root)


def errors_for(doc: dict[str, Any], schema_file: str, kinds: dict[str, str]) -> list[str]:
    """Messages for every violation; [] when valid or when the kind is not in kinds."""
    kind = doc.get("kind")
    if kind not in kinds:
        return []
    validator = closed_validator(schema_file, kinds[str(kind)])
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in validator.iter_errors(doc)]


def schema_errors(doc: dict[str, Any]) -> list[str]:
    """Violations of Argo Workflows' schema; [] when valid or not an Argo Workflows kind."""
    return errors_for(doc, "argo-workflows.schema.json", KINDS)
