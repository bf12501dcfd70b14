"""Start a run of a published pipeline: record it, then hand it to a background runner.

The submit call must return once the run exists, not when it finishes, and fast (the REST
target is p99 < 50 ms). Starting a Python runner takes far longer than that, so the run is
recorded here, in the caller's process, in both databases the local executor uses: the
executor's ``runs.db`` (manifest, parameters, uid) and the history (``history.db``,
status Running, steps NotStarted). A runner (``python -m kubeline.server.runner``) then
drives it with the executor's resume path, which adopts the recorded run instead of making
a new one: one accepted request is exactly one run, and a second runner for the same run
is refused by the executor's run lock.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kubeline.history import db as h
from kubeline.server.registry import PublishedRecord

_SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # the executor's run-name alphabet


@dataclass(frozen=True)
class StartedRun:
    """What a submission returns: the history's run id and the executor's run name."""

    id: str
    workflow: str
    experiment: str


class RunStarter:
    """Records runs of published pipelines; ``launch`` gets each job file to run.

    Connections are per thread (SQLite objects must not be shared across threads doing
    transactions), so one starter serves the event loop, the scheduler and the API.
    """

    def __init__(self, state_dir: Path, workspace_root: Path,
                 launch: Callable[[str], None] | None = None) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.workspace_root = Path(workspace_root).resolve()
        self.launch = launch or self._spawn
        self._local = threading.local()
        self._prepared: dict[str, tuple[Any, str]] = {}

    def _spawn(self, run_id: str) -> None:
        """The Python API's launch: a detached runner now, which answers for the run from
        here on (the submitting script may exit before the runner adopts the run)."""
        pid = spawn_runner(self.state_dir, run_id, self.workspace_root)
        history, _ = self._dbs()
        history.set_run_status(run_id, h.RUNNING, "", only_if_not_terminal=True,
                               runner_pid=pid)

    def _dbs(self) -> tuple[h.History, Any]:
        from kubeline.local.state import StateStore

        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.history = h.History(self.state_dir)
            local.state = StateStore(self.state_dir)
            local.pid = os.getpid()
        return local.history, local.state

    def start(self, record: PublishedRecord, experiment: str, arguments: Mapping[str, str],
              *, started_by: str, properties: Mapping[str, Any] | None = None,
              tags: Mapping[str, str] | None = None) -> StartedRun:
        """Record one run of ``record`` and launch its runner; returns once it is recorded."""
        from kubeline.history.manifest import PipelineSpecInfo, effective_parameters, new_run
        from kubeline.local.executor import _canonical

        history, state = self._dbs()
        docs = record.docs
        prepared = self._prepared.get(record.id)
        if prepared is None:  # records are immutable: read the manifest once
            prepared = self._prepared[record.id] = (PipelineSpecInfo.from_docs(docs),
                                                    _canonical(docs))
        spec, manifest = prepared
        run_id = str(uuid.uuid4())
        params = {k: str(v) for k, v in arguments.items()}
        created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        base = spec.base_name.rstrip("-")
        while True:
            workflow = f"{base}-{''.join(secrets.choice(_SUFFIX_CHARS) for _ in range(5))}"
            try:
                state.create_run(workflow, run_id, manifest, params, created)
                break
            except sqlite3.IntegrityError:
                continue
        effective = effective_parameters(docs, params)
        history.create_run(new_run(
            spec, run_id=run_id, workflow=workflow, experiment=experiment,
            started_by=started_by, parameters=effective, tags=dict(tags or {}),
            git=record.source.get("git"),
            properties={
                **dict(properties or {}),
                "published_pipeline_id": record.id,
                "published_pipeline": record.name,
                "published_version": record.version,
                "pipeline_id": record.pipeline_id,
                "continue_on_step_failure": record.continue_on_step_failure,
                "regenerate_outputs": False,
            },
            workspace=self.workspace_root, state_dir=self.state_dir,
            runner_pid=os.getpid(),  # this process answers for the run until a runner adopts it
        ))
        self.launch(run_id)
        return StartedRun(id=run_id, workflow=workflow, experiment=experiment)


def runner_command(state_dir: Path, run_id: str) -> list[str]:
    return [sys.executable, "-m", "kubeline.server.runner", str(state_dir), run_id]


def spawn_runner(state_dir: Path, run_id: str, cwd: Path) -> int:
    """Start a detached runner for one run (the Python API's path; the server queues);
    returns its pid."""
    log = Path(state_dir) / "serve" / "logs" / f"{run_id}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(runner_command(state_dir, run_id), stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True, close_fds=True, cwd=cwd)
    return process.pid


def waiting_runs(state_dir: Path) -> list[str]:
    """Runs recorded here that no runner adopted (a server stopped with runs queued):
    Running, their recorded runner gone, and no node in the executor's state yet."""
    from kubeline.history.liveness import process_alive
    from kubeline.local.state import StateStore

    with h.History(Path(state_dir)) as db:
        candidates = [r for r in db.list_runs() if r.status == h.RUNNING
                      and "published_pipeline_id" in r.properties
                      and not process_alive(r.runner_pid)]
    if not candidates:
        return []
    state = StateStore(Path(state_dir))
    try:
        waiting = [r for r in candidates if not state.load_nodes(r.workflow)]
    finally:
        state.close()
    return [r.id for r in sorted(waiting, key=lambda r: r.created_at)]
