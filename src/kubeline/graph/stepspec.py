"""The JSON forms of a step: the full record (what fingerprints hash) and the shipped one.

``encode_step`` writes the full record: empty fields left out, arguments as they read
("--input", {"data": "x"}, {"param": "p"}). ``pack`` ships it smaller, for the spec
ConfigMap: fields most steps share move to the pipeline's ``step_defaults`` (image, kind,
snapshot, script...), the id is the file name, the datastore of data is the pipeline's
default one unless named, and dependencies implied by an input's producer are left out.
``unpack`` restores the full record byte for byte, so the shim's fingerprint is the
compiler's (docs/compile.md, "The step spec").
"""

from __future__ import annotations

import json
from typing import Any

from kubeline.graph.model import Arg, DataRef, Lit, ParamRef, Step, StepInput, StepOutput

_INPUT_DEFAULTS = {"mode": "mount", "path": "", "producer": "", "parameter": "",
                   "path_on_compute": "", "overwrite": False, "dataset": ""}
_OUTPUT_DEFAULTS = {"mode": "mount", "path_on_compute": "", "overwrite": False,
                    "is_directory": False, "dataset": ""}


def encode_arg(arg: Arg) -> Any:
    if isinstance(arg, Lit):
        return arg.value
    if isinstance(arg, ParamRef):
        return {"param": arg.name}
    return {"data": arg.name}


def decode_arg(value: Any) -> Arg:
    if isinstance(value, str):
        return Lit(value)
    if "param" in value:
        return ParamRef(value["param"])
    return DataRef(value["data"])


_MISSING = object()
_INPUT_FIELDS = tuple(f for f in StepInput.__slots__ if f != "name")
_OUTPUT_FIELDS = tuple(f for f in StepOutput.__slots__ if f != "name")


def _data_fields(item: StepInput | StepOutput, fields: tuple[str, ...],
                 defaults: dict[str, Any]) -> dict[str, Any]:
    """An input's or output's fields that differ from their defaults (one pass: this runs
    for every data item of every step at compile time)."""
    out = {}
    for field in fields:
        value = getattr(item, field)
        if defaults.get(field, _MISSING) != value:
            out[field] = value
    return out


def encode_step(step: Step, fingerprint: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": step.id,
        "name": step.name,
        "kind": step.kind,
        "image": step.image,
        "script": step.script,
        "command": list(step.command),
        "args": [encode_arg(a) for a in step.arguments],
        "params": {k: encode_arg(v) for k, v in step.params},
        "inputs": {i.name: _data_fields(i, _INPUT_FIELDS, _INPUT_DEFAULTS) for i in step.inputs},
        "outputs": {o.name: _data_fields(o, _OUTPUT_FIELDS, _OUTPUT_DEFAULTS)
                    for o in step.outputs},
        "source_directory": step.source_directory,
        "snapshot": step.snapshot,
        "compute_target": step.compute_target,
        "allow_reuse": step.allow_reuse,
        "version": step.version,
        "hash_paths": list(step.hash_paths),
        "depends_on": list(step.depends_on),
        "settings": json.loads(step.settings) if step.settings else {},
        "fingerprint": fingerprint,
    }
    return {k: v for k, v in record.items() if k == "args" or (v != "" and v != [] and v != {})}


def decode_step(record: dict[str, Any]) -> tuple[Step, str]:
    """The Step and its static fingerprint, from encode_step's output."""
    inputs = tuple(StepInput(name=n, **{**_INPUT_DEFAULTS, **v})
                   for n, v in record.get("inputs", {}).items())
    outputs = tuple(StepOutput(name=n, **{**_OUTPUT_DEFAULTS, **v})
                    for n, v in record.get("outputs", {}).items())
    step = Step(
        id=record["id"], name=record["name"], kind=record["kind"], image=record.get("image", ""),
        script=record.get("script", ""), command=tuple(record.get("command", ())),
        arguments=tuple(decode_arg(a) for a in record.get("args", ())),
        params=tuple((k, decode_arg(v)) for k, v in record.get("params", {}).items()),
        inputs=inputs, outputs=outputs,
        source_directory=record.get("source_directory", ""),
        snapshot=record.get("snapshot", ""), compute_target=record.get("compute_target", ""),
        allow_reuse=record.get("allow_reuse", True), version=record.get("version", ""),
        hash_paths=tuple(record.get("hash_paths", ())),
        depends_on=tuple(record.get("depends_on", ())),
        settings=(json.dumps(record["settings"], sort_keys=True, separators=(",", ":"))
                  if record.get("settings") else ""),
    )
    return step, record.get("fingerprint", "")


# Top-level fields a pipeline's steps may share through ``step_defaults``; the rest (names,
# arguments, data, dependencies) are a step's own.
SHAREABLE = ("kind", "image", "script", "command", "source_directory", "snapshot",
             "compute_target", "allow_reuse", "version", "hash_paths", "settings")


def step_defaults(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per shareable field, the value most steps have (first seen wins a tie), when at least
    two steps have it: a field nobody shares stays with its step."""
    defaults: dict[str, Any] = {}
    for name in SHAREABLE:
        counts: dict[Any, list[Any]] = {}  # hashable form -> [count, value]
        for record in records:
            if name in record:
                value = record[name]
                seen = counts.setdefault(_hashable(value), [0, value])
                seen[0] += 1
        if counts:
            count, value = max(counts.values(), key=lambda item: item[0])  # first tie wins
            if count >= 2:
                defaults[name] = value
    return defaults


def _hashable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def _infer_source(spec: dict[str, Any]) -> str:
    if spec.get("producer"):
        return "pipeline_data"
    return "datapath_param" if spec.get("parameter") else "datastore"


def pack(record: dict[str, Any], defaults: dict[str, Any], datastore: str) -> dict[str, Any]:
    """The shipped form of a full record (see the module docstring)."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "id" or (key == "name" and value == record["id"]):
            continue
        if key in defaults and defaults[key] == value:
            continue
        out[key] = value
    for key, value in defaults.items():
        if key not in record:
            out[key] = type(value)()  # empty here, though most steps share a value
    if "inputs" in out:
        out["inputs"] = {n: _pack_data(v, datastore, source=True) for n, v in out["inputs"].items()}
    if "outputs" in out:
        out["outputs"] = {n: _pack_data(v, datastore) for n, v in out["outputs"].items()}
    implied = {v.get("producer") for v in record.get("inputs", {}).values()}
    extra = [d for d in record.get("depends_on", ()) if d not in implied]
    if extra:
        out["depends_on"] = extra
    else:
        out.pop("depends_on", None)
    return out


def _pack_data(spec: dict[str, Any], datastore: str, source: bool = False) -> dict[str, Any]:
    out = dict(spec)
    if out.get("datastore") == datastore:
        del out["datastore"]
    if source and out.get("source") == _infer_source(out):
        del out["source"]
    return out


def unpack(step_id: str, shipped: dict[str, Any], defaults: dict[str, Any],
           datastore: str) -> dict[str, Any]:
    """The full record from ``pack``'s output (a full record passes through unchanged)."""
    merged: dict[str, Any] = {"id": step_id, "name": step_id, **defaults, **shipped}
    merged.pop("fingerprint", None)  # older specs carried it; it is always recomputed
    for key in ("inputs", "outputs"):
        if key in merged:
            merged[key] = {n: _unpack_data(v, datastore, key == "inputs")
                           for n, v in merged[key].items()}
    producers = {v["producer"] for v in merged.get("inputs", {}).values() if v.get("producer")}
    merged["depends_on"] = sorted(producers | set(merged.get("depends_on", ())))
    return {k: v for k, v in merged.items() if v not in ("", [], {}) or k == "args"}


def _unpack_data(spec: dict[str, Any], datastore: str, is_input: bool) -> dict[str, Any]:
    out = {"datastore": datastore, **spec}
    if is_input:
        out.setdefault("source", _infer_source(out))
    return dict(sorted(out.items()))
