"""azureml.train.automl: AutoML (refused: a hosted Azure service)."""

from __future__ import annotations

from kubeline.dsl.unsupported import (
    AutoMLConfig as AutoMLConfig,
)

__all__ = [
    "AutoMLConfig",
]
