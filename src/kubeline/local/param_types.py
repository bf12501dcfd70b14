"""Check -p values against a compiled pipeline's parameter types before anything starts,
so `-p pipeline_arg=abc` for an int parameter fails at once instead of in the last step."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kubeline.datapaths import DatastorePathError, safe_path
from kubeline.exceptions import KubelineError

_BOOLS = {"true", "false", "True", "False", "1", "0", "yes", "no"}


def _spec(docs: list[dict[str, Any]]) -> dict[str, Any]:
    for doc in docs:
        if doc.get("kind") == "ConfigMap" and "pipeline.json" in (doc.get("data") or {}):
            return json.loads(doc["data"]["pipeline.json"])  # type: ignore[no-any-return]
    return {}


def _problem(kind: str, value: str) -> str | None:
    try:
        if kind == "int":
            int(value)
        elif kind == "float":
            float(value)
        elif kind == "bool" and value not in _BOOLS:
            return "true or false"
        elif kind == "datapath":
            data = json.loads(value)
            if not isinstance(data, dict) or set(data) != {"datastore", "path"}:
                raise ValueError
    except ValueError:
        return {"int": "a whole number", "float": "a number",
                "datapath": 'JSON {"datastore": "...", "path": "..."}'}.get(kind, kind)
    return None


def _datapath_problems(name: str, value: dict[str, Any], stores: list[str] | None
                       ) -> list[str]:
    store = value["datastore"]
    if stores is not None and store not in stores:
        return [f"parameter '{name}': datastore '{store}' is not one this pipeline uses "
                f"(known: {', '.join(stores)})"]
    try:
        safe_path(value["path"], f"parameter '{name}': path", store=str(store))
    except DatastorePathError as exc:
        return [str(exc)]
    return []


def check_datapath_shaped(values: Mapping[str, str]) -> None:
    """Before a pipeline file is even compiled (compiling publishes its source snapshots):
    refuse a value written as a DataPath whose path could leave its datastore."""
    problems = []
    for name, value in values.items():
        try:
            data = json.loads(value)
        except ValueError:
            continue
        if isinstance(data, dict) and set(data) == {"datastore", "path"}:
            problems += _datapath_problems(name, data, None)
    if problems:
        raise KubelineError("; ".join(problems), "fix the -p value")


def check_parameter_values(docs: list[dict[str, Any]], values: Mapping[str, str]) -> None:
    """Raise one line per value of the wrong type (naming the parameter and its type) or
    DataPath on a datastore the pipeline's steps cannot reach."""
    spec = _spec(docs)
    types = {p["name"]: p["type"] for p in spec.get("parameters", [])}
    stores = sorted(spec.get("datastores", {}))
    problems = []
    for name, value in values.items():
        kind = types.get(name)
        expected = _problem(kind, value) if kind else None
        if expected:
            problems.append(f"parameter '{name}' is {kind}: '{value}' is not {expected}")
        elif kind == "datapath":
            problems += _datapath_problems(name, json.loads(value), stores)
    if problems:
        raise KubelineError("; ".join(problems), "fix the -p value")
