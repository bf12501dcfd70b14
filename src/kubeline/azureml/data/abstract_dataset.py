"""azureml.data.abstract_dataset: AbstractDataset (kubeline.datasets.objects)."""

from __future__ import annotations

from kubeline.datasets.objects import (
    AbstractDataset as AbstractDataset,
)

__all__ = [
    "AbstractDataset",
]
