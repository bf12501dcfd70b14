"""azureml.pipeline: Pipelines."""

from __future__ import annotations
