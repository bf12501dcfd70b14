"""azureml.core.conda_dependencies: CondaDependencies."""

from __future__ import annotations

from kubeline.dsl.runconfig import (
    CondaDependencies as CondaDependencies,
)

__all__ = [
    "CondaDependencies",
]
