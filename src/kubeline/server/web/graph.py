"""A run's step graph: the edges between steps, read from the manifest the executor stored.

The history knows steps but not their dependencies; the executor keeps the manifest it ran
in ``<state dir>/runs.db``. It is opened read-only, so the page never writes to the
executor's state.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def stored_manifest(state_dir: Path, workflow: str) -> list[dict[str, Any]] | None:
    """The documents the executor ran for ``workflow``, or None when it has no record."""
    path = Path(state_dir) / "runs.db"
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30.0)
        try:
            row = db.execute("SELECT manifest FROM runs WHERE id = ?", (workflow,)).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    if row is None:
        return None
    data: Any = json.loads(row[0])
    if isinstance(data, str):  # the executor stores its canonical text form
        data = json.loads(data)
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else None


def _depends_names(task: dict[str, Any]) -> list[str]:
    """Task names a DAG task waits for: ``dependencies`` or the names in a ``depends``
    expression (``a && (b.Succeeded || c.Failed)``)."""
    names = [str(d) for d in task.get("dependencies") or []]
    expression = str(task.get("depends") or "")
    for token in _TOKEN.findall(expression):
        names.append(token.split(".", 1)[0])
    return names


def edges(docs: list[dict[str, Any]] | None, steps: list[str]) -> list[tuple[str, str]]:
    """(producer, consumer) pairs between the given step ids, in a stable order."""
    if not docs:
        return []
    known = set(steps)
    found: set[tuple[str, str]] = set()
    for doc in docs:
        if doc.get("kind") not in ("Workflow", "WorkflowTemplate"):
            continue
        for template in (doc.get("spec") or {}).get("templates") or []:
            for task in (template.get("dag") or {}).get("tasks") or []:
                name = str(task.get("name", ""))
                if name not in known:
                    continue
                for before in _depends_names(task):
                    if before in known and before != name:
                        found.add((before, name))
    order = {s: i for i, s in enumerate(steps)}
    return sorted(found, key=lambda e: (order[e[0]], order[e[1]]))
