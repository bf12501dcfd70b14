"""azureml.data.dataset_consumption_config: DatasetConsumptionConfig (kubeline.datasets.objects)."""

from __future__ import annotations

from kubeline.datasets.objects import (
    DatasetConsumptionConfig as DatasetConsumptionConfig,
)

__all__ = [
    "DatasetConsumptionConfig",
]
