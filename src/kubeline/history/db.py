"""The run history: experiments, runs and steps in SQLite (``<state dir>/history.db``).

Several processes write at once (two runners, a canceller, a reader marking a dead run), so
the database is in WAL mode with a busy timeout, and every change is one short
transaction. Status words are the SDK's: NotStarted, Running, Finished, Failed, Canceled.
docs/decisions/0007-run-history.md explains why this is not the executor's runs.db.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kubeline._json import compact
from kubeline._sqlite import open_wal, write
from kubeline.exceptions import KubelineError

HISTORY_FILE = "history.db"
SCHEMA_VERSION = 1

NOT_STARTED = "NotStarted"
RUNNING = "Running"
FINISHED = "Finished"
FAILED = "Failed"
CANCELED = "Canceled"
TERMINAL = frozenset({FINISHED, FAILED, CANCELED})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS experiments (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    experiment TEXT NOT NULL REFERENCES experiments (name),
    pipeline TEXT NOT NULL,
    workflow TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    started_by TEXT NOT NULL,
    parameters TEXT NOT NULL DEFAULT '{}',
    tags TEXT NOT NULL DEFAULT '{}',
    snapshots TEXT NOT NULL DEFAULT '{}',
    git TEXT,
    properties TEXT NOT NULL DEFAULT '{}',
    metrics TEXT NOT NULL DEFAULT '{}',
    runner_pid INTEGER,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs (experiment, created_at);
CREATE INDEX IF NOT EXISTS runs_by_workflow ON runs (workflow);
CREATE TABLE IF NOT EXISTS run_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs (id),
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS run_events_by_run ON run_events (run_id, seq);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL REFERENCES runs (id),
    step_id TEXT NOT NULL,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    message TEXT NOT NULL DEFAULT '',
    key TEXT,
    reused INTEGER NOT NULL DEFAULT 0,
    reused_from_run TEXT,
    reused_from_step TEXT,
    metrics TEXT NOT NULL DEFAULT '{}',
    tags TEXT NOT NULL DEFAULT '{}',
    outputs TEXT NOT NULL DEFAULT '{}',
    timings TEXT NOT NULL DEFAULT '{}',
    log_dir TEXT,
    stdout_location TEXT,
    stderr_location TEXT,
    stderr_tail TEXT NOT NULL DEFAULT '',
    started_at TEXT,
    finished_at TEXT,
    PRIMARY KEY (run_id, step_id)
);
"""


MIN_PREFIX = 6  # characters of a run id that may stand for it


class RunNotInHistory(KubelineError):
    """A run id (or workflow name) the history does not know."""


def utc_now() -> str:
    """ISO 8601 UTC with milliseconds: orders events of one second."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _loads(text: str | None, default: Any) -> Any:
    if not text:
        return default
    return json.loads(text)


def read_log(path: str | None) -> str:
    """A step's log file as text ("" when it has none or it is gone)."""
    if not path:
        return ""
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


@dataclass(frozen=True)
class StepRecord:
    """One step of a run as the history holds it."""

    run_id: str
    step_id: str
    name: str
    position: int
    status: str
    attempts: int
    exit_code: int | None
    message: str
    key: str | None
    reused: bool
    reused_from_run: str | None
    reused_from_step: str | None
    metrics: dict[str, Any]
    tags: dict[str, Any]
    outputs: dict[str, dict[str, Any]]
    timings: dict[str, Any]
    log_dir: str | None
    stdout_location: str | None
    stderr_location: str | None
    stderr_tail: str
    started_at: str | None
    finished_at: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.step_id, "name": self.name, "status": self.status,
            "attempts": self.attempts, "exit_code": self.exit_code, "message": self.message,
            "key": self.key, "reused": self.reused,
            "reused_from": (None if not self.reused_from_run else
                            {"run_id": self.reused_from_run, "step_id": self.reused_from_step}),
            "outputs": self.outputs, "metrics": self.metrics, "tags": self.tags,
            "timings": self.timings, "started_at": self.started_at,
            "finished_at": self.finished_at,
            "logs": {"dir": self.log_dir, "stdout": self.stdout_location,
                     "stderr": self.stderr_location},
        }


@dataclass(frozen=True)
class RunRecord:
    """One pipeline run as the history holds it."""

    id: str
    experiment: str
    pipeline: str
    workflow: str
    status: str
    message: str
    started_by: str
    parameters: dict[str, Any]
    tags: dict[str, Any]
    snapshots: dict[str, str]
    git: dict[str, Any] | None
    properties: dict[str, Any]
    metrics: dict[str, Any]
    runner_pid: int | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    events: list[dict[str, str]] = field(default_factory=list)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "experiment": self.experiment, "pipeline": self.pipeline,
            "workflow": self.workflow, "status": self.status, "message": self.message,
            "started_by": self.started_by, "parameters": self.parameters, "tags": self.tags,
            "snapshots": self.snapshots, "git": self.git, "properties": self.properties,
            "metrics": self.metrics, "created_at": self.created_at,
            "started_at": self.started_at, "finished_at": self.finished_at,
            "events": self.events,
        }


@dataclass(frozen=True)
class NewRun:
    """What is known about a run when its runner starts it."""

    id: str
    experiment: str
    pipeline: str
    workflow: str
    started_by: str
    parameters: Mapping[str, Any]
    tags: Mapping[str, Any]
    snapshots: Mapping[str, str]
    git: Mapping[str, Any] | None
    properties: Mapping[str, Any]
    steps: list[tuple[str, str]]  # (step id, step name) in pipeline order
    runner_pid: int | None = None


_RUN_COLUMNS = ("id, experiment, pipeline, workflow, status, message, started_by, parameters, "
                "tags, snapshots, git, properties, metrics, runner_pid, created_at, started_at, "
                "finished_at")
_LOG_PATHS = ("log_dir", "stdout_location", "stderr_location")
_STEP_COLUMNS = ("run_id, step_id, name, position, status, attempts, exit_code, message, key, "
                 "reused, reused_from_run, reused_from_step, metrics, tags, outputs, timings, "
                 "log_dir, stdout_location, stderr_location, stderr_tail, started_at, "
                 "finished_at")


class History:
    """The history database of one state directory; one connection per instance."""

    def __init__(self, state_dir: Path) -> None:
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / HISTORY_FILE
        self._base = state_dir.resolve()
        try:
            self.db = open_wal(self.path, _SCHEMA, 30.0,
                               pragmas=("synchronous=NORMAL", "foreign_keys=ON"))
            with self._write():
                self.db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                                ("schema_version", str(SCHEMA_VERSION)))
        except sqlite3.DatabaseError as exc:
            raise KubelineError(f"run history {self.path} cannot be opened ({exc})",
                                "move the file aside; a new history starts empty") from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return write(self.db)

    # --- writes ------------------------------------------------------------------------

    def create_run(self, run: NewRun) -> None:
        """Insert the run (Running) and its steps (NotStarted) in one transaction."""
        now = utc_now()
        with self._write():
            self.db.execute("INSERT OR IGNORE INTO experiments (name, created_at) VALUES (?, ?)",
                            (run.experiment, now))
            self.db.execute(
                f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES "
                "(?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, NULL)",
                (run.id, run.experiment, run.pipeline, run.workflow, RUNNING, run.started_by,
                 compact(dict(run.parameters)), compact(dict(run.tags)),
                 compact(dict(run.snapshots)), None if run.git is None else compact(dict(run.git)),
                 compact(dict(run.properties)), run.runner_pid, now, now))
            self.db.execute("INSERT INTO run_events (run_id, status, at) VALUES (?, ?, ?)",
                            (run.id, NOT_STARTED, now))
            self.db.execute("INSERT INTO run_events (run_id, status, at) VALUES (?, ?, ?)",
                            (run.id, RUNNING, now))
            self.db.executemany(
                "INSERT INTO steps (run_id, step_id, name, position, status) "
                "VALUES (?, ?, ?, ?, ?)",
                [(run.id, sid, name, i, NOT_STARTED) for i, (sid, name) in enumerate(run.steps)])

    def add_step(self, run_id: str, step_id: str, name: str) -> None:
        """A step the manifest did not list up front (NotStarted, after the others);
        nothing changes when the run already has it."""
        with self._write():
            self.db.execute(
                "INSERT OR IGNORE INTO steps (run_id, step_id, name, position, status) "
                "VALUES (?, ?, ?, (SELECT COUNT(*) FROM steps WHERE run_id = ?), ?)",
                (run_id, step_id, name, run_id, NOT_STARTED))

    def set_run_status(self, run_id: str, status: str, message: str = "", *,
                       only_if_not_terminal: bool = False, runner_pid: int | None = None) -> bool:
        """Record a status transition (with its time); returns False when nothing changed."""
        now = utc_now()
        with self._write():
            row = self.db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise RunNotInHistory(f"run '{run_id}' is not in the history {self.path}")
            if only_if_not_terminal and row[0] in TERMINAL:
                return False
            finished = now if status in TERMINAL else None
            self.db.execute(
                "UPDATE runs SET status = ?, message = ?, finished_at = ?, "
                "runner_pid = COALESCE(?, runner_pid) WHERE id = ?",
                (status, message, finished, runner_pid, run_id))
            if row[0] != status:
                self.db.execute(
                    "INSERT INTO run_events (run_id, status, at, message) VALUES (?, ?, ?, ?)",
                    (run_id, status, now, message))
            if status == CANCELED:
                self.db.execute(
                    "UPDATE steps SET status = ?, finished_at = ? WHERE run_id = ? AND "
                    "status IN (?, ?)", (CANCELED, now, run_id, RUNNING, NOT_STARTED))
        return True

    def set_run_metrics(self, run_id: str, metrics: Mapping[str, Any]) -> None:
        with self._write():
            self.db.execute("UPDATE runs SET metrics = ? WHERE id = ?",
                            (compact(dict(metrics)), run_id))

    def step_running(self, run_id: str, step_id: str, attempts: int, log_dir: str) -> None:
        with self._write():
            self.db.execute(
                "UPDATE steps SET status = ?, attempts = ?, log_dir = ?, "
                "started_at = COALESCE(started_at, ?), finished_at = NULL "
                "WHERE run_id = ? AND step_id = ?",
                (RUNNING, attempts, self._stored(log_dir), utc_now(), run_id, step_id))

    def step_finished(self, run_id: str, step_id: str, fields: Mapping[str, Any]) -> None:
        """Everything known about a finished step, in one statement."""
        values = dict(fields)
        for name in ("metrics", "tags", "outputs", "timings"):
            if name in values:
                values[name] = compact(values[name])
        if "reused" in values:
            values["reused"] = int(bool(values["reused"]))
        for name in _LOG_PATHS:
            if values.get(name):
                values[name] = self._stored(str(values[name]))
        values.setdefault("finished_at", utc_now())
        allowed = set(_STEP_COLUMNS.replace(" ", "").split(",")) - {"run_id", "step_id"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"unknown step fields {sorted(unknown)}")
        assignments = ", ".join(f"{k} = ?" for k in values)
        with self._write():
            self.db.execute(
                f"UPDATE steps SET {assignments}, started_at = COALESCE(started_at, ?) "
                "WHERE run_id = ? AND step_id = ?",
                (*values.values(), values["finished_at"], run_id, step_id))

    # --- reads -------------------------------------------------------------------------

    def resolve(self, ref: str) -> str:
        """A run id from a run id, a unique prefix of one, or the executor's workflow name."""
        row = self.db.execute("SELECT id FROM runs WHERE id = ? OR workflow = ? "
                              "ORDER BY created_at DESC LIMIT 1", (ref, ref)).fetchone()
        if row is not None:
            return str(row[0])
        rows = self.db.execute("SELECT id FROM runs WHERE id LIKE ? LIMIT 2",
                               (ref.replace("%", "").replace("_", "") + "%",)).fetchall()
        if len(rows) == 1 and len(ref) >= MIN_PREFIX:
            return str(rows[0][0])
        if rows and len(ref) < MIN_PREFIX:
            raise RunNotInHistory(f"run id prefix '{ref}' is too short",
                                  f"give at least {MIN_PREFIX} characters of the run id")
        if len(rows) > 1:
            raise RunNotInHistory(f"run id prefix '{ref}' matches several runs",
                                  "give more characters of the run id")
        raise RunNotInHistory(f"run '{ref}' is not in the history {self.path}",
                              "list runs with 'kubeline runs list'")

    def get_run(self, ref: str) -> RunRecord:
        run_id = self.resolve(ref)
        row = self.db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?",
                              (run_id,)).fetchone()
        events = [{"status": e[0], "at": e[1], "message": e[2]} for e in self.db.execute(
            "SELECT status, at, message FROM run_events WHERE run_id = ? ORDER BY seq",
            (run_id,))]
        return _run(row, events)

    def list_runs(self, experiment: str | None = None, limit: int | None = None
                  ) -> list[RunRecord]:
        """Newest first."""
        sql = f"SELECT {_RUN_COLUMNS} FROM runs"
        args: list[Any] = []
        if experiment is not None:
            sql += " WHERE experiment = ?"
            args.append(experiment)
        sql += " ORDER BY created_at DESC, id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [_run(r, []) for r in self.db.execute(sql, args)]

    def experiments(self) -> list[str]:
        return [str(r[0]) for r in self.db.execute("SELECT name FROM experiments ORDER BY name")]

    def steps(self, run_id: str) -> list[StepRecord]:
        rows = self.db.execute(f"SELECT {_STEP_COLUMNS} FROM steps WHERE run_id = ? "
                               "ORDER BY position", (run_id,)).fetchall()
        return [_step(r, self._base) for r in rows]

    def _stored(self, path: str) -> str:
        """A log path as stored: relative to the state folder when it is inside it, so a
        history read where its folder is mounted or moved elsewhere (a pod's volume, a
        copied workspace) still finds its logs."""
        if not Path(path).is_absolute():
            return path  # a URL, or already relative
        try:
            return str(Path(path).resolve().relative_to(self._base))
        except ValueError:
            return path


def _run(row: Any, events: list[dict[str, str]]) -> RunRecord:
    return RunRecord(
        id=row[0], experiment=row[1], pipeline=row[2], workflow=row[3], status=row[4],
        message=row[5], started_by=row[6], parameters=_loads(row[7], {}),
        tags=_loads(row[8], {}), snapshots=_loads(row[9], {}), git=_loads(row[10], None),
        properties=_loads(row[11], {}), metrics=_loads(row[12], {}), runner_pid=row[13],
        created_at=row[14], started_at=row[15], finished_at=row[16], events=events)


def _step(row: Any, base: Path) -> StepRecord:
    def located(stored: str | None) -> str | None:  # relative: inside the state folder
        if not stored or "://" in stored or Path(stored).is_absolute():
            return stored
        return str(base / stored)

    return StepRecord(
        run_id=row[0], step_id=row[1], name=row[2], position=row[3], status=row[4],
        attempts=row[5], exit_code=row[6], message=row[7], key=row[8], reused=bool(row[9]),
        reused_from_run=row[10], reused_from_step=row[11], metrics=_loads(row[12], {}),
        tags=_loads(row[13], {}), outputs=_loads(row[14], {}), timings=_loads(row[15], {}),
        log_dir=located(row[16]), stdout_location=located(row[17]),
        stderr_location=located(row[18]), stderr_tail=row[19], started_at=row[20],
        finished_at=row[21])
