"""azureml.data.dataset_factory: Dataset.File / Dataset.Tabular (kubeline.dsl.dataset)."""

from __future__ import annotations

from kubeline.dsl.dataset import (
    FileDatasetFactory as FileDatasetFactory,
)
from kubeline.dsl.dataset import (
    TabularDatasetFactory as TabularDatasetFactory,
)

__all__ = [
    "FileDatasetFactory",
    "TabularDatasetFactory",
]
