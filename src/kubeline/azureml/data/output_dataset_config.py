"""azureml.data.output_dataset_config: dataset outputs (kubeline.dsl.output_dataset)."""

from __future__ import annotations

from kubeline.dsl.output_dataset import (
    OutputFileDatasetConfig as OutputFileDatasetConfig,
)
from kubeline.dsl.output_dataset import (
    OutputTabularDatasetConfig as OutputTabularDatasetConfig,
)

__all__ = [
    "OutputFileDatasetConfig",
    "OutputTabularDatasetConfig",
]
