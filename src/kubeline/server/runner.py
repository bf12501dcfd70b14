"""``python -m kubeline.server.runner STATE_DIR RUN_ID``: drive one recorded run to its end.

The run already exists in ``runs.db`` and the history (kubeline.server.runs), which hold
everything needed to run it; the executor's resume path adopts it, and the history
recorder takes it over (its runner pid becomes this process, so a restarted server sees it
is no longer waiting).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from kubeline.exceptions import KubelineError


def main(argv: list[str]) -> int:
    state_dir, run_id = Path(argv[0]), argv[1]
    from kubeline.history import db as h
    from kubeline.history.manifest import RunInfo
    from kubeline.local.executor import manifest_mod_docs
    from kubeline.local.progress import PlainReporter
    from kubeline.local.recorder import run_with_history
    from kubeline.local.state import RunLocked, StateStore

    with h.History(state_dir) as db:
        record = db.get_run(run_id)
    state = StateStore(state_dir)
    try:
        row = state.load_run(record.workflow)
    finally:
        state.close()
    docs = manifest_mod_docs(row["manifest"])
    info = RunInfo(started_by=record.started_by, experiment=record.experiment,
                   tags=dict(record.tags), git=record.git, properties={},
                   regenerate_outputs=False,
                   workspace=str(record.properties.get("workspace") or Path.cwd()))

    def adopted(adopted_id: str, _workflow: str) -> None:
        with h.History(state_dir) as db:  # the resume path leaves "resumed": not true here
            db.set_run_status(adopted_id, h.RUNNING, "", runner_pid=os.getpid())

    from kubeline.local.procs import stop_on_sigterm

    stop_on_sigterm()  # PipelineRun.cancel() sends SIGTERM: the steps are killed, not orphaned
    try:
        summary, _ = run_with_history(
            docs, parameters=row["parameters"], state_dir=state_dir, info=info,
            resume=record.workflow, reporter=PlainReporter(sys.stdout), on_started=adopted)
    except KeyboardInterrupt:
        print("kubeline: run canceled", flush=True)
        return 130
    except RunLocked:
        print(f"run {record.workflow} is already driven by another runner", flush=True)
        return 0
    except KubelineError as exc:
        print(f"kubeline: error: {exc}", flush=True)
        with h.History(state_dir) as db, contextlib.suppress(h.RunNotInHistory):
            db.set_run_status(run_id, h.FAILED, str(exc), only_if_not_terminal=True)
        return 2
    print(f"run {summary.id}: {summary.phase}", flush=True)
    return 0 if summary.phase == "Succeeded" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
