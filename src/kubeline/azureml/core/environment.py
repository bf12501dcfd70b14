"""azureml.core.environment: Environment and its sections."""

from __future__ import annotations

from kubeline.dsl.runconfig import (
    DockerSection as DockerSection,
)
from kubeline.dsl.runconfig import (
    Environment as Environment,
)
from kubeline.dsl.runconfig import (
    PythonSection as PythonSection,
)

__all__ = [
    "DockerSection",
    "Environment",
    "PythonSection",
]
