"""ParallelRunConfig and ParallelRunStep: an entry script's ``run(mini_batch)`` over files or rows.

The step is one node of the pipeline graph (kind ``parallel_run``) whose settings say how to
split its inputs into mini-batches and how many workers run them; the compiler turns it into
a planner, a bounded fan-out of worker pods and a gather step (docs/parallel-run.md).
Settings given as PipelineParameters (``mini_batch_size``, ``process_count_per_node`` in
Microsoft's notebooks) are resolved when the step runs and enter its reuse key.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.dsl.compute import ComputeTarget
from kubeline.dsl.data import PipelineData, PipelineParameter
from kubeline.dsl.parallel_inputs import ParallelInput, parallel_input
from kubeline.dsl.runconfig import Environment, RunConfiguration
from kubeline.dsl.steps import ArgValue, PipelineStep
from kubeline.exceptions import ParallelRunException

OUTPUT_ACTIONS = ("append_row", "summary_only")
DEFAULT_APPEND_ROW_FILE = "parallel_run_step.txt"
LOGGING_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_SIZE = re.compile(r"^\s*(\d+)\s*([KMGT]?B?)\s*$", re.IGNORECASE)
_PARAM_PREFIX = "KUBELINE_PRS_"  # the step's params that carry PipelineParameter settings


class ParallelRunError(ParallelRunException):
    """A ParallelRunConfig or ParallelRunStep that cannot run as given."""


def parse_size(value: str | int, what: str = "mini_batch_size") -> int:
    """``1024``, ``"1KB"``, ``"10MB"``, ``"1GB"`` -> bytes (the SDK's tabular sizes, base 1024)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ParallelRunError(f"ParallelRunConfig: {what} must be at least 1, not {value}")
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ParallelRunError(f"ParallelRunConfig: {what} {value!r} is not a size",
                               "write a number of bytes or a size like '1KB', '10MB', '1GB'")
    unit = match.group(2).upper().rstrip("B")
    power: int = 1024 ** " KMGT".index(unit or " ")
    size = int(match.group(1)) * power
    if size < 1:
        raise ParallelRunError(f"ParallelRunConfig: {what} must be at least 1 byte")
    return size


def _count_or_param(value: Any, what: str, minimum: int) -> int | PipelineParameter | None:
    if value is None or isinstance(value, PipelineParameter):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParallelRunError(f"ParallelRunConfig: {what} must be an int, not "
                               f"{type(value).__name__} ({value!r})")
    if value < minimum:
        raise ParallelRunError(f"ParallelRunConfig: {what} must be at least {minimum}, "
                               f"not {value}")
    return value


@aml_surface(surface("ParallelRunConfig"))
class ParallelRunConfig:
    """How a ParallelRunStep splits its data and runs its entry script (the SDK's arguments)."""

    def __init__(self, environment: Environment | None, entry_script: str,
                 error_threshold: int, output_action: str,
                 compute_target: ComputeTarget | str | None, node_count: int | PipelineParameter,
                 process_count_per_node: int | PipelineParameter | None = None,
                 mini_batch_size: str | int | PipelineParameter | None = None,
                 source_directory: str | None = None, description: str | None = None,
                 logging_level: str = "INFO", run_invocation_timeout: int = 60,
                 run_max_try: int = 3, append_row_file_name: str | None = None,
                 allowed_failed_count: int | None = None,
                 allowed_failed_percent: float | None = None,
                 partition_keys: list[str] | None = None,
                 environment_variables: dict[str, str] | None = None) -> None:
        if not isinstance(entry_script, str) or not entry_script.strip():
            raise ParallelRunError("ParallelRunConfig: entry_script is required",
                                   "name the script that defines init() and run(mini_batch)")
        if output_action not in OUTPUT_ACTIONS:
            raise ParallelRunError(f"ParallelRunConfig: output_action {output_action!r} is not "
                                   f"one of {', '.join(OUTPUT_ACTIONS)}")
        if not isinstance(error_threshold, int) or isinstance(error_threshold, bool) \
                or error_threshold < -1:
            raise ParallelRunError(f"ParallelRunConfig: error_threshold must be an int of -1 "
                                   f"or more, not {error_threshold!r}", "-1 ignores all failures")
        if allowed_failed_count is not None and allowed_failed_count < -1:
            raise ParallelRunError("ParallelRunConfig: allowed_failed_count must be -1 or more")
        if allowed_failed_percent is not None and not 0 <= allowed_failed_percent <= 100:
            raise ParallelRunError("ParallelRunConfig: allowed_failed_percent must be in "
                                   f"[0, 100], not {allowed_failed_percent}")
        if str(logging_level).upper() not in LOGGING_LEVELS:
            raise ParallelRunError(f"ParallelRunConfig: logging_level {logging_level!r} is not "
                                   f"one of {', '.join(LOGGING_LEVELS)}")
        if run_invocation_timeout < 1:
            raise ParallelRunError("ParallelRunConfig: run_invocation_timeout must be at least "
                                   f"1 second, not {run_invocation_timeout}")
        if run_max_try < 1:
            raise ParallelRunError(f"ParallelRunConfig: run_max_try must be at least 1, "
                                   f"not {run_max_try}")
        if partition_keys is not None and mini_batch_size is not None:
            raise ParallelRunError("ParallelRunConfig: give partition_keys or mini_batch_size, "
                                   "not both")
        if partition_keys is not None and (isinstance(partition_keys, str) or not partition_keys
                                           or not all(isinstance(k, str) for k in partition_keys)):
            raise ParallelRunError(f"ParallelRunConfig: partition_keys must be a non-empty list "
                                   f"of column names, not {partition_keys!r}")
        if isinstance(mini_batch_size, (str, int)) and not isinstance(mini_batch_size, bool):
            parse_size(mini_batch_size)  # fails here on a malformed value
        elif mini_batch_size is not None and not isinstance(mini_batch_size, PipelineParameter):
            raise ParallelRunError(f"ParallelRunConfig: mini_batch_size must be an int, a size "
                                   f"like '1MB' or a PipelineParameter, not {mini_batch_size!r}")
        self.environment = environment
        self.entry_script = entry_script
        self.error_threshold = error_threshold
        self.output_action = output_action
        self.compute_target = compute_target
        self.node_count = _count_or_param(node_count, "node_count", 1)
        self.process_count_per_node = _count_or_param(process_count_per_node,
                                                      "process_count_per_node", 1)
        self.mini_batch_size = mini_batch_size
        self.source_directory = source_directory
        self.description = description
        self.logging_level = str(logging_level).upper()
        self.run_invocation_timeout = run_invocation_timeout
        self.run_max_try = run_max_try
        self.append_row_file_name = append_row_file_name or DEFAULT_APPEND_ROW_FILE
        self.allowed_failed_count = allowed_failed_count
        self.allowed_failed_percent = allowed_failed_percent
        self.partition_keys = list(partition_keys) if partition_keys is not None else None
        self._environment_variables = dict(environment_variables or {})

    @property
    def environment_variables(self) -> dict[str, str]:
        """Set in every worker process of the step."""
        return self._environment_variables

    @environment_variables.setter
    def environment_variables(self, value: dict[str, str] | None) -> None:
        self._environment_variables = dict(value or {})

    def save_to_yaml(self, path: str) -> None:
        """Write the settings (not the environment or compute objects) as YAML."""
        import yaml

        Path(path).write_text(yaml.safe_dump(self._plain(), sort_keys=True), encoding="utf-8")

    @staticmethod
    def load_yaml(workspace: Any, path: str) -> ParallelRunConfig:
        """Read what save_to_yaml wrote (environment and compute by name in the workspace)."""
        import yaml

        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        data.pop("environment", None)
        return ParallelRunConfig(environment=None, **data)

    def _plain(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            return value.default_value if isinstance(value, PipelineParameter) else value

        target = self.compute_target
        return {"entry_script": self.entry_script, "error_threshold": self.error_threshold,
                "output_action": self.output_action,
                "compute_target": getattr(target, "name", target),
                "node_count": plain(self.node_count),
                "process_count_per_node": plain(self.process_count_per_node),
                "mini_batch_size": plain(self.mini_batch_size),
                "source_directory": self.source_directory, "description": self.description,
                "logging_level": self.logging_level,
                "run_invocation_timeout": self.run_invocation_timeout,
                "run_max_try": self.run_max_try,
                "append_row_file_name": self.append_row_file_name,
                "allowed_failed_count": self.allowed_failed_count,
                "allowed_failed_percent": self.allowed_failed_percent,
                "partition_keys": self.partition_keys,
                "environment_variables": self.environment_variables}


def entry_script_problem(path: Path) -> str | None:
    """Why an entry script cannot be a ParallelRunStep's (no run() at module level), or None."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except OSError as exc:
        return f"entry script '{path.name}' cannot be read: {exc.strerror or exc}"
    except SyntaxError as exc:
        return f"entry script '{path.name}' line {exc.lineno}: {exc.msg}"
    names = {node.name for node in tree.body
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if "run" not in names:
        return (f"entry script '{path.name}' has no run(mini_batch) function "
                "(define def run(mini_batch): ... returning a list or a DataFrame)")
    return None


@aml_surface(surface("ParallelRunStep"))
class ParallelRunStep(PipelineStep):
    """Runs an entry script's ``run(mini_batch)`` over mini-batches of its inputs, in parallel."""

    kind = "parallel_run"

    def __init__(self, name: str, parallel_run_config: ParallelRunConfig,
                 inputs: Sequence[Any], output: PipelineData | None = None,
                 side_inputs: Sequence[Any] | None = None,
                 arguments: Sequence[ArgValue] | None = None, allow_reuse: bool = True) -> None:
        if not isinstance(parallel_run_config, ParallelRunConfig):
            raise ParallelRunError(f"ParallelRunStep '{name}': parallel_run_config is a "
                                   f"{type(parallel_run_config).__name__}",
                                   "pass ParallelRunConfig(entry_script=..., ...)")
        if isinstance(inputs, (str, bytes)) or not inputs:
            raise ParallelRunError(f"ParallelRunStep '{name}': inputs must be a non-empty list",
                                   "pass the data to split into mini-batches, e.g. [dataset]")
        if output is not None and not isinstance(output, PipelineData):
            raise ParallelRunError(f"ParallelRunStep '{name}': output must be a PipelineData, "
                                   f"not {type(output).__name__}")
        config = parallel_run_config
        self.parallel_inputs: list[ParallelInput] = [parallel_input(name, item)
                                                     for item in inputs]
        side = list(side_inputs or [])
        runconfig = RunConfiguration()
        if config.environment is not None:
            runconfig.environment = config.environment
        params = {f"{_PARAM_PREFIX}{field.upper()}": value
                  for field, value in (("mini_batch_size", config.mini_batch_size),
                                       ("process_count_per_node", config.process_count_per_node),
                                       ("node_count", config.node_count))
                  if isinstance(value, PipelineParameter)}
        outputs = [output] if output is not None else []
        super().__init__(name, [p.data for p in self.parallel_inputs] + side, outputs,
                         arguments, config.compute_target, runconfig, config.source_directory,
                         allow_reuse, None, None, params)
        self.parallel_run_config = config
        self.output = output
        self.side_inputs = side
        self.script_name = config.entry_script
        folder = Path(config.source_directory or ".")
        script = folder / config.entry_script
        if script.is_file():  # the pipeline build checks again, relative to the pipeline file
            problem = entry_script_problem(script)
            if problem:
                raise ParallelRunError(f"ParallelRunStep '{name}': {problem}")

    @property
    def running_on_windows(self) -> bool:
        """Steps run in Linux containers (pods, or sandboxed processes locally)."""
        return False

    def source_problems(self, folder: Path) -> list[str]:
        """What the pipeline build reports before anything runs (the entry script's run())."""
        script = folder / self.parallel_run_config.entry_script
        if not script.is_file():
            return [f"entry script '{self.parallel_run_config.entry_script}' is not in "
                    f"source_directory '{folder}' (fix entry_script or source_directory)"]
        problem = entry_script_problem(script)
        return [problem] if problem else []

    def kind_settings(self) -> tuple[dict[str, Any], str]:
        """The graph's settings for this step (canonical JSON of them enters its reuse key),
        and the entry script."""
        config = self.parallel_run_config

        def setting(field: str, value: Any) -> Any:
            if isinstance(value, PipelineParameter):
                return {"param": value.name}
            return value

        settings: dict[str, Any] = {
            "entry_script": config.entry_script,
            "mini_batch_size": setting("mini_batch_size", config.mini_batch_size),
            "node_count": setting("node_count", config.node_count),
            "process_count_per_node": setting("process_count_per_node",
                                              config.process_count_per_node),
            "error_threshold": config.error_threshold,
            "allowed_failed_count": config.allowed_failed_count,
            "allowed_failed_percent": config.allowed_failed_percent,
            "output_action": config.output_action,
            "append_row_file_name": config.append_row_file_name,
            "run_invocation_timeout": config.run_invocation_timeout,
            "run_max_try": config.run_max_try,
            "partition_keys": config.partition_keys,
            "logging_level": config.logging_level,
            "environment_variables": dict(sorted(config.environment_variables.items())),
            "inputs": {p.name: p.spec for p in self.parallel_inputs},
            "output": self.output.name if self.output is not None else "",
        }
        return {k: v for k, v in settings.items() if v is not None}, config.entry_script

    def static_parallelism(self) -> int | None:
        """node_count when fixed at compile time (a PipelineParameter resolves at run time)."""
        count = self.parallel_run_config.node_count
        return count if isinstance(count, int) else None


def canonical(settings: Mapping[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True, separators=(",", ":"))
