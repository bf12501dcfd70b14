"""A ParallelRunStep's settings with its PipelineParameters resolved to this run's values."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubeline.runtime.spec import SpecError

DEFAULT_FILES_PER_BATCH = 10
DEFAULT_TABULAR_BYTES = 1024 * 1024
TASKS_PER_NODE = 4  # fan-out items per node when node_count is fixed (docs/parallel-run.md)
_SIZE = re.compile(r"^\s*(\d+)\s*([KMGT]?B?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    """What the planner, the workers and the gather step need to know."""

    entry_script: str
    mini_batch_size: str | int | None
    node_count: int
    node_count_fixed: bool
    process_count_per_node: int
    error_threshold: int
    allowed_failed_count: int | None
    allowed_failed_percent: float | None
    output_action: str
    append_row_file_name: str
    run_invocation_timeout: int
    run_max_try: int
    partition_keys: tuple[str, ...] | None
    logging_level: str
    environment_variables: dict[str, str]
    inputs: dict[str, dict[str, Any]]
    output: str
    raw: dict[str, Any] = field(default_factory=dict)

    def files_per_batch(self) -> int:
        if self.mini_batch_size is None:
            return DEFAULT_FILES_PER_BATCH
        try:
            count = int(str(self.mini_batch_size).strip())
        except ValueError:
            raise SpecError(f"mini_batch_size {self.mini_batch_size!r} is not a number of files",
                            "a file input takes a count, e.g. 10") from None
        if count < 1:
            raise SpecError(f"mini_batch_size must be at least 1, not {count}")
        return count

    def bytes_per_batch(self) -> int:
        if self.mini_batch_size is None:
            return DEFAULT_TABULAR_BYTES
        match = _SIZE.match(str(self.mini_batch_size))
        if not match:
            raise SpecError(f"mini_batch_size {self.mini_batch_size!r} is not a size",
                            "a tabular input takes a size like '1MB' or a number of bytes")
        unit = match.group(2).upper().rstrip("B")
        power: int = 1024 ** " KMGT".index(unit or " ")
        return max(1, int(match.group(1)) * power)

    def tasks_for(self, batches: int) -> int:
        """How many fan-out items: a few per node so a slow one does not idle the others; one
        per node when node_count is a parameter (Argo's parallelism field takes no parameter)."""
        per_node = TASKS_PER_NODE if self.node_count_fixed else 1
        return max(0, min(batches, self.node_count * per_node))


def _resolve(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, dict) and set(value) == {"param"}:
        name = value["param"]
        if name not in values:
            raise SpecError(f"setting uses parameter '{name}', which the pipeline does not "
                            "define", "recompile the pipeline")
        return values[name]
    return value


def _int(value: Any, what: str, minimum: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise SpecError(f"ParallelRunStep: {what} {value!r} is not a whole number") from None
    if number < minimum:
        raise SpecError(f"ParallelRunStep: {what} must be at least {minimum}, not {number}")
    return number


def load(settings_json: str, values: Mapping[str, str]) -> Settings:
    """The step's settings (the graph's JSON) with parameter references resolved."""
    raw: dict[str, Any] = json.loads(settings_json) if settings_json else {}
    node_count = _resolve(raw.get("node_count", 1), values)
    procs = _resolve(raw.get("process_count_per_node"), values)
    keys = raw.get("partition_keys")
    return Settings(
        entry_script=str(raw["entry_script"]),
        mini_batch_size=_resolve(raw.get("mini_batch_size"), values),
        node_count=_int(node_count, "node_count", 1),
        node_count_fixed=not isinstance(raw.get("node_count"), dict),
        process_count_per_node=(_int(procs, "process_count_per_node", 1) if procs is not None
                                else os.cpu_count() or 1),
        error_threshold=int(raw.get("error_threshold", -1)),
        allowed_failed_count=raw.get("allowed_failed_count"),
        allowed_failed_percent=raw.get("allowed_failed_percent"),
        output_action=str(raw.get("output_action", "append_row")),
        append_row_file_name=str(raw.get("append_row_file_name", "parallel_run_step.txt")),
        run_invocation_timeout=int(raw.get("run_invocation_timeout", 60)),
        run_max_try=int(raw.get("run_max_try", 3)),
        partition_keys=tuple(keys) if keys else None,
        logging_level=str(raw.get("logging_level", "INFO")),
        environment_variables=dict(raw.get("environment_variables") or {}),
        inputs=dict(raw.get("inputs") or {}),
        output=str(raw.get("output", "")),
        raw=raw,
    )
