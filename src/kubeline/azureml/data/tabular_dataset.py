"""azureml.data.tabular_dataset: TabularDataset (not available yet)."""

from __future__ import annotations

from kubeline.dsl.pending import (
    TabularDataset as TabularDataset,
)

__all__ = [
    "TabularDataset",
]
