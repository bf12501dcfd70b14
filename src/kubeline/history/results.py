"""A step's end as the history records it, from what every backend can see: the shim's
result record in the default datastore (``kubeline/runs/<run>/steps/<step>/result.json``,
docs/runtime.md), the step's exit code and its log files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubeline.stores import Store

TAIL_LINES = 20
TAIL_CHARS = 4000


def tail(path: Path, lines: int = TAIL_LINES, chars: int = TAIL_CHARS) -> str:
    """The last lines of a log file (reads only its end)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - chars))
            data = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(data.rstrip("\n").splitlines()[-lines:])


def merge_metrics(target: dict[str, Any], metrics: Mapping[str, Any]) -> None:
    """AML aggregation across steps: one value stays a value, more become a list."""
    for name, value in metrics.items():
        if name not in target:
            target[name] = value
            continue
        old = target[name]
        old_list = old if isinstance(old, list) else [old]
        target[name] = old_list + (value if isinstance(value, list) else [value])


def log_fields(log_dir: str, failed: bool) -> dict[str, Any]:
    """Where a step's main container logs are (and their tail when it did not succeed)."""
    fields: dict[str, Any] = {"stdout_location": str(Path(log_dir) / "main.stdout"),
                              "stderr_location": str(Path(log_dir) / "main.stderr")}
    if failed:
        fields["stderr_tail"] = tail(Path(log_dir) / "main.stderr")
    return fields


def result_fields(result: Mapping[str, Any]) -> dict[str, Any]:
    """The step fields a result record fills: key, reuse, metrics, tags, outputs, timings."""
    reused_from = result.get("reused_from") or {}
    return {
        "key": result.get("key"), "reused": result.get("status") == "reused",
        "reused_from_run": reused_from.get("run_id"),
        "reused_from_step": reused_from.get("step_id"),
        "metrics": result.get("metrics") or {}, "tags": result.get("tags") or {},
        "outputs": result.get("outputs") or {}, "timings": result.get("timings") or {},
    }


def result_key(run_id: str, step_id: str) -> str:
    """The key of a step's result record in the default datastore."""
    from kubeline.runtime.layout import step_dir

    return f"{step_dir(run_id, step_id)}/result.json"


def read_record(store: Store, key: str) -> dict[str, Any] | None:
    """A JSON record in a datastore, or None when it is missing or unreadable."""
    from kubeline.exceptions import KubelineError

    try:
        if not store.exists(key):
            return None
        data: dict[str, Any] = json.loads(store.get_bytes(key))
    except (KubelineError, OSError, ValueError):
        return None
    return data
