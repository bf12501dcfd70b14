"""What compiling a pipeline yields; importable without the Argo models (see cache.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["workflow", "workflowtemplate"]


@dataclass(frozen=True)
class CompiledPipeline:
    """The objects of one pipeline, in the order they are written."""

    name: str
    documents: list[dict[str, Any]]
    namespace: str = ""
