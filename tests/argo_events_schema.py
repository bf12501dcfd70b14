"""Strict validation against Argo Events' JSON schema (../shared/schemas)."""

from __future__ import annotations

from typing import Any

from tests.argo_schema import errors_for

KINDS = {
    "EventSource": "io.argoproj.events.v1alpha1.EventSource",
    "Sensor": "io.argoproj.events.v1alpha1.Sensor",
    "EventBus": "io.argoproj.events.v1alpha1.EventBus",
}


def events_schema_errors(doc: dict[str, Any]) -> list[str]:
    """Violations of Argo Events' schema; [] when valid or another kind."""
    return errors_for(doc, "argo-events.schema.json", KINDS)
