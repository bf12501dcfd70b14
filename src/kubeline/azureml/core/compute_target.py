"""azureml.core.compute_target: ComputeTargetException's old import path."""

from __future__ import annotations

from kubeline.exceptions import (
    ComputeTargetException as ComputeTargetException,
)

__all__ = [
    "ComputeTargetException",
]
