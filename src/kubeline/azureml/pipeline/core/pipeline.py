"""azureml.pipeline.core.pipeline: Pipeline."""

from __future__ import annotations

from kubeline.dsl.pipeline import (
    Pipeline as Pipeline,
)

__all__ = [
    "Pipeline",
]
