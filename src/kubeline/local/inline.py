"""Inline templates (``inline:`` in a DAG task or a step) as named templates.

Argo runs a task's ``inline`` template as if it were a template of the workflow. Before the
manifest is checked, each one is moved into ``spec.templates`` under a generated name that no
template has (``<template>-<task>-inline``) and the task refers to it by that name; nested
inline templates are handled as they are moved.
"""

from __future__ import annotations

from typing import Any


def expand_inline(spec: dict[str, Any]) -> None:
    """Rewrite spec in place: every inline template becomes a named one."""
    templates = spec.get("templates")
    if not isinstance(templates, list):
        return
    names = {str(t.get("name")) for t in templates if isinstance(t, dict)}
    i = 0
    while i < len(templates):
        tmpl = templates[i]
        i += 1
        if not isinstance(tmpl, dict):
            continue
        for task in _tasks(tmpl):
            inline = task.get("inline")
            if not isinstance(inline, dict) or "template" in task:
                continue
            name = _free_name(f"{tmpl.get('name')}-{task.get('name')}-inline", names)
            names.add(name)
            templates.append({**inline, "name": name})
            del task["inline"]
            task["template"] = name


def _tasks(tmpl: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    dag = tmpl.get("dag")
    if isinstance(dag, dict):
        found += [t for t in dag.get("tasks") or [] if isinstance(t, dict)]
    for group in tmpl.get("steps") or []:
        if isinstance(group, list):
            found += [s for s in group if isinstance(s, dict)]
    return found


def _free_name(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name
