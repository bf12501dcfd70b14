"""azureml.widgets: RunDetails: a widget-free table of a run."""

from __future__ import annotations

from kubeline.dsl.run_details import (
    RunDetails as RunDetails,
)

__all__ = [
    "RunDetails",
]
