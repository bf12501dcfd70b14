"""azureml.pipeline.steps: Steps: the ones kubeline runs, and Azure-only ones (refused)."""

from __future__ import annotations

from kubeline.dsl.hyperdrive_run import (
    HyperDriveStepRun as HyperDriveStepRun,
)
from kubeline.dsl.hyperdrive_step import (
    HyperDriveStep as HyperDriveStep,
)
from kubeline.dsl.module import (
    ModuleStep as ModuleStep,
)
from kubeline.dsl.parallel_run import (
    ParallelRunConfig as ParallelRunConfig,
)
from kubeline.dsl.parallel_run import (
    ParallelRunStep as ParallelRunStep,
)
from kubeline.dsl.spark_steps import (
    AdlaStep as AdlaStep,
)
from kubeline.dsl.spark_steps import (
    DatabricksStep as DatabricksStep,
)
from kubeline.dsl.steps import (
    CommandStep as CommandStep,
)
from kubeline.dsl.steps import (
    PythonScriptStep as PythonScriptStep,
)
from kubeline.dsl.transfer import (
    DataTransferStep as DataTransferStep,
)
from kubeline.dsl.unsupported import (
    AutoMLStep as AutoMLStep,
)
from kubeline.dsl.unsupported import (
    AzureBatchStep as AzureBatchStep,
)
from kubeline.dsl.unsupported import (
    KustoStep as KustoStep,
)

__all__ = [
    "AdlaStep",
    "AutoMLStep",
    "AzureBatchStep",
    "CommandStep",
    "DataTransferStep",
    "DatabricksStep",
    "HyperDriveStep",
    "HyperDriveStepRun",
    "KustoStep",
    "ModuleStep",
    "ParallelRunConfig",
    "ParallelRunStep",
    "PythonScriptStep",
]
