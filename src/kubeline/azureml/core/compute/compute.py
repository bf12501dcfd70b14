"""azureml.core.compute.compute: ComputeTarget."""

from __future__ import annotations

from kubeline.dsl.compute import (
    ComputeTarget as ComputeTarget,
)

__all__ = [
    "ComputeTarget",
]
