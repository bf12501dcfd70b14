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

import json
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

from kubeline.local import history as h
from kubeline.server.registry import PublishedRecord

JOBS_DIR = "serve/jobs"
_SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # the executor's run-name alphabet


def jobs_dir(state_dir: Path) -> Path:
    return Path(state_dir) / JOBS_DIR


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
                 launch: Callable[[Path], None] | None = None) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.workspace_root = Path(workspace_root).resolve()
        self.launch = launch or spawn_runner
        self._local = threading.local()
        jobs_dir(self.state_dir).mkdir(parents=True, exist_ok=True)

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
        from kubeline.local.executor import _canonical
        from kubeline.local.recorder import INTERNAL_PREFIX, PipelineSpecInfo, effective_parameters

        history, state = self._dbs()
        docs = record.docs
        spec = PipelineSpecInfo.from_docs(docs)
        run_id = str(uuid.uuid4())
        params = {k: str(v) for k, v in arguments.items()}
        created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        manifest = _canonical(docs)
        base = spec.base_name.rstrip("-")
        while True:
            workflow = f"{base}-{''.join(secrets.choice(_SUFFIX_CHARS) for _ in range(5))}"
            try:
                state.create_run(workflow, run_id, manifest, params, created)
                break
            except sqlite3.IntegrityError:
                continue
        effective = effective_parameters(docs, params)
        history.create_run(h.NewRun(
            id=run_id, experiment=experiment, pipeline=spec.name, workflow=workflow,
            started_by=started_by,
            parameters={k: v for k, v in effective.items() if not k.startswith(INTERNAL_PREFIX)},
            tags=dict(tags or {}), snapshots=spec.snapshots,
            git=record.source.get("git"),
            properties={
                **dict(properties or {}),
                "published_pipeline_id": record.id,
                "published_pipeline": record.name,
                "published_version": record.version,
                "pipeline_id": record.pipeline_id,
                "continue_on_step_failure": record.continue_on_step_failure,
                "regenerate_outputs": False,
                "default_datastore": spec.default_datastore,
                "datastores": spec.datastores,
                "workspace": str(self.workspace_root),
                "state_dir": str(self.state_dir),
            },
            steps=spec.steps,
            runner_pid=os.getpid(),  # this process answers for the run until a runner adopts it
        ))
        job = {
            "workflow": workflow, "run_id": run_id, "state_dir": str(self.state_dir),
            "info": {"started_by": started_by, "experiment": experiment,
                     "tags": dict(tags or {}), "git": record.source.get("git"),
                     "properties": {}, "regenerate_outputs": False,
                     "workspace": str(self.workspace_root)},
        }
        path = jobs_dir(self.state_dir) / f"{workflow}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(job), encoding="utf-8")
        os.replace(tmp, path)
        self.launch(path)
        return StartedRun(id=run_id, workflow=workflow, experiment=experiment)


def runner_command(job_file: Path) -> list[str]:
    return [sys.executable, "-m", "kubeline.server.runner", str(job_file)]


def spawn_runner(job_file: Path) -> None:
    """Start a detached runner for one job (the Python API's path; the server queues)."""
    state_dir = job_file.parent.parent.parent
    log = state_dir / "serve" / "logs" / f"{job_file.stem}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        subprocess.Popen(runner_command(job_file), stdin=subprocess.DEVNULL, stdout=out,
                         stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
                         cwd=json.loads(job_file.read_text(encoding="utf-8"))["info"]
                         ["workspace"])
