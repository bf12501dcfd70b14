"""azureml.core.run: Run.get_context() inside a step."""

from __future__ import annotations

from kubeline.runtime.run import (
    Run as Run,
)

__all__ = [
    "Run",
]
