"""Crash-safe run state: one SQLite database (WAL mode) under the state directory.

Every node change is one small transaction, so a runner killed at any moment leaves the
database consistent: a node is either recorded with its final phase and outputs or it is not.
``kubeline run --resume`` reads the recorded nodes back and reuses every fulfilled leaf.
A per-run lock file (flock) stops two runners from driving the same run.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from kubeline._sqlite import open_wal
from kubeline.exceptions import KubelineError
from kubeline.local.nodes import Node

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    uid TEXT NOT NULL,
    manifest TEXT NOT NULL,
    parameters TEXT NOT NULL,
    phase TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT '',
    outputs TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS nodes (
    run_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, id)
);
"""


class RunNotFound(KubelineError):
    """--resume names a run this state directory does not know."""


class RunLocked(KubelineError):
    """Another runner holds the run."""


class StateStore:
    """The run database of one state directory."""

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / "runs.db"
        try:
            self.db = open_wal(self.path, _SCHEMA, 10.0)
        except sqlite3.DatabaseError as exc:
            raise KubelineError(f"run state {self.path} cannot be opened ({exc})",
                                "move the file aside; runs recorded in it are then forgotten"
                                ) from exc
        self._seq = 0

    def close(self) -> None:
        self.db.close()

    def create_run(
        self, run_id: str, uid: str, manifest: dict[str, Any], parameters: dict[str, str], now: str
    ) -> None:
        self.db.execute(
            "INSERT INTO runs (id, uid, manifest, parameters, phase, started_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (run_id, uid, json.dumps(manifest), json.dumps(parameters), "Running", now),
        )

    def load_run(self, run_id: str) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT id, uid, manifest, parameters, phase, message, started_at, finished_at, "
            "outputs FROM runs WHERE id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            raise RunNotFound(
                f"run '{run_id}' is not in {self.path}", "check --state-dir and the run id"
            )
        return {
            "id": row[0],
            "uid": row[1],
            "manifest": json.loads(row[2]),
            "parameters": json.loads(row[3]),
            "phase": row[4],
            "message": row[5],
            "started_at": row[6],
            "finished_at": row[7],
            "outputs": json.loads(row[8]),
        }

    def finish_run(
        self, run_id: str, phase: str, message: str, now: str, outputs: dict[str, Any]
    ) -> None:
        self.db.execute(
            "UPDATE runs SET phase = ?, message = ?, finished_at = ?, outputs = ? WHERE id = ?",
            (phase, message, now, json.dumps(outputs), run_id),
        )

    def reopen_run(self, run_id: str) -> None:
        self.db.execute(
            "UPDATE runs SET phase = 'Running', finished_at = '' WHERE id = ?", (run_id,)
        )

    def save_node(self, run_id: str, node: Node) -> None:
        self._seq += 1
        self.db.execute(
            "INSERT INTO nodes (run_id, id, name, seq, data) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id, id) DO UPDATE SET data = excluded.data",
            (run_id, node.id, node.name, self._seq, json.dumps(node.to_json())),
        )

    def load_nodes(self, run_id: str) -> list[Node]:
        rows = self.db.execute(
            "SELECT data FROM nodes WHERE run_id = ? ORDER BY seq", (run_id,)
        ).fetchall()
        return [Node.from_json(json.loads(r[0])) for r in rows]

    def list_runs(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, phase, started_at, finished_at FROM runs ORDER BY started_at"
        ).fetchall()
        return [{"id": r[0], "phase": r[1], "startedAt": r[2], "finishedAt": r[3]} for r in rows]


class RunLock:
    """An exclusive flock on ``<run_dir>/lock``; released by the kernel if the runner dies."""

    def __init__(self, run_dir: Path) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = run_dir / "lock"
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(self.fd)
            raise RunLocked(
                f"run in {run_dir} is being driven by another kubeline process"
            ) from exc
        os.ftruncate(self.fd, 0)
        os.write(self.fd, str(os.getpid()).encode())

    def release(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
