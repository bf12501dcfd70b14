"""azureml.core.experiment: The Experiment."""

from __future__ import annotations

from kubeline.dsl.experiment import (
    Experiment as Experiment,
)

__all__ = [
    "Experiment",
]
