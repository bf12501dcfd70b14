"""AML's ``DataSetDefinitionValueAssignments``: replace a pipeline's dataset parameters by name.

A REST submission may give, per dataset parameter (``PipelineParameter(default_value=
Dataset...)``), one of the three forms AML's ``DataSetDefinitionValue`` has:

* ``{"SavedDataSetReference": {"Id": "<id>"}}``: a registered dataset by its id (kubeline's
  ids are ``name:version``, what ``dataset.id`` gives);
* ``{"DataSetReference": {"Name": "<name>", "Version": "<n>"}}`` (or ``"Id"`` instead of the
  name): a registered dataset, its latest version when ``Version`` is absent;
* ``{"LiteralValue": {"DataStoreName": "...", "RelativePath": "..."}}``: a datastore path,
  read as the parameter's default is (same kind, format and options; globs allowed).

Keys match whatever their case (AML's service accepts ``savedDataSetReference`` too). The
body is checked when it is parsed (:func:`parse`); registered names are looked up in the
workspace's registry when the run starts (:func:`resolve`), so a wrong id is a 400 naming the
field and nothing starts. Why these choices: docs/decisions/0036-dataset-assignments.md.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from kubeline.datapaths import DatastorePathError, safe_path
from kubeline.datasets.spec import DatasetError, DatasetSpec, Source, from_json
from kubeline.exceptions import KubelineError
from kubeline.stores.base import Store

FIELD = "DataSetDefinitionValueAssignments"
FORMS = ("SavedDataSetReference", "DataSetReference", "LiteralValue")
SHAPE = ('{"SavedDataSetReference": {"Id": "name:version"}}, {"DataSetReference": '
         '{"Name": "...", "Version": "..."}} or {"LiteralValue": {"DataStoreName": "...", '
         '"RelativePath": "..."}}')


@dataclass(frozen=True)
class DatasetAssignment:
    """One checked assignment: which form, and its fields (names in AML's casing)."""

    form: str
    fields: dict[str, str]


def _request_error(field: str, message: str, hint: str | None = None) -> KubelineError:
    from kubeline.server.body import RequestError

    return RequestError(400, field, message, hint)


def _by_lower(data: Mapping[str, Any], known: tuple[str, ...], where: str) -> dict[str, Any]:
    """``data`` with each key in its canonical casing; an unknown key is an error."""
    canonical = {name.lower(): name for name in known}
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = canonical.get(str(key).lower())
        if name is None:
            raise _request_error(f"{where}.{key}", f"unknown field '{key}' in {where}",
                                 f"the fields are {', '.join(known)}")
        out[name] = value
    return out


def parse(value: Any) -> dict[str, DatasetAssignment]:
    """The body's ``DataSetDefinitionValueAssignments`` checked for shape (nothing looked up)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _request_error(FIELD, f"{FIELD} must be a JSON object of parameter name: value",
                             f"each value is {SHAPE}")
    out: dict[str, DatasetAssignment] = {}
    for name, item in value.items():
        where = f"{FIELD}.{name}"
        if not isinstance(item, dict) or len(item) != 1:
            raise _request_error(where, f"{where} must be an object with exactly one of "
                                 f"{', '.join(FORMS)}", f"send {SHAPE}")
        ((form, inner),) = _by_lower(item, FORMS, where).items()
        where = f"{where}.{form}"
        if not isinstance(inner, dict):
            raise _request_error(where, f"{where} must be a JSON object", f"send {SHAPE}")
        known = {"SavedDataSetReference": ("Id",), "DataSetReference": ("Id", "Name", "Version"),
                 "LiteralValue": ("DataStoreName", "RelativePath")}[form]
        fields = _by_lower(inner, known, where)
        for key, text in fields.items():
            if isinstance(text, int) and not isinstance(text, bool) and key == "Version":
                fields[key] = str(text)
            elif not isinstance(text, str):
                raise _request_error(f"{where}.{key}", f"{where}.{key} must be a string")
        required = {"SavedDataSetReference": "Id", "LiteralValue": "DataStoreName"}.get(form)
        if required and not fields.get(required):
            raise _request_error(f"{where}.{required}", f"{where}.{required} is missing")
        if form == "DataSetReference" and not (fields.get("Name") or fields.get("Id")):
            raise _request_error(f"{where}.Name", f"{where} needs a Name or an Id",
                                 'send {"Name": "<registered name>", "Version": "<n>"}')
        out[str(name)] = DatasetAssignment(form, fields)
    return out


def dataset_default(default: Any) -> DatasetSpec | None:
    """The definition a parameter's default holds, when it is a dataset parameter."""
    if not isinstance(default, str) or not default.startswith("{"):
        return None
    try:
        return from_json(default)
    except DatasetError:
        return None


def resolve(assignments: Mapping[str, DatasetAssignment], defaults: Mapping[str, Any],
            pipeline: str, registry_store: Callable[[], Store],
            datastores: Collection[str]) -> dict[str, str]:
    """Parameter name -> the definition (canonical JSON) each assignment stands for, checked
    against the published pipeline's dataset parameters and the workspace's registry."""
    out: dict[str, str] = {}
    for name, assignment in assignments.items():
        where = f"{FIELD}.{name}"
        default = dataset_default(defaults.get(name))
        if default is None:
            params = sorted(p for p, d in defaults.items() if dataset_default(d) is not None)
            raise _request_error(where, f"'{name}' is not a dataset parameter of published "
                                 f"pipeline '{pipeline}'",
                                 f"its dataset parameters are: {', '.join(params) or 'none'}")
        where = f"{where}.{assignment.form}"
        if assignment.form == "LiteralValue":
            spec = _literal(assignment.fields, default, where, datastores)
        else:
            spec = _registered(assignment, registry_store, where)
            if spec.kind != default.kind:
                raise _request_error(where, f"{where}: '{spec.name}' version {spec.version} is "
                                     f"a {spec.kind} dataset; parameter '{name}' takes a "
                                     f"{default.kind} dataset",
                                     f"register a {default.kind} dataset and pass its id")
        out[name] = spec.to_json()
    return out


def _literal(fields: Mapping[str, str], default: DatasetSpec, where: str,
             datastores: Collection[str]) -> DatasetSpec:
    store = fields["DataStoreName"]
    if store not in datastores:
        raise _request_error(f"{where}.DataStoreName", f"{where}: unknown datastore '{store}'",
                             f"the workspace's datastores are: {', '.join(sorted(datastores))}")
    try:
        path = safe_path(fields.get("RelativePath", ""), f"{where}.RelativePath", store=store)
    except DatastorePathError as exc:
        raise _request_error(f"{where}.RelativePath", exc.message, exc.hint) from None
    return replace(default, sources=(Source(datastore=store, path=path),), transforms=(),
                   name="", version=0)


def _registered(assignment: DatasetAssignment, registry_store: Callable[[], Store],
                where: str) -> DatasetSpec:
    from kubeline.datasets import registry

    fields = assignment.fields
    name, version = fields.get("Name", ""), fields.get("Version") or "latest"
    key = "Name"
    if not name:
        key = "Id"
        name, _, id_version = fields["Id"].rpartition(":")
        if not name or not id_version.isdigit():
            raise _request_error(f"{where}.Id", f"{where}.Id {fields['Id']!r} is not a "
                                 "kubeline dataset id", "pass dataset.id: 'name:version'")
        if assignment.form == "SavedDataSetReference" or "Version" not in fields:
            version = id_version
    if version != "latest" and not str(version).isdigit():
        raise _request_error(f"{where}.Version", f"{where}.Version {version!r} is not a "
                             "version number", 'pass "Version": "2", or leave it out for '
                             "the latest")
    try:
        record = registry.get(registry_store(), name, version)
        return registry.spec_of(record)
    except KubelineError as exc:
        raise _request_error(f"{where}.{key}", f"{where}: {exc.message}", exc.hint) from None



_STRINGS = {"type": "object", "additionalProperties": False}
SCHEMA: dict[str, Any] = {
    "type": "object", "description": "dataset parameter name -> a registered dataset or a "
    "datastore path (docs/serve.md)", "additionalProperties": {
        "type": "object", "minProperties": 1, "maxProperties": 1, "properties": {
            "SavedDataSetReference": {**_STRINGS, "properties": {"Id": {"type": "string"}},
                                      "required": ["Id"]},
            "DataSetReference": {**_STRINGS, "properties": {
                "Id": {"type": "string"}, "Name": {"type": "string"},
                "Version": {"type": ["string", "integer"]}}},
            "LiteralValue": {**_STRINGS, "properties": {
                "DataStoreName": {"type": "string"}, "RelativePath": {"type": "string"}},
                "required": ["DataStoreName"]}}}}
