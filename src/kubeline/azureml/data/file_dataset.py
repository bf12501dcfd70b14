"""azureml.data.file_dataset: FileDataset (not available yet)."""

from __future__ import annotations

from kubeline.dsl.pending import (
    FileDataset as FileDataset,
)

__all__ = [
    "FileDataset",
]
