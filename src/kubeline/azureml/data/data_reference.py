"""azureml.data.data_reference: DataReference."""

from __future__ import annotations

from kubeline.dsl.data import (
    DataReference as DataReference,
)

__all__ = [
    "DataReference",
]
