"""azureml.data.file_dataset: FileDataset (kubeline.datasets.objects)."""

from __future__ import annotations

from kubeline.datasets.objects import (
    FileDataset as FileDataset,
)

__all__ = [
    "FileDataset",
]
