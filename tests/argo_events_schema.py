"""Strict validation against Argo Events' JSON schema (../shared/schemas): like Argo's
decoder, every object schema is closed (unknown fields are errors)."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import jsonschema

from tests.argo_schema import _close
from tests.conftest import require_shared

KINDS = {
    "EventSource": "io.argoproj.events.v1alpha1.EventSource",
    "Sensor": "io.argoproj.events.v1alpha1.Sensor",
    "EventBus": "io.argoproj.events.v1alpha1.EventBus",
}


@cache
def _validator(kind: str) -> jsonschema.protocols.Validator:
    path = require_shared("schemas", "argo-events.schema.json")
    schema = copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))
    _close(schema["definitions"])
    root = {"$schema": schema["$schema"], "definitions": schema["definitions"],
            "$ref": f"#/definitions/{KINDS[kind]}"}
    return jsonschema.Draft202012Validator(root)


def events_schema_errors(doc: dict[str, Any]) -> list[str]:
    """Messages for every violation of Argo Events' schema; [] when valid or another kind."""
    kind = doc.get("kind")
    if kind not in KINDS:
        return []
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in _validator(str(kind)).iter_errors(doc)]
