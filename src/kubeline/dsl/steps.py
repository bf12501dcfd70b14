"""Pipeline steps: PythonScriptStep and CommandStep, with the SDK's arguments and defaults."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.dsl.compute import ComputeTarget
from kubeline.dsl.data import PipelineData, PipelineParameter
from kubeline.dsl.runconfig import RunConfiguration
from kubeline.exceptions import KubelineError

ArgValue = Any  # str | int | float | DataReference | PipelineData | PipelineParameter | tuple


class PipelineStep:
    """What every step has: a name, data in and out, reuse settings and where it runs."""

    kind = "step"

    def __init__(
        self,
        name: str,
        inputs: Sequence[Any] | None,
        outputs: Sequence[PipelineData] | None,
        arguments: Sequence[ArgValue] | None,
        compute_target: ComputeTarget | str | None,
        runconfig: RunConfiguration | None,
        source_directory: str | None,
        allow_reuse: bool,
        version: str | None,
        hash_paths: Sequence[str] | None,
        params: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise KubelineError(f"{type(self).__name__}: a name is required")
        for label, value in (("inputs", inputs), ("outputs", outputs), ("arguments", arguments)):
            if value is not None and isinstance(value, (str, bytes)):
                raise KubelineError(f"step '{name}': {label} must be a list, not a string",
                                    f"write {label}=[...]")
        self.name = name
        self.inputs = list(inputs or [])
        self.outputs = list(outputs or [])
        self.arguments = list(arguments or [])
        self.compute_target = compute_target
        self.runconfig = runconfig
        self.source_directory = source_directory
        self.allow_reuse = allow_reuse
        self.version = version
        self.hash_paths = list(hash_paths or [])
        self.params = dict(params or {})
        self._run_after: list[PipelineStep] = []
        for output in self.outputs:
            if isinstance(output, PipelineData):
                output._origin._producers.append(self)

    def run_after(self, step: PipelineStep) -> None:
        """Order this step after another one that it shares no data with."""
        self._run_after.append(step)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


@aml_surface(surface("PythonScriptStep"))
class PythonScriptStep(PipelineStep):
    """Runs a Python script from source_directory with AML's argument semantics."""

    kind = "python_script"

    def __init__(
        self,
        script_name: str,
        name: str | None = None,
        arguments: Sequence[ArgValue] | None = None,
        compute_target: ComputeTarget | str | None = None,
        runconfig: RunConfiguration | None = None,
        runconfig_pipeline_params: dict[str, PipelineParameter] | None = None,
        inputs: Sequence[Any] | None = None,
        outputs: Sequence[PipelineData] | None = None,
        params: dict[str, Any] | None = None,
        source_directory: str | None = None,
        allow_reuse: bool = True,
        version: str | None = None,
        hash_paths: Sequence[str] | None = None,
        target: ComputeTarget | str | None = None,
    ) -> None:
        super().__init__(name or script_name, inputs, outputs, arguments,
                         compute_target if compute_target is not None else target, runconfig,
                         source_directory, allow_reuse, version, hash_paths, params)
        self.script_name = script_name


@aml_surface(surface("CommandStep"))
class CommandStep(PipelineStep):
    """Runs a shell-style command (a string or a list) from source_directory."""

    kind = "command"

    def __init__(
        self,
        command: str | Sequence[ArgValue] | None = None,
        name: str | None = None,
        compute_target: ComputeTarget | str | None = None,
        runconfig: RunConfiguration | Any = None,
        runconfig_pipeline_params: dict[str, PipelineParameter] | None = None,
        inputs: Sequence[Any] | None = None,
        outputs: Sequence[PipelineData] | None = None,
        params: dict[str, Any] | None = None,
        source_directory: str | None = None,
        allow_reuse: bool = True,
        version: str | None = None,
    ) -> None:
        from kubeline.dsl.runconfig import ScriptRunConfig

        if isinstance(runconfig, ScriptRunConfig):  # the SDK's CommandStep(runconfig=src)
            src = runconfig
            if command is None:
                command = src.command if src.command is not None else (
                    ["python", src.script, *src.arguments] if src.script else None)
            source_directory = source_directory or src.source_directory
            compute_target = compute_target if compute_target is not None else \
                src.compute_target
            runconfig = src.run_config
        if command is None or (isinstance(command, str) and not command.strip()):
            raise KubelineError(f"CommandStep '{name}': a command is required",
                                "pass command='python train.py' or a ScriptRunConfig with one")
        if isinstance(command, str):
            tokens: list[ArgValue] = shlex.split(command)
        else:  # the SDK joins a list with spaces: a string item may hold several words
            tokens = [t for item in command
                      for t in (shlex.split(item) if isinstance(item, str) else [item])]
        super().__init__(name or str(tokens[0]), inputs, outputs, tokens, compute_target,
                         runconfig, source_directory, allow_reuse, version, None, params)
        self.command = tokens
