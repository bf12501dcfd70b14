"""The AML submission body, checked field by field before anything starts.

``{"ExperimentName", "ParameterAssignments", "DataPathAssignments": {name: {"DataStoreName",
"RelativePath"}}, "DataSetDefinitionValueAssignments" (kubeline.server.dataset_assignments),
"PipelineVersion"}``: every problem is a RequestError naming the field,
so a rejected request starts nothing and the caller learns what to change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubeline.datapaths import DatastorePathError, safe_path
from kubeline.exceptions import KubelineError
from kubeline.server import dataset_assignments
from kubeline.server.dataset_assignments import DatasetAssignment
from kubeline.server.registry import ParameterInfo, PublishedRecord

EXPERIMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")
BODY_FIELDS = ("ExperimentName", "ParameterAssignments", "DataPathAssignments",
               dataset_assignments.FIELD, "Tags",
               "RunSource")  # RunSource: AML's caller label ("SDK"), accepted and unused
ENDPOINT_FIELDS = (*BODY_FIELDS, "PipelineVersion")
_ARTICLE = {"int": "an"}


class RequestError(KubelineError):
    """A rejected request: HTTP status, the field at fault and a one-line message."""

    def __init__(self, status: int, field: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.status = status
        self.field = field

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": self.status, "field": self.field, "message": str(self)}}


@dataclass(frozen=True)
class SubmitBody:
    """A checked submission body."""

    experiment: str
    parameters: dict[str, Any] = field(default_factory=dict)
    data_paths: dict[str, dict[str, str]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    version: str | None = None
    datasets: dict[str, DatasetAssignment] = field(default_factory=dict)


def parse_body(raw: bytes, *, endpoint: bool) -> SubmitBody:
    """JSON bytes -> SubmitBody; unknown top-level fields are errors (typos must not pass)."""
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestError(400, "body", f"the request body is not valid JSON ({exc})",
                           'send {"ExperimentName": "...", "ParameterAssignments": {...}}'
                           ) from None
    if not isinstance(data, dict):
        raise RequestError(400, "body", "the request body must be a JSON object",
                           'send {"ExperimentName": "...", "ParameterAssignments": {...}}')
    allowed = ENDPOINT_FIELDS if endpoint else BODY_FIELDS
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise RequestError(400, unknown[0], f"unknown field '{unknown[0]}' in the request body",
                           f"the fields are {', '.join(allowed)}")
    name = data.get("ExperimentName")
    if name is None or name == "":
        raise RequestError(400, "ExperimentName", "ExperimentName is missing",
                           'add "ExperimentName": "<experiment>" to the body')
    if not isinstance(name, str) or not EXPERIMENT_NAME.match(name):
        raise RequestError(400, "ExperimentName", f"ExperimentName {name!r} is not valid",
                           "use 1-255 letters, digits, '_' or '-'")
    params = _mapping(data, "ParameterAssignments")
    paths = _mapping(data, "DataPathAssignments")
    checked_paths: dict[str, dict[str, str]] = {}
    for key, value in paths.items():
        where = f"DataPathAssignments.{key}"
        if not isinstance(value, dict) or set(value) - {"DataStoreName", "RelativePath"}:
            raise RequestError(400, where, f"{where} must be "
                               '{"DataStoreName": "...", "RelativePath": "..."}')
        store, rel = value.get("DataStoreName"), value.get("RelativePath", "")
        if not isinstance(store, str) or not store:
            raise RequestError(400, f"{where}.DataStoreName", f"{where}.DataStoreName is missing")
        if not isinstance(rel, str):
            raise RequestError(400, f"{where}.RelativePath",
                               f"{where}.RelativePath must be a string")
        checked_paths[str(key)] = {"DataStoreName": store, "RelativePath": rel}
    tags = _mapping(data, "Tags")
    for key, value in tags.items():
        if not isinstance(value, str):
            raise RequestError(400, f"Tags.{key}", f"Tags.{key} must be a string")
    version = data.get("PipelineVersion")
    if version is not None and not isinstance(version, str):
        raise RequestError(400, "PipelineVersion", "PipelineVersion must be a string such as "
                           '"0"')
    datasets = dataset_assignments.parse(data.get(dataset_assignments.FIELD))
    return SubmitBody(experiment=name, parameters=dict(params), data_paths=checked_paths,
                      tags={str(k): str(v) for k, v in tags.items()}, version=version,
                      datasets=datasets)


def _mapping(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RequestError(400, name, f"{name} must be a JSON object of name: value")
    return value


def bind(record: PublishedRecord, parameters: Mapping[str, Any],
         data_paths: Mapping[str, Mapping[str, str]], datastores: Collection[str],
         where: str = "ParameterAssignments",
         datasets: Mapping[str, str] | None = None) -> dict[str, str]:
    """Assignments -> workflow argument values (the compiler's encoding), every name and
    type checked against the published pipeline's parameters. ``datasets``: dataset
    parameters' definitions, resolved by kubeline.server.dataset_assignments.resolve."""
    known = {p.name: p for p in record.parameters}
    out: dict[str, str] = {}
    for name, value in parameters.items():
        param = known.get(name)
        if param is None:
            raise RequestError(400, f"{where}.{name}",
                               f"unknown parameter '{name}' for published pipeline "
                               f"'{record.name}'", f"its parameters are: "
                               f"{', '.join(sorted(known)) or 'none'}")
        out[param.argument] = _encode(param, value, f"{where}.{name}", datastores)
    for name, value in data_paths.items():
        param = known.get(name)
        field_name = f"DataPathAssignments.{name}"
        if param is None or param.type != "datapath":
            paths = sorted(p.name for p in record.parameters if p.type == "datapath")
            raise RequestError(400, field_name, f"'{name}' is not a DataPath parameter of "
                               f"published pipeline '{record.name}'",
                               f"its DataPath parameters are: {', '.join(paths) or 'none'}")
        if name in parameters:
            raise RequestError(400, field_name, f"'{name}' is assigned twice",
                               "give it in DataPathAssignments only")
        value = {"datastore": value["DataStoreName"], "path": value["RelativePath"]}
        out[param.argument] = _encode(param, value, field_name, datastores)
    for name, spec_json in (datasets or {}).items():
        if name in parameters:
            raise RequestError(400, f"{dataset_assignments.FIELD}.{name}",
                               f"'{name}' is assigned twice",
                               f"give it in {dataset_assignments.FIELD} only")
        out[known[name].argument] = spec_json
    return out


def _encode(param: ParameterInfo, value: Any, where: str, datastores: Collection[str]) -> str:
    kind = param.type
    article = _ARTICLE.get(kind, "a")
    bad = RequestError(400, where, f"{where}: expected {article} {kind} value, got {value!r}")
    if kind == "bool":
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return "True" if value.lower() == "true" else "False"
        raise bad
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise bad
        try:
            return str(int(value))
        except ValueError:
            raise bad from None
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise bad
        try:
            return str(float(value)) if isinstance(value, str) else str(value)
        except ValueError:
            raise bad from None
    if kind == "datapath":
        if isinstance(value, dict) and "DataStoreName" in value:
            value = {"datastore": value["DataStoreName"], "path": value.get("RelativePath", "")}
        if not isinstance(value, dict) or not isinstance(value.get("datastore"), str):
            raise bad
        if value["datastore"] not in datastores:
            raise RequestError(400, where, f"{where}: unknown datastore "
                               f"'{value['datastore']}'",
                               f"the workspace's datastores are: {', '.join(sorted(datastores))}")
        field = where + (".RelativePath" if where.startswith("DataPathAssignments") else ".path")
        try:
            path = safe_path(value.get("path"), field, store=value["datastore"])
        except DatastorePathError as exc:
            raise RequestError(400, field, exc.message, exc.hint) from None
        return json.dumps({"datastore": value["datastore"], "path": path}, sort_keys=True)
    if isinstance(value, (dict, list)) or value is None:
        raise bad
    return str(value)
