"""azureml.pipeline.core.run: PipelineRun and StepRun."""

from __future__ import annotations

from kubeline.dsl.pipeline_run import (
    PipelineRun as PipelineRun,
)
from kubeline.dsl.pipeline_run import (
    PortDataReference as PortDataReference,
)
from kubeline.dsl.pipeline_run import (
    StepRun as StepRun,
)
from kubeline.dsl.pipeline_run import (
    StepRunOutput as StepRunOutput,
)

__all__ = [
    "PipelineRun",
    "PortDataReference",
    "StepRun",
    "StepRunOutput",
]
