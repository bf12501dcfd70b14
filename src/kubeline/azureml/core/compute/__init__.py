"""azureml.core.compute: Compute targets as scheduling profiles."""

from __future__ import annotations

from kubeline.dsl.compute import (
    AdlaCompute as AdlaCompute,
)
from kubeline.dsl.compute import (
    AmlCompute as AmlCompute,
)
from kubeline.dsl.compute import (
    ComputeTarget as ComputeTarget,
)
from kubeline.dsl.compute import (
    DatabricksCompute as DatabricksCompute,
)
from kubeline.dsl.compute import (
    KubernetesCompute as KubernetesCompute,
)
from kubeline.dsl.unsupported import (
    DataFactoryCompute as DataFactoryCompute,
)

__all__ = [
    "AdlaCompute",
    "AmlCompute",
    "ComputeTarget",
    "DataFactoryCompute",
    "DatabricksCompute",
    "KubernetesCompute",
]
