"""azureml.core.runconfig: RunConfiguration, images, packages, distributed settings, Spark
libraries.
"""

from __future__ import annotations

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
    DockerSection as DockerConfiguration,
)
from kubeline.dsl.runconfig import (
    MpiConfiguration as MpiConfiguration,
)
from kubeline.dsl.runconfig import (
    PyTorchConfiguration as PyTorchConfiguration,
)
from kubeline.dsl.runconfig import (
    RunConfiguration as RunConfiguration,
)
from kubeline.dsl.runconfig import (
    TensorflowConfiguration as TensorflowConfiguration,
)
from kubeline.dsl.spark_steps import (
    EggLibrary as EggLibrary,
)
from kubeline.dsl.spark_steps import (
    JarLibrary as JarLibrary,
)
from kubeline.dsl.spark_steps import (
    MavenLibrary as MavenLibrary,
)
from kubeline.dsl.spark_steps import (
    PyPiLibrary as PyPiLibrary,
)
from kubeline.dsl.spark_steps import (
    RCranLibrary as RCranLibrary,
)

__all__ = [
    "DEFAULT_CPU_IMAGE",
    "DEFAULT_GPU_IMAGE",
    "CondaDependencies",
    "DockerConfiguration",
    "EggLibrary",
    "JarLibrary",
    "MavenLibrary",
    "MpiConfiguration",
    "PyPiLibrary",
    "PyTorchConfiguration",
    "RCranLibrary",
    "RunConfiguration",
    "TensorflowConfiguration",
]
