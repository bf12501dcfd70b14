"""azureml.pipeline.core.pipeline_draft: PipelineDraft."""

from __future__ import annotations

from kubeline.dsl.draft import (
    PipelineDraft as PipelineDraft,
)

__all__ = [
    "PipelineDraft",
]
