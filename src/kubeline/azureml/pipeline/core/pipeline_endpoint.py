"""azureml.pipeline.core.pipeline_endpoint: PipelineEndpoint."""

from __future__ import annotations

from kubeline.dsl.publish import (
    PipelineEndpoint as PipelineEndpoint,
)
from kubeline.dsl.publish import (
    PipelineVersion as PipelineVersion,
)

__all__ = [
    "PipelineEndpoint",
    "PipelineVersion",
]
