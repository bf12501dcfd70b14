"""DAG dependencies: ``dependencies`` lists and enhanced ``depends`` (Argo's ancestry.go).

A bare task name X expands to ``(X.Succeeded || X.Skipped || X.Daemoned)``, plus
``|| X.Errored`` / ``|| X.Failed`` when X has continueOn error/failed. ``dependencies: [A, B]``
becomes the expansions joined with ``&&``. Evaluation replaces ``-`` with ``_`` in names and
logic and runs the result through the expr evaluator, as dag.go evaluateDependsLogic does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubeline.local import exprlang
from kubeline.local.nodes import ERROR, FAILED, OMITTED, SKIPPED, SUCCEEDED

_TASK_NAME = re.compile(r"([a-zA-Z0-9][-a-zA-Z0-9]*?\.[A-Z][a-zA-Z]+)|([a-zA-Z0-9][-a-zA-Z0-9]*)")
RESULTS = (
    "Succeeded",
    "Failed",
    "Errored",
    "Skipped",
    "Omitted",
    "Daemoned",
    "AnySucceeded",
    "AllFailed",
)


class DependsError(Exception):
    """A depends expression refers to an unknown task or result."""


def expand_dependency(name: str, task: Mapping[str, Any]) -> str:
    parts = [f"{name}.Succeeded", f"{name}.Skipped", f"{name}.Daemoned"]
    cont = task.get("continueOn") or {}
    if cont.get("error"):
        parts.append(f"{name}.Errored")
    if cont.get("failed"):
        parts.append(f"{name}.Failed")
    return "(" + " || ".join(parts) + ")"


@dataclass(frozen=True)
class TaskDeps:
    """The tasks one task depends on, and its fully expanded depends logic."""

    names: tuple[str, ...]
    logic: str
    item_deps: frozenset[str]


def task_dependencies(task: Mapping[str, Any], tasks: Mapping[str, Mapping[str, Any]]) -> TaskDeps:
    """Dependencies and expanded logic of one task (Argo's GetTaskDependencies)."""
    depends = task.get("depends") or ""
    if not depends:
        deps = list(task.get("dependencies") or [])
        for d in deps:
            if d not in tasks:
                raise DependsError(f"dependency '{d}' not defined")
        depends = " && ".join(expand_dependency(d, tasks[d]) for d in deps)
    names: dict[str, None] = {}
    items: set[str] = set()
    expansions: list[tuple[int, int, str]] = []
    for m in _TASK_NAME.finditer(depends):
        if m.group(1):
            name, result = m.group(1).split(".", 1)
            if result not in RESULTS:
                raise DependsError(f"task result '{result}' for task '{name}' is invalid")
            if result in ("AnySucceeded", "AllFailed"):
                items.add(name)
            names.setdefault(name, None)
        else:
            name = m.group(2)
            names.setdefault(name, None)
            expansions.append((m.start(2), m.end(2), name))
    for name in names:
        if name not in tasks:
            raise DependsError(f"dependency '{name}' not defined")
    for start, end, name in sorted(expansions, reverse=True):
        depends = depends[:start] + expand_dependency(name, tasks[name]) + depends[end:]
    return TaskDeps(tuple(names), depends, frozenset(items))


@dataclass(frozen=True)
class DepState:
    """What evaluation needs to know about one dependency's node."""

    phase: str
    children_phases: tuple[str, ...] | None = None  # set for TaskGroup (looped) tasks
    daemoned: bool = False  # a daemon that is up (Argo: IsDaemoned() && phase != Pending)


def evaluate(deps: TaskDeps, states: Mapping[str, DepState]) -> bool:
    """Evaluate the expanded logic once every dependency is fulfilled."""
    env: dict[str, Any] = {}
    for name in deps.names:
        st = states[name]
        children = st.children_phases
        any_ok = bool(children) and any(p == SUCCEEDED for p in children or ())
        all_failed = bool(children) and all(p == FAILED for p in children or ())
        env[name.replace("-", "_")] = {
            "Succeeded": st.phase == SUCCEEDED,
            "Failed": st.phase == FAILED,
            "Errored": st.phase == ERROR,
            "Skipped": st.phase == SKIPPED,
            "Omitted": st.phase == OMITTED,
            "Daemoned": st.daemoned,
            "AnySucceeded": any_ok,
            "AllFailed": all_failed,
        }
    logic = deps.logic.replace("-", "_")
    try:
        result = exprlang.evaluate(logic, env)
    except exprlang.ExprError as exc:
        raise DependsError(f"unable to evaluate expression '{logic}': {exc}") from exc
    if not isinstance(result, bool):
        raise DependsError(
            f"unable to evaluate expression '{logic}': expected bool, got {result!r}"
        )
    return result
