"""Metric entries: validation, the JSON-lines format, and the AML ``get_metrics`` shape.

Stdlib only: ``kubeline.Run`` imports this inside user scripts, and the shim imports it to
collect the metrics file. One entry per line, appended with a single ``write`` so several
processes of one step can log at once.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kubeline.exceptions import KubelineError

MAX_NAME = 255
Scalar = bool | int | float | str
Entry = dict[str, Any]


class MetricError(KubelineError):
    """A metric, tag or file name or value that cannot be recorded."""


def check_name(kind: str, name: object) -> str:
    """A metric or tag name: a non-empty printable string of at most 255 characters."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME \
            or not name.isprintable():
        raise MetricError(f"Run.{kind}: name {name!r} is not valid",
                          f"use a non-empty printable string of at most {MAX_NAME} characters")
    return name


def scalar(kind: str, name: str, value: object) -> Scalar:
    """A JSON-able scalar. numpy scalars become Python ones; NaN and infinities become the
    strings "NaN", "Infinity" and "-Infinity" (JSON has no such numbers)."""
    if hasattr(value, "item") and hasattr(value, "dtype") and not hasattr(value, "__len__"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, bool | int | float | str):
        return value
    raise MetricError(f"Run.{kind}: value of '{name}' has type {type(value).__name__}",
                      "log a number, a bool or a string")


def scalars(kind: str, name: str, values: object) -> list[Scalar]:
    """A list of scalars from a list, tuple or array (``tolist()``)."""
    if hasattr(values, "tolist") and not isinstance(values, str | bytes):
        values = values.tolist()
    if not isinstance(values, Sequence) or isinstance(values, str | bytes):
        raise MetricError(f"Run.{kind}: value of '{name}' is a {type(values).__name__}",
                          "pass a list of numbers or strings")
    return [scalar(kind, name, v) for v in values]


def table(kind: str, name: str, value: object) -> dict[str, list[Scalar]]:
    """A table: column name -> list of scalars."""
    if not isinstance(value, Mapping):
        raise MetricError(f"Run.{kind}: value of '{name}' is a {type(value).__name__}",
                          "pass a dict of column name -> list of values")
    return {check_name(kind, col): scalars(kind, f"{name}.{col}", vals)
            for col, vals in value.items()}


def append_entry(path: Path, entry: Entry) -> int:
    """Append one entry as a JSON line with one write (O_APPEND keeps lines whole); returns
    the file offset where the line ends."""
    line = (json.dumps(entry, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        return os.lseek(fd, 0, os.SEEK_CUR)
    finally:
        os.close(fd)


def read_entries(path: Path) -> list[Entry]:
    """Entries of a metrics file; a torn last line (a killed writer) is dropped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    entries: list[Entry] = []
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and "type" in item and "name" in item:
            entries.append(item)
    return entries


def aggregate(entries: Iterable[Entry]) -> dict[str, Any]:
    """Metrics as AML's ``get_metrics`` returns them: a scalar logged once is its value, more
    than once a list; lists concatenate; rows and tables are column -> list of values."""
    out: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for entry in entries:
        name, kind, value = entry["name"], entry["type"], entry.get("value")
        if kind == "scalar":
            counts[name] = counts.get(name, 0) + 1
            if counts[name] == 1:
                out[name] = value
            elif counts[name] == 2:
                out[name] = [out[name], value]
            else:
                out[name].append(value)
        elif kind == "list":
            out.setdefault(name, []).extend(value)
        elif kind in ("row", "table"):
            columns = out.setdefault(name, {})
            for col, vals in (value or {}).items():
                columns.setdefault(col, []).extend(vals if kind == "table" else [vals])
    return out


def tags(entries: Iterable[Entry]) -> dict[str, str]:
    """Tags set with ``Run.tag``; the last value of a key wins."""
    return {e["name"]: e["value"] for e in entries if e["type"] == "tag"}


def files(entries: Iterable[Entry]) -> list[str]:
    """Names of files recorded with ``Run.upload_file``, in order, without repeats."""
    seen: dict[str, None] = {}
    for e in entries:
        if e["type"] == "file":
            seen[e["name"]] = None
    return list(seen)
