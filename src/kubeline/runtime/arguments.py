"""AML argument semantics: data objects become local paths, parameters their values,
literals stay; ``params=`` become ``AML_PARAMETER_<name>`` environment variables."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from kubeline.graph.model import Arg, Lit, ParamRef, Step
from kubeline.runtime.spec import SpecError


def substitute(arg: Arg, data: Mapping[str, str], parameters: Mapping[str, str]) -> str:
    if isinstance(arg, Lit):
        return arg.value
    if isinstance(arg, ParamRef):
        if arg.name not in parameters:
            raise SpecError(f"argument uses parameter '{arg.name}', which the pipeline does not "
                            "define", "recompile the pipeline")
        return parameters[arg.name]
    if arg.name not in data:
        raise SpecError(f"argument uses data '{arg.name}', which is neither an input nor an "
                        "output of the step", "recompile the pipeline")
    return data[arg.name]


def command_line(step: Step, src: Path, data: Mapping[str, str],
                 parameters: Mapping[str, str]) -> list[str]:
    """argv of the user's process: ``python <script> args`` or the CommandStep's tokens."""
    args = [substitute(a, data, parameters) for a in step.arguments]
    if step.kind == "python_script":
        return [sys.executable, str(src / step.script), *args]
    argv = [*step.command, *args]
    if not argv:
        raise SpecError(f"step '{step.name}' has no command", "give CommandStep a command")
    return argv


def params_env(step: Step, data: Mapping[str, str], parameters: Mapping[str, str]
               ) -> dict[str, str]:
    return {f"AML_PARAMETER_{name}": substitute(value, data, parameters)
            for name, value in step.params}

