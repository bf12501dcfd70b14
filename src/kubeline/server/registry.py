"""The publishing registry: published pipelines, pipeline endpoints, schedules, token hashes.

One SQLite file, ``<state dir>/serve.db`` (WAL, busy timeout), beside the run history. The
DSL (``PublishedPipeline.get``), the ``kubeline`` CLI and the server all read and write it,
from several processes and threads, so every change is one short transaction and each
thread gets its own connection. A published pipeline's row holds the compiled manifest; it
is never updated except for its status (Active/Disabled), which is what makes it immutable.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubeline._json import compact
from kubeline._sqlite import open_wal, write
from kubeline.exceptions import KubelineError

REGISTRY_FILE = "serve.db"
ACTIVE = "Active"
DISABLED = "Disabled"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS published (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    pipeline_id TEXT NOT NULL,
    continue_on_step_failure INTEGER,
    parameters TEXT NOT NULL,
    docs TEXT NOT NULL,
    snapshots TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS endpoints (
    name TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    default_version TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS endpoint_versions (
    endpoint TEXT NOT NULL REFERENCES endpoints (name),
    version TEXT NOT NULL,
    published_id TEXT NOT NULL REFERENCES published (id),
    added_at TEXT NOT NULL,
    PRIMARY KEY (endpoint, version)
);
CREATE TABLE IF NOT EXISTS schedules (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    published_id TEXT NOT NULL DEFAULT '',
    endpoint TEXT NOT NULL DEFAULT '',
    experiment TEXT NOT NULL,
    kind TEXT NOT NULL,
    recurrence TEXT NOT NULL DEFAULT '{}',
    datastore TEXT NOT NULL DEFAULT '',
    path_on_datastore TEXT NOT NULL DEFAULT '',
    polling_interval INTEGER NOT NULL DEFAULT 5,
    data_path_parameter_name TEXT NOT NULL DEFAULT '',
    parameters TEXT NOT NULL DEFAULT '{}',
    continue_on_step_failure INTEGER,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS schedule_state (
    schedule_id TEXT PRIMARY KEY REFERENCES schedules (id),
    baseline TEXT,
    listing TEXT,
    pending_since REAL,
    last_fire REAL,
    last_look TEXT,
    last_saw TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS schedule_triggers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id TEXT NOT NULL REFERENCES schedules (id),
    at TEXT NOT NULL,
    saw TEXT NOT NULL DEFAULT '{}',
    run_id TEXT,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS triggers_by_schedule ON schedule_triggers (schedule_id, seq);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    salt TEXT NOT NULL,
    hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
"""


class RegistryError(KubelineError):
    """A published pipeline, endpoint, schedule or token the registry does not hold."""


def utc_now() -> str:
    from kubeline.history.db import utc_now as now

    return now()


@dataclass(frozen=True)
class ParameterInfo:
    """A pipeline parameter as the endpoint accepts it (name in the pipeline, type, default)."""

    name: str
    type: str
    default: Any
    argument: str  # the workflow argument name the compiler gave it

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "default": self.default}


@dataclass(frozen=True)
class PublishedRecord:
    """One published pipeline version: the compiled manifest and what it needs to run."""

    id: str
    name: str
    description: str
    version: str
    status: str
    pipeline: str
    pipeline_id: str
    continue_on_step_failure: bool | None
    parameters: tuple[ParameterInfo, ...]
    docs: list[dict[str, Any]]
    snapshots: dict[str, str]
    source: dict[str, Any]
    created_at: str

    def to_json(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "description": self.description,
            "version": self.version, "status": self.status, "pipeline": self.pipeline,
            "pipeline_id": self.pipeline_id, "endpoint": f"{base_url}/pipelines/{self.id}",
            "parameters": [p.to_json() for p in self.parameters],
            "snapshots": self.snapshots, "created_at": self.created_at,
        }


@dataclass(frozen=True)
class EndpointRecord:
    """A pipeline endpoint: a fixed name routing to one of several published versions."""

    name: str
    id: str
    description: str
    status: str
    default_version: str
    versions: dict[str, str]  # version -> published id
    created_at: str

    def to_json(self, base_url: str) -> dict[str, Any]:
        return {
            "name": self.name, "id": self.id, "description": self.description,
            "status": self.status, "default_version": self.default_version,
            "versions": [{"version": v, "published_id": p}
                         for v, p in sorted(self.versions.items(), key=lambda i: _vkey(i[0]))],
            "endpoint": f"{base_url}/pipelineEndpoints/{self.name}",
            "created_at": self.created_at,
        }


def _vkey(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (1 << 30, version)


@dataclass(frozen=True)
class ScheduleRecord:
    """A schedule: a time recurrence or a datastore path to watch, and what to submit."""

    id: str
    name: str
    description: str
    status: str
    published_id: str
    endpoint: str
    experiment: str
    kind: str  # "time" or "data"
    recurrence: dict[str, Any]
    datastore: str
    path_on_datastore: str
    polling_interval: int
    data_path_parameter_name: str
    parameters: dict[str, Any]
    continue_on_step_failure: bool | None
    created_at: str

    def to_json(self, last: TriggerRecord | None = None, state: ScheduleState | None = None
                ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "name": self.name, "description": self.description,
            "status": self.status, "kind": self.kind, "experiment": self.experiment,
            "published_pipeline_id": self.published_id or None,
            "pipeline_endpoint": self.endpoint or None,
            "parameters": self.parameters, "created_at": self.created_at,
        }
        if self.kind == "time":
            out["recurrence"] = self.recurrence
        else:
            out["datastore"] = self.datastore
            out["path_on_datastore"] = self.path_on_datastore
            out["polling_interval_seconds"] = self.polling_interval
            out["data_path_parameter_name"] = self.data_path_parameter_name or None
        out["last_look"] = None if state is None else state.last_look
        out["last_saw"] = None if state is None else state.last_saw
        out["last_trigger"] = None if last is None else last.to_json()
        return out


@dataclass(frozen=True)
class TriggerRecord:
    """One look of a schedule: when, what it saw, which run it started (or why not)."""

    seq: int
    schedule_id: str
    at: str
    saw: dict[str, Any]
    run_id: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "saw": self.saw, "run_id": self.run_id, "message": self.message}


@dataclass
class ScheduleState:
    """The scheduler's memory of one schedule: the listing at the last run (baseline) and at
    the last look, since when changes wait to settle, the last fire and the last look."""

    baseline: dict[str, str] | None
    listing: dict[str, str] | None
    pending_since: float | None
    last_fire: float | None
    last_look: str | None
    last_saw: dict[str, Any]


@dataclass(frozen=True)
class TokenRecord:
    """A token's public part: never the secret, only its salted hash."""

    id: str
    name: str
    salt: str
    hash: str
    created_at: str
    revoked_at: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "created_at": self.created_at,
                "revoked": self.revoked_at is not None, "revoked_at": self.revoked_at}


class Registry:
    """The registry of one state directory; safe to share between threads."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / REGISTRY_FILE
        self._local = threading.local()
        self._connect()  # create the schema once, up front

    # --- plumbing ----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        import os

        local = self._local
        db: sqlite3.Connection | None = getattr(local, "db", None)
        if db is None or getattr(local, "pid", 0) != os.getpid():
            self.state_dir.mkdir(parents=True, exist_ok=True)
            try:
                db = open_wal(self.path, _SCHEMA, 30.0)
            except sqlite3.DatabaseError as exc:
                raise KubelineError(f"publishing registry {self.path} cannot be opened ({exc})",
                                    "move the file aside; a new registry starts empty") from exc
            local.db, local.pid = db, os.getpid()
        return db

    @property
    def db(self) -> sqlite3.Connection:
        return self._connect()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return write(self.db)

    # --- published pipelines -----------------------------------------------------------

    def add_published(self, record: PublishedRecord) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO published (id, name, description, version, status, pipeline, "
                "pipeline_id, continue_on_step_failure, parameters, docs, snapshots, source, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.id, record.name, record.description, record.version, record.status,
                 record.pipeline, record.pipeline_id,
                 None if record.continue_on_step_failure is None
                 else int(record.continue_on_step_failure),
                 compact([{**p.to_json(), "argument": p.argument} for p in record.parameters]),
                 compact(record.docs), compact(record.snapshots), compact(record.source),
                 record.created_at))

    _PUB = ("id, name, description, version, status, pipeline, pipeline_id, "
            "continue_on_step_failure, parameters, docs, snapshots, source, created_at")

    def get_published(self, published_id: str) -> PublishedRecord:
        row = self.db.execute(f"SELECT {self._PUB} FROM published WHERE id = ?",
                              (published_id,)).fetchone()
        if row is None:
            raise RegistryError(f"published pipeline '{published_id}' is not in {self.path}",
                                "list them with PublishedPipeline.list(ws) or GET "
                                "/api/published-pipelines")
        return _published(row)

    def published_status(self, published_id: str) -> str | None:
        """Just the status (cheap: the hot path caches the immutable rest)."""
        row = self.db.execute("SELECT status FROM published WHERE id = ?",
                              (published_id,)).fetchone()
        return None if row is None else str(row[0])

    def list_published(self, active_only: bool = False) -> list[PublishedRecord]:
        sql = f"SELECT {self._PUB} FROM published"
        if active_only:
            sql += f" WHERE status = '{ACTIVE}'"
        sql += " ORDER BY created_at DESC, id"
        return [_published(r) for r in self.db.execute(sql)]

    def set_published_status(self, published_id: str, status: str) -> None:
        self.get_published(published_id)
        with self._write() as db:
            db.execute("UPDATE published SET status = ? WHERE id = ?", (status, published_id))

    # --- pipeline endpoints ------------------------------------------------------------

    def add_endpoint(self, name: str, endpoint_id: str, description: str,
                     published_id: str) -> EndpointRecord:
        now = utc_now()
        with self._write() as db:
            if db.execute("SELECT 1 FROM endpoints WHERE name = ?", (name,)).fetchone():
                raise RegistryError(f"pipeline endpoint '{name}' already exists",
                                    "add a version with PipelineEndpoint.get(ws, name=...)"
                                    ".add_default(published_pipeline)")
            db.execute("INSERT INTO endpoints (name, id, description, status, default_version, "
                       "created_at) VALUES (?, ?, ?, ?, '0', ?)",
                       (name, endpoint_id, description, ACTIVE, now))
            db.execute("INSERT INTO endpoint_versions (endpoint, version, published_id, "
                       "added_at) VALUES (?, '0', ?, ?)", (name, published_id, now))
        return self.get_endpoint(name)

    def add_endpoint_version(self, name: str, published_id: str, make_default: bool
                             ) -> str:
        """Add a version (the next integer) unless this pipeline is one already; return it."""
        self.get_endpoint(name)
        with self._write() as db:
            rows = db.execute("SELECT version, published_id FROM endpoint_versions "
                              "WHERE endpoint = ?", (name,)).fetchall()
            existing = [str(v) for v, p in rows if p == published_id]
            if existing:
                version = existing[0]
            else:
                version = str(max((int(v) for v, _ in rows if str(v).isdigit()), default=-1)
                              + 1)
                db.execute("INSERT INTO endpoint_versions (endpoint, version, published_id, "
                           "added_at) VALUES (?, ?, ?, ?)",
                           (name, version, published_id, utc_now()))
            if make_default:
                db.execute("UPDATE endpoints SET default_version = ? WHERE name = ?",
                           (version, name))
        return version

    def set_endpoint_default(self, name: str, version: str) -> None:
        endpoint = self.get_endpoint(name)
        if version not in endpoint.versions:
            raise RegistryError(f"pipeline endpoint '{name}' has no version '{version}'",
                                f"its versions are {', '.join(sorted(endpoint.versions))}")
        with self._write() as db:
            db.execute("UPDATE endpoints SET default_version = ? WHERE name = ?",
                       (version, name))

    def rename_endpoint(self, name: str, new_name: str) -> None:
        """A new name for an endpoint (its versions follow); refused if the name is taken."""
        self.get_endpoint(name)
        if not isinstance(new_name, str) or not new_name.strip():
            raise RegistryError("pipeline endpoint name must be a non-empty string")
        with self._write() as db:
            if db.execute("SELECT 1 FROM endpoints WHERE name = ?", (new_name,)).fetchone():
                raise RegistryError(f"pipeline endpoint '{new_name}' already exists",
                                    "choose another name")
            db.execute("UPDATE endpoints SET name = ? WHERE name = ?", (new_name, name))
            db.execute("UPDATE endpoint_versions SET endpoint = ? WHERE endpoint = ?",
                       (new_name, name))
            db.execute("UPDATE schedules SET endpoint = ? WHERE endpoint = ?", (new_name, name))

    def set_endpoint_description(self, name: str, description: str) -> None:
        self.get_endpoint(name)
        with self._write() as db:
            db.execute("UPDATE endpoints SET description = ? WHERE name = ?",
                       (description, name))

    def set_endpoint_status(self, name: str, status: str) -> None:
        self.get_endpoint(name)
        with self._write() as db:
            db.execute("UPDATE endpoints SET status = ? WHERE name = ?", (status, name))

    def find_endpoint(self, name: str | None = None, endpoint_id: str | None = None
                      ) -> EndpointRecord | None:
        row = self.db.execute(
            "SELECT name, id, description, status, default_version, created_at FROM endpoints "
            "WHERE name = ? OR id = ?", (name or "", endpoint_id or "")).fetchone()
        if row is None:
            return None
        versions = {str(v): str(p) for v, p in self.db.execute(
            "SELECT version, published_id FROM endpoint_versions WHERE endpoint = ?",
            (row[0],))}
        return EndpointRecord(name=row[0], id=row[1], description=row[2], status=row[3],
                              default_version=row[4], versions=versions, created_at=row[5])

    def get_endpoint(self, name: str | None = None, endpoint_id: str | None = None
                     ) -> EndpointRecord:
        found = self.find_endpoint(name, endpoint_id)
        if found is None:
            raise RegistryError(f"pipeline endpoint '{name or endpoint_id}' does not exist",
                                "create it with PipelineEndpoint.publish(ws, name, "
                                "description, pipeline)")
        return found

    def list_endpoints(self, active_only: bool = False) -> list[EndpointRecord]:
        names = [str(r[0]) for r in self.db.execute("SELECT name FROM endpoints ORDER BY name")]
        records = [self.get_endpoint(n) for n in names]
        return [r for r in records if r.status == ACTIVE or not active_only]

    # --- schedules ---------------------------------------------------------------------

    _SCH = ("id, name, description, status, published_id, endpoint, experiment, kind, "
            "recurrence, datastore, path_on_datastore, polling_interval, "
            "data_path_parameter_name, parameters, continue_on_step_failure, created_at")

    def add_schedule(self, record: ScheduleRecord) -> None:
        with self._write() as db:
            db.execute(
                f"INSERT INTO schedules ({self._SCH}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.id, record.name, record.description, record.status,
                 record.published_id, record.endpoint, record.experiment, record.kind,
                 compact(record.recurrence), record.datastore, record.path_on_datastore,
                 record.polling_interval, record.data_path_parameter_name,
                 compact(record.parameters),
                 None if record.continue_on_step_failure is None
                 else int(record.continue_on_step_failure), record.created_at))
            db.execute("INSERT INTO schedule_state (schedule_id) VALUES (?)", (record.id,))

    def get_schedule(self, schedule_id: str) -> ScheduleRecord:
        row = self.db.execute(f"SELECT {self._SCH} FROM schedules WHERE id = ?",
                              (schedule_id,)).fetchone()
        if row is None:
            raise RegistryError(f"schedule '{schedule_id}' is not in {self.path}",
                                "list them with Schedule.list(ws) or kubeline schedule list")
        return _schedule(row)

    def list_schedules(self, active_only: bool = False) -> list[ScheduleRecord]:
        sql = f"SELECT {self._SCH} FROM schedules"
        if active_only:
            sql += f" WHERE status = '{ACTIVE}'"
        sql += " ORDER BY created_at, id"
        return [_schedule(r) for r in self.db.execute(sql)]

    def set_schedule_status(self, schedule_id: str, status: str) -> None:
        self.get_schedule(schedule_id)
        with self._write() as db:
            db.execute("UPDATE schedules SET status = ? WHERE id = ?", (status, schedule_id))

    _UPDATABLE = frozenset({"name", "description", "recurrence", "parameters", "datastore",
                  "polling_interval", "data_path_parameter_name", "continue_on_step_failure",
                  "path_on_datastore"})

    def update_schedule(self, schedule_id: str, changes: dict[str, Any]) -> None:
        """Change some fields of a schedule (Schedule.update); JSON fields given as values."""
        self.get_schedule(schedule_id)
        unknown = sorted(set(changes) - self._UPDATABLE)
        if unknown:
            raise RegistryError(f"schedule fields {', '.join(unknown)} cannot be changed")
        values = {k: compact(v) if k in ("recurrence", "parameters") else
                  (None if v is None else int(v)) if k == "continue_on_step_failure" else v
                  for k, v in changes.items()}
        columns = ", ".join(f"{k} = ?" for k in sorted(values))
        with self._write() as db:
            db.execute(f"UPDATE schedules SET {columns} WHERE id = ?",
                       (*[values[k] for k in sorted(values)], schedule_id))

    def schedule_state(self, schedule_id: str) -> ScheduleState:
        """What the scheduler remembers between looks."""
        row = self.db.execute("SELECT baseline, listing, pending_since, last_fire, last_look, "
                              "last_saw FROM schedule_state WHERE schedule_id = ?",
                              (schedule_id,)).fetchone()
        if row is None:
            return ScheduleState(None, None, None, None, None, {})
        return ScheduleState(
            baseline=None if row[0] is None else json.loads(row[0]),
            listing=None if row[1] is None else json.loads(row[1]),
            pending_since=row[2], last_fire=row[3], last_look=row[4],
            last_saw=json.loads(row[5] or "{}"))

    def save_look(self, schedule_id: str, state: ScheduleState,
                  trigger: tuple[dict[str, Any], str | None, str] | None = None) -> None:
        """Store the state after a look and, when something happened, log it as a trigger
        (what it saw, the run it started or None, a message) in the same transaction."""
        with self._write() as db:
            db.execute(
                "UPDATE schedule_state SET baseline = ?, listing = ?, pending_since = ?, "
                "last_fire = ?, last_look = ?, last_saw = ? WHERE schedule_id = ?",
                (None if state.baseline is None else compact(state.baseline),
                 None if state.listing is None else compact(state.listing),
                 state.pending_since, state.last_fire, state.last_look,
                 compact(state.last_saw), schedule_id))
            if trigger is not None:
                saw, run_id, message = trigger
                db.execute("INSERT INTO schedule_triggers (schedule_id, at, saw, run_id, "
                           "message) VALUES (?, ?, ?, ?, ?)",
                           (schedule_id, state.last_look or utc_now(), compact(saw), run_id,
                            message))

    def triggers(self, schedule_id: str, limit: int = 50) -> list[TriggerRecord]:
        """Newest first."""
        rows = self.db.execute(
            "SELECT seq, schedule_id, at, saw, run_id, message FROM schedule_triggers "
            "WHERE schedule_id = ? ORDER BY seq DESC LIMIT ?", (schedule_id, limit)).fetchall()
        return [TriggerRecord(seq=r[0], schedule_id=r[1], at=r[2], saw=json.loads(r[3]),
                              run_id=r[4], message=r[5]) for r in rows]

    def schedule_json(self, record: ScheduleRecord, triggers: int = 0) -> dict[str, Any]:
        """A schedule as the API shows it: its last look, last trigger (and more triggers)."""
        out = record.to_json(self.last_trigger(record.id), self.schedule_state(record.id))
        if triggers:
            out["triggers"] = [t.to_json() for t in self.triggers(record.id, triggers)]
        return out

    def last_trigger(self, schedule_id: str) -> TriggerRecord | None:
        found = self.triggers(schedule_id, 1)
        return found[0] if found else None

    # --- tokens ------------------------------------------------------------------------

    def add_token(self, record: TokenRecord) -> None:
        with self._write() as db:
            if db.execute("SELECT 1 FROM tokens WHERE name = ?", (record.name,)).fetchone():
                raise RegistryError(f"a token named '{record.name}' already exists",
                                    "choose another name or revoke it first with "
                                    f"kubeline token revoke {record.name}")
            db.execute("INSERT INTO tokens (id, name, salt, hash, created_at) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (record.id, record.name, record.salt, record.hash, record.created_at))

    def get_token(self, token_id: str) -> TokenRecord | None:
        row = self.db.execute("SELECT id, name, salt, hash, created_at, revoked_at FROM tokens "
                              "WHERE id = ?", (token_id,)).fetchone()
        return None if row is None else TokenRecord(*row)

    def list_tokens(self) -> list[TokenRecord]:
        return [TokenRecord(*r) for r in self.db.execute(
            "SELECT id, name, salt, hash, created_at, revoked_at FROM tokens ORDER BY name")]

    def revoke_token(self, name: str) -> None:
        with self._write() as db:
            cursor = db.execute("UPDATE tokens SET revoked_at = ? WHERE name = ? AND "
                                "revoked_at IS NULL", (utc_now(), name))
            if cursor.rowcount == 0:
                raise RegistryError(f"no active token named '{name}'",
                                    "see the names with kubeline token list")


def _published(row: Any) -> PublishedRecord:
    params = tuple(ParameterInfo(name=p["name"], type=p["type"], default=p["default"],
                                 argument=p["argument"]) for p in json.loads(row[8]))
    return PublishedRecord(
        id=row[0], name=row[1], description=row[2], version=row[3], status=row[4],
        pipeline=row[5], pipeline_id=row[6],
        continue_on_step_failure=None if row[7] is None else bool(row[7]),
        parameters=params, docs=json.loads(row[9]), snapshots=json.loads(row[10]),
        source=json.loads(row[11]), created_at=row[12])


def _schedule(row: Any) -> ScheduleRecord:
    return ScheduleRecord(
        id=row[0], name=row[1], description=row[2], status=row[3], published_id=row[4],
        endpoint=row[5], experiment=row[6], kind=row[7], recurrence=json.loads(row[8]),
        datastore=row[9], path_on_datastore=row[10], polling_interval=int(row[11]),
        data_path_parameter_name=row[12], parameters=json.loads(row[13]),
        continue_on_step_failure=None if row[14] is None else bool(row[14]),
        created_at=row[15])
