"""The run history: runs, their steps and status transitions, whichever backend ran them.

It belongs to no backend: the local executor (local/recorder.py), the server's queue of
published runs (server/runs.py) and a cluster backend watching a Workflow all write through
the interface below, and the user API (PipelineRun, StepRun, Experiment), the CLI
(``kubeline runs``, ``explain-reuse``) and the web page read through it. The file is
``<state dir>/history.db`` (db.py; docs/decisions/0007-run-history.md has its format and
0032-run-history-package.md this interface).

Starting a run's record (once, before its first step starts)::

    spec = PipelineSpecInfo.from_docs(docs)            # the compiled manifest
    params = effective_parameters(docs, overrides)     # what the run uses
    record = new_run(spec, run_id=..., workflow=..., experiment=..., started_by=...,
                     parameters=params, tags=..., git=..., properties=...,
                     workspace=..., state_dir=..., runner_pid=os.getpid())
    History(state_dir).create_run(record)              # Running; its steps NotStarted

The run id is the workflow's uid (the shim's KUBELINE_RUN_ID); ``runner_pid`` is the
process that answers for the run (a runner, a watcher): readers fail a Running run whose
runner is gone (``process_alive``), so a backend that hands a run over sets the new pid
with ``set_run_status(..., runner_pid=...)``.

While it runs, per step (idempotent, so a reconnecting watcher may repeat them)::

    db.add_step(run_id, step_id, name)                 # a step the manifest did not list
    db.step_running(run_id, step_id, attempts, log_dir)
    db.step_finished(run_id, step_id, {
        "status": FINISHED | FAILED, "attempts": ..., "exit_code": ..., "message": ...,
        "log_dir": ..., **log_fields(log_dir, failed),
        **result_fields(read_record(store, result_key(run_id, step_id))),
    })

The shim's result record (key, reused-from, metrics, tags, outputs, timings) is the same on
every backend; ``merge_metrics`` folds each record's ``parent_metrics`` into the run's.

Ending it: ``db.set_run_metrics(run_id, metrics)`` then ``db.set_run_status(run_id,
FINISHED | FAILED | CANCELED, message)`` (every transition is kept with its time).

Reading: ``History.resolve / get_run / list_runs / steps / experiments`` give RunRecord and
StepRecord; ``read_log`` a step's log file; failures.py the text of a failed run.
"""

from __future__ import annotations

from kubeline.history.db import (
    CANCELED,
    FAILED,
    FINISHED,
    HISTORY_FILE,
    NOT_STARTED,
    RUNNING,
    TERMINAL,
    History,
    NewRun,
    RunNotInHistory,
    RunRecord,
    StepRecord,
    read_log,
    utc_now,
)
from kubeline.history.liveness import process_alive
from kubeline.history.manifest import (
    INTERNAL_PREFIX,
    PipelineSpecInfo,
    RunInfo,
    effective_parameters,
    new_run,
)
from kubeline.history.results import (
    log_fields,
    merge_metrics,
    read_record,
    result_fields,
    result_key,
)

__all__ = [
    "CANCELED", "FAILED", "FINISHED", "HISTORY_FILE", "INTERNAL_PREFIX", "NOT_STARTED",
    "RUNNING", "TERMINAL", "History", "NewRun", "PipelineSpecInfo", "RunInfo",
    "RunNotInHistory", "RunRecord", "StepRecord", "effective_parameters", "log_fields",
    "merge_metrics", "new_run", "process_alive", "read_log", "read_record", "result_fields",
    "result_key", "utc_now",
]
