"""azureml.core.dataset: Dataset (kubeline.dsl.dataset)."""

from __future__ import annotations

from kubeline.dsl.dataset import (
    Dataset as Dataset,
)

__all__ = [
    "Dataset",
]
