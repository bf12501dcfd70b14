"""azureml.core: Workspace, Experiment, Datastore, Environment, Run, ScriptRunConfig,
RunConfiguration, Model and the SDK version.
"""

from __future__ import annotations

from kubeline import __version__ as VERSION
from kubeline.dsl.compute import (
    ComputeTarget as ComputeTarget,
)
from kubeline.dsl.dataset import (
    Dataset as Dataset,
)
from kubeline.dsl.datastore import (
    Datastore as Datastore,
)
from kubeline.dsl.experiment import (
    Experiment as Experiment,
)
from kubeline.dsl.model import (
    Model as Model,
)
from kubeline.dsl.runconfig import (
    DEFAULT_CPU_IMAGE as DEFAULT_CPU_IMAGE,
)
from kubeline.dsl.runconfig import (
    DEFAULT_GPU_IMAGE as DEFAULT_GPU_IMAGE,
)
from kubeline.dsl.runconfig import (
    CondaDependencies as CondaDependencies,
)
from kubeline.dsl.runconfig import (
    Environment as Environment,
)
from kubeline.dsl.runconfig import (
    RunConfiguration as RunConfiguration,
)
from kubeline.dsl.runconfig import (
    ScriptRunConfig as ScriptRunConfig,
)
from kubeline.dsl.workspace import (
    Workspace as Workspace,
)
from kubeline.runtime.run import (
    Run as Run,
)

__all__ = [
    "DEFAULT_CPU_IMAGE",
    "DEFAULT_GPU_IMAGE",
    "VERSION",
    "ComputeTarget",
    "CondaDependencies",
    "Dataset",
    "Datastore",
    "Environment",
    "Experiment",
    "Model",
    "Run",
    "RunConfiguration",
    "ScriptRunConfig",
    "Workspace",
]
