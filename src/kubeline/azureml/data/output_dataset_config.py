"""azureml.data.output_dataset_config: OutputFileDatasetConfig (not available yet)."""

from __future__ import annotations

from kubeline.dsl.pending import (
    OutputFileDatasetConfig as OutputFileDatasetConfig,
)

__all__ = [
    "OutputFileDatasetConfig",
]
