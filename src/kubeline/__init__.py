"""kubeline: the Azure ML SDK v1 pipeline API, compiled to Argo Workflows, runnable locally.

Names are loaded on first use, so the runtime shim inside a step pays no import cost for
the authoring API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kubeline._version import __version__ as __version__

_EXPORTS: dict[str, str] = {
    "ScheduleRecurrence": "kubeline.dsl.schedule",
    "Schedule": "kubeline.dsl.schedule",
    "PipelineEndpoint": "kubeline.dsl.publish",
    "PublishedPipeline": "kubeline.dsl.publish",
    "AutoMLStep": "kubeline.dsl.unsupported",
    "KustoStep": "kubeline.dsl.unsupported",
    "AzureBatchStep": "kubeline.dsl.unsupported",
    "NotebookRunnerStep": "kubeline.dsl.notebook_step",
    "NotebookRunConfig": "kubeline.dsl.notebook_step",
    "ModuleStep": "kubeline.dsl.module",
    "Module": "kubeline.dsl.module",
    "ModuleVersion": "kubeline.dsl.module",
    "InputPortDef": "kubeline.dsl.module",
    "OutputPortDef": "kubeline.dsl.module",
    "StepSequence": "kubeline.dsl.sequence",
    "PipelineDraft": "kubeline.dsl.draft",
    "Model": "kubeline.dsl.model",
    "ScriptRunConfig": "kubeline.dsl.runconfig",
    "MpiConfiguration": "kubeline.dsl.runconfig",
    "PyTorchConfiguration": "kubeline.dsl.runconfig",
    "TensorflowConfiguration": "kubeline.dsl.runconfig",
    "TimeZone": "kubeline.dsl.schedule",
    "RunDetails": "kubeline.dsl.run_details",
    "InteractiveLoginAuthentication": "kubeline.dsl.auth",
    "ServicePrincipalAuthentication": "kubeline.dsl.auth",
    "AzureCliAuthentication": "kubeline.dsl.auth",
    "MsiAuthentication": "kubeline.dsl.auth",
    "TokenAuthentication": "kubeline.dsl.auth",
    "HyperDriveStep": "kubeline.dsl.hyperdrive_step",
    "HyperDriveConfig": "kubeline.dsl.hyperdrive_config",
    "ParallelRunStep": "kubeline.dsl.pending",
    "UserErrorException": "kubeline.exceptions",
    "Workspace": "kubeline.dsl.workspace",
    "Datastore": "kubeline.dsl.datastore",
    "DataReference": "kubeline.dsl.data",
    "DataPath": "kubeline.dsl.data",
    "DataPathComputeBinding": "kubeline.dsl.data",
    "PipelineData": "kubeline.dsl.data",
    "PipelineParameter": "kubeline.dsl.data",
    "PythonScriptStep": "kubeline.dsl.steps",
    "CommandStep": "kubeline.dsl.steps",
    "Pipeline": "kubeline.dsl.pipeline",
    "RunConfiguration": "kubeline.dsl.runconfig",
    "Environment": "kubeline.dsl.runconfig",
    "CondaDependencies": "kubeline.dsl.runconfig",
    "DEFAULT_CPU_IMAGE": "kubeline.dsl.runconfig",
    "DEFAULT_GPU_IMAGE": "kubeline.dsl.runconfig",
    "ComputeTarget": "kubeline.dsl.compute",
    "AmlCompute": "kubeline.dsl.compute",
    "KubernetesCompute": "kubeline.dsl.compute",
    "DatabricksCompute": "kubeline.dsl.compute",
    "AdlaCompute": "kubeline.dsl.compute",
    "DatabricksStep": "kubeline.dsl.spark_steps",
    "AdlaStep": "kubeline.dsl.spark_steps",
    "PyPiLibrary": "kubeline.dsl.spark_steps",
    "MavenLibrary": "kubeline.dsl.spark_steps",
    "JarLibrary": "kubeline.dsl.spark_steps",
    "EggLibrary": "kubeline.dsl.spark_steps",
    "RCranLibrary": "kubeline.dsl.spark_steps",
    "DataTransferStep": "kubeline.dsl.transfer",
    "ComputeTargetException": "kubeline.exceptions",
    "KubelineError": "kubeline.exceptions",
    "Run": "kubeline.runtime.run",
    "Experiment": "kubeline.dsl.experiment",
    "PipelineRun": "kubeline.dsl.pipeline_run",
    "StepRun": "kubeline.dsl.pipeline_run",
    "PortDataReference": "kubeline.dsl.pipeline_run",
    "StepRunError": "kubeline.exceptions",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from kubeline.dsl.auth import AzureCliAuthentication as AzureCliAuthentication
    from kubeline.dsl.auth import InteractiveLoginAuthentication as InteractiveLoginAuthentication
    from kubeline.dsl.auth import MsiAuthentication as MsiAuthentication
    from kubeline.dsl.auth import ServicePrincipalAuthentication as ServicePrincipalAuthentication
    from kubeline.dsl.auth import TokenAuthentication as TokenAuthentication
    from kubeline.dsl.compute import AdlaCompute as AdlaCompute
    from kubeline.dsl.compute import AmlCompute as AmlCompute
    from kubeline.dsl.compute import ComputeTarget as ComputeTarget
    from kubeline.dsl.compute import DatabricksCompute as DatabricksCompute
    from kubeline.dsl.compute import KubernetesCompute as KubernetesCompute
    from kubeline.dsl.data import DataPath as DataPath
    from kubeline.dsl.data import DataPathComputeBinding as DataPathComputeBinding
    from kubeline.dsl.data import DataReference as DataReference
    from kubeline.dsl.data import PipelineData as PipelineData
    from kubeline.dsl.data import PipelineParameter as PipelineParameter
    from kubeline.dsl.datastore import Datastore as Datastore
    from kubeline.dsl.draft import PipelineDraft as PipelineDraft
    from kubeline.dsl.experiment import Experiment as Experiment
    from kubeline.dsl.hyperdrive_config import HyperDriveConfig as HyperDriveConfig
    from kubeline.dsl.hyperdrive_step import HyperDriveStep as HyperDriveStep
    from kubeline.dsl.model import Model as Model
    from kubeline.dsl.module import InputPortDef as InputPortDef
    from kubeline.dsl.module import Module as Module
    from kubeline.dsl.module import ModuleStep as ModuleStep
    from kubeline.dsl.module import ModuleVersion as ModuleVersion
    from kubeline.dsl.module import OutputPortDef as OutputPortDef
    from kubeline.dsl.notebook_step import NotebookRunConfig as NotebookRunConfig
    from kubeline.dsl.notebook_step import NotebookRunnerStep as NotebookRunnerStep
    from kubeline.dsl.pending import ParallelRunStep as ParallelRunStep
    from kubeline.dsl.pipeline import Pipeline as Pipeline
    from kubeline.dsl.pipeline_run import PipelineRun as PipelineRun
    from kubeline.dsl.pipeline_run import PortDataReference as PortDataReference
    from kubeline.dsl.pipeline_run import StepRun as StepRun
    from kubeline.dsl.publish import PipelineEndpoint as PipelineEndpoint
    from kubeline.dsl.publish import PublishedPipeline as PublishedPipeline
    from kubeline.dsl.run_details import RunDetails as RunDetails
    from kubeline.dsl.runconfig import DEFAULT_CPU_IMAGE as DEFAULT_CPU_IMAGE
    from kubeline.dsl.runconfig import DEFAULT_GPU_IMAGE as DEFAULT_GPU_IMAGE
    from kubeline.dsl.runconfig import CondaDependencies as CondaDependencies
    from kubeline.dsl.runconfig import Environment as Environment
    from kubeline.dsl.runconfig import MpiConfiguration as MpiConfiguration
    from kubeline.dsl.runconfig import PyTorchConfiguration as PyTorchConfiguration
    from kubeline.dsl.runconfig import RunConfiguration as RunConfiguration
    from kubeline.dsl.runconfig import ScriptRunConfig as ScriptRunConfig
    from kubeline.dsl.runconfig import TensorflowConfiguration as TensorflowConfiguration
    from kubeline.dsl.schedule import Schedule as Schedule
    from kubeline.dsl.schedule import ScheduleRecurrence as ScheduleRecurrence
    from kubeline.dsl.schedule import TimeZone as TimeZone
    from kubeline.dsl.sequence import StepSequence as StepSequence
    from kubeline.dsl.spark_steps import AdlaStep as AdlaStep
    from kubeline.dsl.spark_steps import DatabricksStep as DatabricksStep
    from kubeline.dsl.spark_steps import EggLibrary as EggLibrary
    from kubeline.dsl.spark_steps import JarLibrary as JarLibrary
    from kubeline.dsl.spark_steps import MavenLibrary as MavenLibrary
    from kubeline.dsl.spark_steps import PyPiLibrary as PyPiLibrary
    from kubeline.dsl.spark_steps import RCranLibrary as RCranLibrary
    from kubeline.dsl.steps import CommandStep as CommandStep
    from kubeline.dsl.steps import PythonScriptStep as PythonScriptStep
    from kubeline.dsl.transfer import DataTransferStep as DataTransferStep
    from kubeline.dsl.unsupported import AutoMLStep as AutoMLStep
    from kubeline.dsl.unsupported import AzureBatchStep as AzureBatchStep
    from kubeline.dsl.unsupported import KustoStep as KustoStep
    from kubeline.dsl.workspace import Workspace as Workspace
    from kubeline.exceptions import ComputeTargetException as ComputeTargetException
    from kubeline.exceptions import KubelineError as KubelineError
    from kubeline.exceptions import StepRunError as StepRunError
    from kubeline.exceptions import UserErrorException as UserErrorException
    from kubeline.runtime.run import Run as Run

def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kubeline' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
