"""``python -m kubeline.server.runner JOB``: drive one recorded run to its end.

The run already exists in ``runs.db`` and the history (kubeline.server.runs); the
executor's resume path adopts it, and the history recorder takes it over (its runner pid
becomes this process). The job file is removed once the run is adopted, so a restarted
server does not start it again.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

from kubeline.exceptions import KubelineError


def main(argv: list[str]) -> int:
    job_file = Path(argv[0])
    job = json.loads(job_file.read_text(encoding="utf-8"))
    state_dir = Path(job["state_dir"])
    from kubeline.local import history as h
    from kubeline.local.executor import manifest_mod_docs
    from kubeline.local.progress import PlainReporter
    from kubeline.local.recorder import RunInfo, run_with_history
    from kubeline.local.state import RunLocked, StateStore

    state = StateStore(state_dir)
    try:
        row = state.load_run(job["workflow"])
    finally:
        state.close()
    docs = manifest_mod_docs(row["manifest"])

    def adopted(run_id: str, _workflow: str) -> None:
        with h.History(state_dir) as db:  # the resume path leaves "resumed": not true here
            db.set_run_status(run_id, h.RUNNING, "", runner_pid=os.getpid())
        with contextlib.suppress(FileNotFoundError):
            job_file.unlink()

    try:
        summary, _ = run_with_history(
            docs, parameters=row["parameters"], state_dir=state_dir,
            info=RunInfo(**job["info"]), resume=job["workflow"],
            reporter=PlainReporter(sys.stdout), on_started=adopted)
    except RunLocked:
        print(f"run {job['workflow']} is already driven by another runner", flush=True)
        return 0
    except KubelineError as exc:
        print(f"kubeline: error: {exc}", flush=True)
        with h.History(state_dir) as db, contextlib.suppress(h.RunNotInHistory):
            db.set_run_status(job["run_id"], h.FAILED, str(exc), only_if_not_terminal=True)
        with contextlib.suppress(FileNotFoundError):
            job_file.unlink()
        return 2
    print(f"run {summary.id}: {summary.phase}", flush=True)
    return 0 if summary.phase == "Succeeded" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
