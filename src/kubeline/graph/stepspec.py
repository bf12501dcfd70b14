"""The compact JSON form of a step, as shipped to the runtime shim and read back by it.

Defaults are left out and arguments are written as they read ("--input", {"data": "x"},
{"param": "p"}), so a reviewer can read a step's spec in a GitOps diff.
"""

from __future__ import annotations

import json
from typing import Any

from kubeline.graph.model import Arg, DataRef, Lit, ParamRef, Step, StepInput, StepOutput

_INPUT_DEFAULTS = {"mode": "mount", "path": "", "producer": "", "parameter": "",
                   "path_on_compute": "", "overwrite": False}
_OUTPUT_DEFAULTS = {"mode": "mount", "path_on_compute": "", "overwrite": False,
                    "is_directory": False}


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


def _strip(record: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if defaults.get(k, object()) != v}


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
        "inputs": {i.name: _strip({s: getattr(i, s) for s in StepInput.__slots__
                                   if s != "name"}, _INPUT_DEFAULTS) for i in step.inputs},
        "outputs": {o.name: _strip({s: getattr(o, s) for s in StepOutput.__slots__
                                    if s != "name"}, _OUTPUT_DEFAULTS) for o in step.outputs},
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
    return {k: v for k, v in record.items() if v not in ("", [], {}) or k in ("args",)}


def decode_step(record: dict[str, Any]) -> tuple[Step, str]:
    """The Step and its static fingerprint, from encode_step's output."""
    inputs = tuple(StepInput(name=n, **{**_INPUT_DEFAULTS, **v})
                   for n, v in record.get("inputs", {}).items())
    outputs = tuple(StepOutput(name=n, **{**_OUTPUT_DEFAULTS, **v})
                    for n, v in record.get("outputs", {}).items())
    step = Step(
        id=record["id"], name=record["name"], kind=record["kind"], image=record["image"],
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
