"""SQLite databases that several kubeline processes open and write at once (the run
history, the run state, the publishing registry): opened in WAL mode with their schema, and
written in short transactions that wait for each other instead of failing."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


def open_wal(path: Path, schema: str, busy_seconds: float,
             pragmas: tuple[str, ...] = ("synchronous=NORMAL",)) -> sqlite3.Connection:
    """A connection in WAL mode with ``schema`` created (idempotent SQL).

    Processes that open a new database at the same moment race for the journal-mode switch
    and the schema's tables; SQLite answers a loser "database is locked" at once (its deadlock
    avoidance does not wait for the busy timeout), so the opening is tried again, with
    back-off, for as long as the busy timeout."""
    deadline = time.monotonic() + busy_seconds
    delay = 0.02
    while True:
        db = sqlite3.connect(path, timeout=busy_seconds, isolation_level=None,
                             check_same_thread=False)
        try:
            db.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
            db.execute("PRAGMA journal_mode=WAL")
            for pragma in pragmas:
                db.execute(f"PRAGMA {pragma}")
            db.executescript(schema)
            return db
        except sqlite3.OperationalError as exc:
            db.close()
            if not _busy(exc) or time.monotonic() >= deadline:
                raise
        except BaseException:
            db.close()
            raise
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


@contextmanager
def write(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One short write transaction; BEGIN IMMEDIATE takes the write lock up front, so
    concurrent writers wait (busy timeout) instead of failing on a lock upgrade."""
    for attempt in range(5):
        try:
            db.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))
    try:
        yield db
    except BaseException:
        with suppress(sqlite3.OperationalError):  # the error may have ended it already
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
