"""azureml.pipeline.core.published_pipeline: PublishedPipeline."""

from __future__ import annotations

from kubeline.dsl.publish import (
    PublishedPipeline as PublishedPipeline,
)

__all__ = [
    "PublishedPipeline",
]
