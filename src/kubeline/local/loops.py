"""withItems / withParam / withSequence expansion (Argo's expandTask and processItem)."""

from __future__ import annotations

import json
import re
from typing import Any

from kubeline.local.nodes import go_json, item_string, loop_node_name
from kubeline.local.templating import Substituter, TemplateError
from kubeline.local.when import WhenError, should_execute

LOOP_KEYS = ("withItems", "withParam", "withSequence")


class LoopError(Exception):
    """The loop's items cannot be computed (the task errors with Argo's message)."""


def expands(task: dict[str, Any]) -> bool:
    """Argo's ShouldExpand: non-empty withItems, non-empty withParam, or any withSequence."""
    return (
        bool(task.get("withItems"))
        or task.get("withParam") not in (None, "")
        or task.get("withSequence") is not None
    )


def _when_false(when: str) -> bool:
    try:
        return not should_execute(when)
    except WhenError:
        return False


def items_of(task: dict[str, Any]) -> list[Any]:
    """The loop items of an already substituted task."""
    when = str(task.get("when") or "")
    if task.get("withItems"):
        items = task["withItems"]
        if not isinstance(items, list):
            raise LoopError("withItems must be a list")
        return items
    if task.get("withParam") not in (None, ""):
        raw = task["withParam"]
        if isinstance(raw, list):
            return raw
        try:
            parsed = json.loads(str(raw))
            if not isinstance(parsed, list):
                raise ValueError("not a list")
            return parsed
        except ValueError as exc:
            if _when_false(when):
                return []
            raise LoopError(
                f"withParam value could not be parsed as a JSON list: {str(raw).strip()}: {exc}"
            ) from exc
    if task.get("withSequence") is not None:
        try:
            return sequence(task["withSequence"])
        except LoopError:
            if _when_false(when):
                return []
            raise
    return []


def _atoi(value: Any, field: str) -> int:
    text = str(value).strip()
    if not re.fullmatch(r"[-+]?\d+", text):
        raise LoopError(f'withSequence.{field}: strconv.Atoi: parsing "{value}": invalid syntax')
    return int(text)


def sequence(seq: dict[str, Any]) -> list[str]:
    start = _atoi(seq["start"], "start") if seq.get("start") not in (None, "") else 0
    if seq.get("end") not in (None, ""):
        end = _atoi(seq["end"], "end")
    elif seq.get("count") not in (None, ""):
        count = _atoi(seq["count"], "count")
        if count == 0:
            return []
        end = start + count - 1
    else:
        raise LoopError("neither end nor count was specified in withSequence")
    fmt = str(seq.get("format") or "%d")
    step = 1 if start <= end else -1
    return [_go_printf(fmt, i) for i in range(start, end + step, step)]


def _go_printf(fmt: str, value: int) -> str:
    py = re.sub(r"%(-?0?\d*)d", r"%\1d", fmt)
    try:
        return py % value
    except (TypeError, ValueError):
        return fmt


def item_scope(item: Any) -> dict[str, str]:
    """The ``{{item}}`` / ``{{item.key}}`` values Argo's processItem sets."""
    if isinstance(item, dict):
        out = {f"item.{k}": item_string(v) for k, v in item.items()}
        out["item"] = go_json(item)
        return out
    if isinstance(item, list):
        return {"item": go_json(item)}
    if isinstance(item, bool):
        return {"item": "true" if item else "false"}
    if isinstance(item, (int, float)):
        return {"item": item_string(item)}
    if item is None:
        return {"item": "null"}
    return {"item": str(item)}


def expand(task: dict[str, Any], base_scope: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(expanded name, substituted task) per item; raises LoopError/TemplateError."""
    items = items_of(task)
    body = {k: v for k, v in task.items() if k not in LOOP_KEYS}
    when = str(task.get("when") or "")
    out: list[tuple[str, dict[str, Any]]] = []
    for i, item in enumerate(items):
        if not isinstance(item, (str, int, float, bool, dict, list)):
            raise LoopError(
                f"withItems[{i}] expected string, number, list, or map. received: {item}"
            )
        scope = dict(base_scope)
        scope.update(item_scope(item))
        lenient = _when_false(when)
        if lenient:
            scope = {k: v for k, v in scope.items() if v is not None}
        sub = Substituter(scope, allow_unresolved=lenient)
        new = sub.obj(body)
        out.append((loop_node_name(str(task["name"]), i, item), new))
    return out


__all__ = [
    "LOOP_KEYS",
    "LoopError",
    "TemplateError",
    "expand",
    "expands",
    "item_scope",
    "items_of",
    "sequence",
]
