"""azureml.core.script_run_config: ScriptRunConfig."""

from __future__ import annotations

from kubeline.dsl.runconfig import (
    ScriptRunConfig as ScriptRunConfig,
)

__all__ = [
    "ScriptRunConfig",
]
