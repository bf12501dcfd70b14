"""azureml.core.dataset: Datasets (not available yet: issue 13 point 2)."""

from __future__ import annotations

from kubeline.dsl.pending import (
    Dataset as Dataset,
)

__all__ = [
    "Dataset",
]
