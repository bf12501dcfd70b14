"""azureml.core.compute.amlcompute: AmlCompute."""

from __future__ import annotations

from kubeline.dsl.compute import (
    AmlCompute as AmlCompute,
)

__all__ = [
    "AmlCompute",
]
