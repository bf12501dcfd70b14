"""Strict validation of compiled objects with hera's models of Argo's API.

hera's generated models ignore unknown fields, while Argo decodes strictly. So an object is
valid when the models accept it AND dumping it back gives the same data: any field the
models dropped is reported as unknown, with its path.
"""

from __future__ import annotations

from typing import Any

from hera.workflows.models import ClusterWorkflowTemplate, CronWorkflow, Workflow, WorkflowTemplate
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from kubeline.compiler.argo.k8s import ConfigMap

_MODELS: dict[str, type[BaseModel]] = {
    "Workflow": Workflow,
    "WorkflowTemplate": WorkflowTemplate,
    "ClusterWorkflowTemplate": ClusterWorkflowTemplate,
    "CronWorkflow": CronWorkflow,
    "ConfigMap": ConfigMap,
}


def _unknown(original: Any, dumped: Any, path: str) -> list[str]:
    if isinstance(original, dict) and isinstance(dumped, dict):
        problems = [f"{path}.{key}".lstrip(".") for key in original if key not in dumped]
        for key, value in original.items():
            if key in dumped:
                problems += _unknown(value, dumped[key], f"{path}.{key}")
        return problems
    if isinstance(original, list) and isinstance(dumped, list):
        problems = []
        for index, (a, b) in enumerate(zip(original, dumped, strict=False)):
            problems += _unknown(a, b, f"{path}[{index}]")
        return problems
    return []


def validate_document(doc: Any, where: str) -> list[str]:
    """Problems of one object, each naming the field; [] when Argo would accept its shape."""
    if not isinstance(doc, dict):
        return [f"{where}: not a mapping"]
    kind = doc.get("kind")
    model = _MODELS.get(str(kind))
    if model is None:
        return []
    try:
        parsed = model.model_validate(doc)
    except PydanticValidationError as exc:
        return [f"{where}: {kind} field '{'.'.join(str(p) for p in err['loc'])}': {err['msg']}"
                for err in exc.errors()[:10]]
    dumped = parsed.model_dump(by_alias=True, exclude_none=True, mode="json")
    return [f"{where}: {kind} has unknown field '{field}'" for field in _unknown(doc, dumped, "")]
