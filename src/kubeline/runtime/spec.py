"""Reading the step spec the compiler ships (``pipeline.json`` and ``step.<id>.json``)."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubeline.datapaths import safe_name, safe_path
from kubeline.exceptions import ConfigError, KubelineError
from kubeline.graph.model import Step
from kubeline.graph.stepspec import decode_step, unpack
from kubeline.reuse.keys import fingerprint_of

PIPELINE_FILE = "pipeline.json"
_RETRY_SUFFIX = re.compile(r"\(\d+\)$")
_STEP_ID = re.compile(r"^[a-z0-9][-a-z0-9]*$")


class SpecError(KubelineError):
    """The step spec is missing or does not describe the step asked for."""


@dataclass(frozen=True)
class PipelineSpec:
    """pipeline.json: datastores, the default one and the parameters' types and defaults."""

    name: str
    default_datastore: str
    datastores: dict[str, dict[str, Any]]
    parameters: dict[str, dict[str, Any]]
    step_defaults: dict[str, Any]


def step_file(spec_dir: Path, step_id: str) -> Path:
    return spec_dir / f"step.{step_id}.json"


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SpecError(f"{what}: {path} does not exist",
                        "mount the pipeline's spec ConfigMap or set KUBELINE_SPEC_DIR") from exc
    except (OSError, ValueError) as exc:
        raise SpecError(f"{what}: {path} cannot be read as JSON: {exc}",
                        "recompile the pipeline") from exc


def load_pipeline(spec_dir: Path) -> PipelineSpec:
    data = _read_json(spec_dir / PIPELINE_FILE, "pipeline spec")
    try:
        return PipelineSpec(
            name=str(data.get("name", "")),
            default_datastore=str(data["default_datastore"]),
            datastores=dict(data.get("datastores", {})),
            parameters={p["name"]: p for p in data.get("parameters", [])},
            step_defaults=dict(data.get("step_defaults", {})),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"pipeline spec {spec_dir / PIPELINE_FILE}: missing or malformed "
                          f"field {exc}", "recompile the pipeline") from exc


def load_step(spec_dir: Path, step_id: str, pipeline: PipelineSpec | None = None
              ) -> tuple[Step, str]:
    """The step and its static fingerprint, recomputed from the full record (the compiler
    ships the step without it: kubeline.graph.stepspec.pack)."""
    if not _STEP_ID.match(step_id):
        raise SpecError(f"--step {step_id!r} is not a step id",
                        "pass the id the compiler gave the step (lower-case, digits, '-')")
    pipeline = pipeline or load_pipeline(spec_dir)
    data = _read_json(step_file(spec_dir, step_id), f"step '{step_id}'")
    try:
        record = unpack(step_id, data, pipeline.step_defaults, pipeline.default_datastore)
        step, _ = decode_step(record)
        fingerprint = fingerprint_of(record)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SpecError(f"step spec {step_file(spec_dir, step_id)}: malformed ({exc})",
                        "recompile the pipeline") from exc
    return contained_step(step), fingerprint


def contained_step(step: Step) -> Step:
    """The step with its datastore paths canonical, refusing any that could leave its
    datastore (a hand-written or edited spec), before the step touches anything."""
    where = f"step '{step.name}'"
    for output in step.outputs:
        safe_name(output.name, f"{where}: output")
    inputs = tuple(
        dataclasses.replace(item, path=safe_path(item.path, f"{where}: input '{item.name}': path",
                                                 store=item.datastore))
        for item in step.inputs)
    return dataclasses.replace(step, inputs=inputs)


def step_id_from_node(node: str) -> str:
    """Compact mode: the step id is the node name's last '.' segment without '(N)'.

    ``pipeline1-x7k.chunk-3.train-py(1)`` -> ``train-py``.
    """
    last = _RETRY_SUFFIX.sub("", node.strip().rsplit(".", 1)[-1])
    if not _STEP_ID.match(last):
        raise SpecError(f"--node {node!r}: no step id in the node name",
                        "pass Argo's {{node.name}}, e.g. 'wf.chunk-0.train-py(0)'")
    return last


def parse_upstream(text: str) -> dict[str, str]:
    """``"producer:KEY producer:KEY"`` -> {producer: key}."""
    found: dict[str, str] = {}
    for item in text.split():
        producer, sep, key = item.partition(":")
        if not sep or not _STEP_ID.match(producer) or not re.fullmatch(r"[0-9a-f]{64}", key):
            raise SpecError(f"--upstream item {item!r} is not 'step-id:KEY'",
                            "the compiler passes each producer's key output here; "
                            "check the producer task's outputs.parameters.key")
        found[producer] = key
    return found
