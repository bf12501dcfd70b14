"""A run's step graph: the edges between steps, read from the manifest the executor stored.

The history knows steps but not their dependencies; the executor keeps the manifest it ran
in ``<state dir>/runs.db``. It is opened read-only, so the page never writes to the
executor's state.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
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


def dag_pairs(docs: list[dict[str, Any]] | None) -> frozenset[tuple[str, str]]:
    """Every (task it waits for, task) pair of the manifest's DAG templates."""
    found: set[tuple[str, str]] = set()
    for doc in docs or []:
        if doc.get("kind") not in ("Workflow", "WorkflowTemplate"):
            continue
        for template in (doc.get("spec") or {}).get("templates") or []:
            for task in (template.get("dag") or {}).get("tasks") or []:
                name = str(task.get("name", ""))
                found.update((before, name) for before in _depends_names(task)
                             if before != name)
    return frozenset(found)


def edges(docs: list[dict[str, Any]] | None, steps: list[str],
          pairs: frozenset[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """(producer, consumer) pairs between the given step ids, in a stable order."""
    order = {s: i for i, s in enumerate(steps)}
    found = [(a, b) for a, b in (dag_pairs(docs) if pairs is None else pairs)
             if a in order and b in order]
    return sorted(found, key=lambda e: (order[e[0]], order[e[1]]))


class PairsCache:
    """DAG pairs per executor run: a stored manifest never changes, so the page parses it
    once per run rather than on every poll. Runs without a stored manifest are not cached
    (it may be written a moment later)."""

    def __init__(self, state_dir: Path, size: int = 256) -> None:
        self.state_dir = Path(state_dir)
        self.size = size
        self._pairs: dict[str, frozenset[tuple[str, str]]] = {}
        self._lock = threading.Lock()  # the routes run in a thread pool

    def get(self, workflow: str) -> frozenset[tuple[str, str]] | None:
        """The pairs of ``workflow``'s manifest, or None when the executor has none."""
        with self._lock:
            cached = self._pairs.get(workflow)
        if cached is not None:
            return cached
        docs = stored_manifest(self.state_dir, workflow)
        if docs is None:
            return None
        pairs = dag_pairs(docs)
        with self._lock:
            while len(self._pairs) >= self.size:
                self._pairs.pop(next(iter(self._pairs)))
            self._pairs[workflow] = pairs
        return pairs
