"""Fire schedules while ``kubeline serve`` runs: time recurrences and datastore watches.

A data-change schedule is debounced: each look lists the watched path (key -> etag); a
listing that differs from the last look means files are still arriving, so it waits; a
listing that is stable but differs from the one at the last run starts ONE run, however
many files changed (AML starts one per blob). Changes that never settle still start a run
after ``MAX_SETTLE_LOOKS`` looks. Every look is remembered (when, what it saw) and every
run started or skipped is logged as a trigger, so a user can tell whether it worked.

Time schedules follow the cluster's CronWorkflow policy: a fire is skipped while the
previous run of the schedule is still going (concurrencyPolicy Forbid), and missed fires
while the server was down are not replayed one by one (one run, then the next due time).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from kubeline.exceptions import KubelineError
from kubeline.server.registry import (
    ACTIVE,
    PublishedRecord,
    Registry,
    ScheduleRecord,
    ScheduleState,
    utc_now,
)

log = logging.getLogger("kubeline.serve")
MAX_SETTLE_LOOKS = 5
SAMPLE = 20  # keys shown per kind of change in a trigger record


def listing_diff(old: dict[str, str], new: dict[str, str]) -> dict[str, Any]:
    """What changed between two listings: counts and the first keys of each kind."""
    added = sorted(k for k in new if k not in old)
    removed = sorted(k for k in old if k not in new)
    modified = sorted(k for k in new if k in old and old[k] != new[k])
    return {"objects": len(new), "added": len(added), "modified": len(modified),
            "removed": len(removed), "added_keys": added[:SAMPLE],
            "modified_keys": modified[:SAMPLE], "removed_keys": removed[:SAMPLE]}


@dataclass(frozen=True)
class Look:
    """The outcome of one look at a watched path."""

    fire: bool
    baseline: dict[str, str]
    pending_since: float | None
    saw: dict[str, Any]


def debounce(baseline: dict[str, str] | None, previous: dict[str, str] | None,
             pending_since: float | None, current: dict[str, str], now: float,
             interval: float) -> Look:
    """Decide one look (shared by ``kubeline serve`` and the cluster's watch pod).

    The first look takes the baseline. A listing that still moves waits (up to
    MAX_SETTLE_LOOKS looks); a settled listing that differs from the baseline fires once and
    becomes the new baseline.
    """
    if baseline is None:
        return Look(False, current, None,
                    {"objects": len(current), "note": "first look: baseline taken"})
    if current != previous:
        since = pending_since or now
        if (now - since) / max(interval, 1.0) < MAX_SETTLE_LOOKS:
            return Look(False, baseline, since,
                        {**listing_diff(baseline, current), "settling": True})
    if current == baseline:
        return Look(False, baseline, None, listing_diff(baseline, current))
    return Look(True, current, None, listing_diff(baseline, current))


class Scheduler:
    """One thread looking at every active schedule once per ``tick`` seconds."""

    def __init__(self, workspace_root: Path, registry: Registry,
                 start_run: Callable[[ScheduleRecord, PublishedRecord, dict[str, Any]], str],
                 tick: float = 1.0) -> None:
        self.workspace_root = Path(workspace_root)
        self.registry = registry
        self.start_run = start_run
        self.tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._looked: dict[str, float] = {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="kubeline-scheduler",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # one bad schedule or store must not stop the others
                log.exception("scheduler tick failed")
            self._stop.wait(self.tick)

    def run_once(self, now: datetime | None = None) -> None:
        """Look at every active schedule that is due."""
        now = now or datetime.now(timezone.utc)
        for record in self.registry.list_schedules(active_only=True):
            try:
                if record.kind == "time":
                    self._time(record, now)
                else:
                    self._data(record, now)
            except KubelineError as exc:
                state = self.registry.schedule_state(record.id)
                state.last_look = utc_now()
                state.last_saw = {"error": str(exc)}
                self.registry.save_look(record.id, state, ({"error": str(exc)}, None,
                                                           f"look failed: {exc}"))

    # --- time ----------------------------------------------------------------------------

    def _time(self, record: ScheduleRecord, now: datetime) -> None:
        from kubeline.server.recurrence import Recurrence

        recurrence = Recurrence.from_json(record.recurrence)
        created = _parse(record.created_at)
        state = self.registry.schedule_state(record.id)
        if state.last_fire is not None:
            due = recurrence.next_after(datetime.fromtimestamp(state.last_fire, timezone.utc),
                                        created)
        elif recurrence.start_time is None and recurrence.hours is None \
                and recurrence.minutes is None and recurrence.week_days is None:
            due = created  # AML: no start time -> the first run starts at once
        else:
            due = recurrence.next_after(created - timedelta(microseconds=1), created)
        if now < due:
            return
        state.last_fire = now.timestamp()
        state.last_look = utc_now()
        saw: dict[str, Any] = {"due": due.isoformat()}
        busy = self._previous_running(record)
        if busy:
            state.last_saw = saw
            self.registry.save_look(record.id, state, (
                saw, None, f"skipped: run {busy} of this schedule is still running "
                           "(concurrency policy Forbid)"))
            return
        self._fire(record, state, saw, {})

    def _previous_running(self, record: ScheduleRecord) -> str | None:
        from kubeline.history import db as h
        from kubeline.history.liveness import process_alive

        last = next((t for t in self.registry.triggers(record.id, 10) if t.run_id), None)
        if last is None or last.run_id is None:
            return None
        with h.History(self.registry.state_dir) as db:
            try:
                run = db.get_run(last.run_id)
            except h.RunNotInHistory:
                return None
        if run.terminal or not process_alive(run.runner_pid):
            return None
        return run.id

    # --- data change ---------------------------------------------------------------------

    def _data(self, record: ScheduleRecord, now: datetime) -> None:
        mono = time.monotonic()
        last = self._looked.get(record.id)
        if last is not None and mono - last < record.polling_interval:
            return
        self._looked[record.id] = mono
        current = self._listing(record)
        state = self.registry.schedule_state(record.id)
        state.last_look = utc_now()
        look = debounce(state.baseline, state.listing, state.pending_since, current,
                        now.timestamp(), record.polling_interval)
        state.baseline, state.listing = look.baseline, current
        state.pending_since, state.last_saw = look.pending_since, look.saw
        if not look.fire:
            self.registry.save_look(record.id, state)
            return
        saw = look.saw
        state.last_fire = now.timestamp()
        parameters: dict[str, Any] = {}
        if record.data_path_parameter_name:
            parameters[record.data_path_parameter_name] = {
                "DataStoreName": record.datastore, "RelativePath": record.path_on_datastore}
        self._fire(record, state, saw, parameters)

    def _listing(self, record: ScheduleRecord) -> dict[str, str]:
        from kubeline.stores import open_store
        from kubeline.workspace.settings import WorkspaceFolder

        ws = WorkspaceFolder.find(self.workspace_root)
        config = ws.config.datastores.get(record.datastore)
        if config is None:
            raise KubelineError(f"schedule '{record.name}': datastore '{record.datastore}' is "
                                "not in the workspace", "see kubeline.yaml datastores")
        store = open_store(record.datastore, config, ws.root)
        prefix = record.path_on_datastore
        prefix = f"{prefix}/" if prefix and not prefix.endswith("/") else prefix
        return {info.key: info.etag for info in store.list(prefix)}

    # --- starting ------------------------------------------------------------------------

    def _fire(self, record: ScheduleRecord, state: ScheduleState, saw: dict[str, Any],
              data_paths: dict[str, Any]) -> None:
        published = self._published(record)
        state.last_saw = saw
        run_id: str | None = None
        message = ""
        if published is None:
            message = "skipped: the pipeline endpoint or published pipeline is disabled"
        else:
            try:
                run_id = self.start_run(record, published, data_paths)
                message = f"started run {run_id}"
            except KubelineError as exc:
                message = f"could not start a run: {exc}"
        self.registry.save_look(record.id, state, (saw, run_id, message))

    def _published(self, record: ScheduleRecord) -> PublishedRecord | None:
        if record.endpoint:
            endpoint = self.registry.get_endpoint(record.endpoint)
            if endpoint.status != ACTIVE:
                return None
            published = self.registry.get_published(endpoint.versions[endpoint.default_version])
        else:
            published = self.registry.get_published(record.published_id)
        return published if published.status == ACTIVE else None


def _parse(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value
