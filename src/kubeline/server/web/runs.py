"""Runs and steps as the page shows them: the history's records plus durations and edges."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from kubeline.history.db import History, RunRecord, StepRecord
from kubeline.server.web.graph import PairsCache, edges


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def duration(started: str | None, finished: str | None, now: datetime | None = None
             ) -> float | None:
    """Seconds from start to finish, or to ``now`` while it goes on; None before it starts."""
    start = _time(started)
    if start is None:
        return None
    end = _time(finished) or now or datetime.now(timezone.utc)
    return round(max(0.0, (end - start).total_seconds()), 3)


def run_summary(run: RunRecord) -> dict[str, Any]:
    """One row of the runs table."""
    return {
        "id": run.id, "experiment": run.experiment, "pipeline": run.pipeline,
        "status": run.status, "message": run.message, "started_by": run.started_by,
        "parameters": run.parameters, "tags": run.tags, "created_at": run.created_at,
        "started_at": run.started_at, "finished_at": run.finished_at,
        "duration": duration(run.started_at, run.finished_at),
        "terminal": run.terminal,
    }


def step_json(step: StepRecord) -> dict[str, Any]:
    """A step for the graph and the step panel (log file paths stay on the server)."""
    return {
        "id": step.step_id, "name": step.name, "status": step.status,
        "attempts": step.attempts, "exit_code": step.exit_code, "message": step.message,
        "key": step.key, "reused": step.reused,
        "reused_from": (None if not step.reused_from_run else
                        {"run_id": step.reused_from_run, "step_id": step.reused_from_step}),
        "metrics": step.metrics, "tags": step.tags, "timings": step.timings,
        "outputs": {name: {k: out.get(k) for k in ("datastore", "kind", "size", "files",
                                                   "run_id", "step_id")}
                    for name, out in sorted(step.outputs.items())},
        "started_at": step.started_at, "finished_at": step.finished_at,
        "duration": duration(step.started_at, step.finished_at),
        "stderr_tail": step.stderr_tail,
    }


def list_runs(db: History, experiment: str | None, limit: int) -> dict[str, Any]:
    """Experiments and the newest runs (of one experiment when given)."""
    runs = db.list_runs(experiment or None, limit)
    return {"experiments": db.experiments(), "runs": [run_summary(r) for r in runs]}


def run_detail(db: History, pairs: PairsCache, ref: str) -> dict[str, Any]:
    """A run with its steps, the edges between them and its status events."""
    run = db.get_run(ref)
    steps = db.steps(run.id)
    ids = [s.step_id for s in steps]
    dag = pairs.get(run.workflow)
    return {
        **run_summary(run),
        "workflow": run.workflow, "metrics": run.metrics, "events": run.events,
        "git": run.git,
        "steps": [step_json(s) for s in steps],
        "edges": [list(e) for e in edges(None, ids, dag or frozenset())],
        "can_rerun": dag is not None,
    }
