"""azureml.core.workspace: The Workspace."""

from __future__ import annotations

from kubeline.dsl.workspace import (
    Workspace as Workspace,
)

__all__ = [
    "Workspace",
]
