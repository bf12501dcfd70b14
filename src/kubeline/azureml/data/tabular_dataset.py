"""azureml.data.tabular_dataset: TabularDataset (kubeline.datasets.objects)."""

from __future__ import annotations

from kubeline.datasets.objects import (
    TabularDataset as TabularDataset,
)

__all__ = [
    "TabularDataset",
]
