"""azureml.contrib.notebook: NotebookRunnerStep and NotebookRunConfig (papermill)."""

from __future__ import annotations

from kubeline.dsl.notebook_step import (
    NotebookRunConfig as NotebookRunConfig,
)
from kubeline.dsl.notebook_step import (
    NotebookRunnerStep as NotebookRunnerStep,
)

__all__ = ["NotebookRunConfig", "NotebookRunnerStep"]
