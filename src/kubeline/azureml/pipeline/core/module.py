"""azureml.pipeline.core.module: Module and ModuleVersion."""

from __future__ import annotations

from kubeline.dsl.module import (
    Module as Module,
)
from kubeline.dsl.module import (
    ModuleVersion as ModuleVersion,
)

__all__ = [
    "Module",
    "ModuleVersion",
]
