"""azureml.contrib.notebook: NotebookRunnerStep (refused for now: run papermill in a CommandStep).
"""

from __future__ import annotations

from kubeline.dsl.unsupported import (
    NotebookRunnerStep as NotebookRunnerStep,
)

__all__ = [
    "NotebookRunnerStep",
]
