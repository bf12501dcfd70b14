"""azureml.core.model: The model registry (kept in the default datastore)."""

from __future__ import annotations

from kubeline.dsl.model import (
    Model as Model,
)

__all__ = [
    "Model",
]
