"""azureml.data: data references, datasets and dataset outputs."""

from __future__ import annotations

from kubeline.datasets.objects import (
    DatasetConsumptionConfig as DatasetConsumptionConfig,
)
from kubeline.datasets.objects import (
    FileDataset as FileDataset,
)
from kubeline.datasets.objects import (
    TabularDataset as TabularDataset,
)
from kubeline.dsl.data import (
    DataPath as DataPath,
)
from kubeline.dsl.data import (
    DataPathComputeBinding as DataPathComputeBinding,
)
from kubeline.dsl.data import (
    DataReference as DataReference,
)
from kubeline.dsl.output_dataset import (
    OutputFileDatasetConfig as OutputFileDatasetConfig,
)

__all__ = [
    "DataPath",
    "DataPathComputeBinding",
    "DataReference",
    "DatasetConsumptionConfig",
    "FileDataset",
    "OutputFileDatasetConfig",
    "TabularDataset",
]
