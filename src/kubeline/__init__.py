"""kubeline: the Azure ML SDK v1 pipeline API, compiled to Argo Workflows, runnable locally.

Names are loaded on first use, so the runtime shim inside a step pays no import cost for
the authoring API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
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
    from kubeline.dsl.compute import AmlCompute, ComputeTarget
    from kubeline.dsl.data import (
        DataPath,
        DataPathComputeBinding,
        DataReference,
        PipelineData,
        PipelineParameter,
    )
    from kubeline.dsl.datastore import Datastore
    from kubeline.dsl.experiment import Experiment
    from kubeline.dsl.pipeline import Pipeline
    from kubeline.dsl.pipeline_run import PipelineRun, PortDataReference, StepRun
    from kubeline.dsl.runconfig import (
        DEFAULT_CPU_IMAGE,
        DEFAULT_GPU_IMAGE,
        CondaDependencies,
        Environment,
        RunConfiguration,
    )
    from kubeline.dsl.steps import CommandStep, PythonScriptStep
    from kubeline.dsl.workspace import Workspace
    from kubeline.exceptions import ComputeTargetException, KubelineError, StepRunError


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kubeline' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
