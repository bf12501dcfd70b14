"""azureml.data.dataset_consumption_config: DatasetConsumptionConfig (not available yet)."""

from __future__ import annotations

from kubeline.dsl.pending import (
    DatasetConsumptionConfig as DatasetConsumptionConfig,
)

__all__ = [
    "DatasetConsumptionConfig",
]
