"""azureml.data: Data references and (not yet) datasets."""

from __future__ import annotations

from kubeline.dsl.data import (
    DataPath as DataPath,
)
from kubeline.dsl.data import (
    DataPathComputeBinding as DataPathComputeBinding,
)
from kubeline.dsl.data import (
    DataReference as DataReference,
)
from kubeline.dsl.pending import (
    DatasetConsumptionConfig as DatasetConsumptionConfig,
)
from kubeline.dsl.pending import (
    FileDataset as FileDataset,
)
from kubeline.dsl.pending import (
    OutputFileDatasetConfig as OutputFileDatasetConfig,
)
from kubeline.dsl.pending import (
    TabularDataset as TabularDataset,
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
