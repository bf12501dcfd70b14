"""azureml.pipeline.core.builder: StepSequence."""

from __future__ import annotations

from kubeline.dsl.sequence import (
    StepSequence as StepSequence,
)
from kubeline.dsl.steps import (
    PipelineStep as PipelineStep,
)

__all__ = [
    "PipelineStep",
    "StepSequence",
]
