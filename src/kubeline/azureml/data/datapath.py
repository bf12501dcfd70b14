"""azureml.data.datapath: DataPath and its compute binding."""

from __future__ import annotations

from kubeline.dsl.data import (
    DataPath as DataPath,
)
from kubeline.dsl.data import (
    DataPathComputeBinding as DataPathComputeBinding,
)

__all__ = [
    "DataPath",
    "DataPathComputeBinding",
]
