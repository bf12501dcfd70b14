"""azureml.core.datastore: The Datastore."""

from __future__ import annotations

from kubeline.dsl.datastore import (
    Datastore as Datastore,
)

__all__ = [
    "Datastore",
]
