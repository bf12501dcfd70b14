"""The run history database: transitions, lookups, and several processes writing at once."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from kubeline.exceptions import KubelineError
from kubeline.history import db as h

STEPS = [("prep", "prep.py"), ("train", "train.py")]


def _new(run_id: str, workflow: str = "", experiment: str = "exp") -> h.NewRun:
    return h.NewRun(id=run_id, experiment=experiment, pipeline="pipe",
                    workflow=workflow or f"wf-{run_id}", started_by="test",
                    parameters={"p": "1"}, tags={"t": "x"}, snapshots={"prep": "a" * 64},
                    git={"commit": "c" * 40, "branch": "main", "dirty": False},
                    properties={"default_datastore": "local"}, steps=STEPS, runner_pid=None)


def test_run_lifecycle(tmp_path: Path) -> None:
    with h.History(tmp_path) as db:
        db.create_run(_new("r1"))
        run = db.get_run("r1")
        assert (run.status, run.experiment, run.parameters, run.git["branch"]) == (  # type: ignore[index]
            "Running", "exp", {"p": "1"}, "main")
        assert [s.status for s in db.steps("r1")] == ["NotStarted", "NotStarted"]
        db.step_running("r1", "prep", 1, "/logs/prep")
        db.step_finished("r1", "prep", {"status": "Finished", "exit_code": 0, "attempts": 1,
                                        "outputs": {"o": {"location": "x"}},
                                        "metrics": {"m": 1}, "reused": False})
        db.set_run_status("r1", "Failed", "train failed")
        assert db.set_run_status("r1", "Canceled", only_if_not_terminal=True) is False
        run = db.get_run("wf-r1")  # by workflow name
        assert run.status == "Failed" and run.finished_at is not None
        assert [e["status"] for e in run.events] == ["NotStarted", "Running", "Failed"]
        prep, train = db.steps("r1")
        assert (prep.status, prep.exit_code, prep.metrics, prep.outputs["o"]) == (
            "Finished", 0, {"m": 1}, {"location": "x"})
        assert prep.started_at is not None and prep.finished_at is not None
        assert train.status == "NotStarted"
        with pytest.raises(ValueError, match="unknown step fields"):
            db.step_finished("r1", "prep", {"bogus": 1})


def test_cancel_marks_unfinished_steps(tmp_path: Path) -> None:
    with h.History(tmp_path) as db:
        db.create_run(_new("r2"))
        db.step_finished("r2", "prep", {"status": "Finished"})
        db.step_running("r2", "train", 1, "")
        db.set_run_status("r2", "Canceled", "by user")
        assert [s.status for s in db.steps("r2")] == ["Finished", "Canceled"]


def test_lookup_errors_and_prefixes(tmp_path: Path) -> None:
    with h.History(tmp_path) as db:
        db.create_run(_new("3f2a9c11-aaaa"))
        db.create_run(_new("3f2a9c22-bbbb", experiment="other"))
        assert db.resolve("3f2a9c11") == "3f2a9c11-aaaa"
        with pytest.raises(h.RunNotInHistory, match="'3f2a9c' matches several runs"):
            db.resolve("3f2a9c")  # ambiguous
        with pytest.raises(h.RunNotInHistory, match="kubeline runs list"):
            db.get_run("nope")
        assert [r.id for r in db.list_runs("other")] == ["3f2a9c22-bbbb"]
        assert db.experiments() == ["exp", "other"]


def _writer(state_dir: str, prefix: str, runs: int) -> None:
    with h.History(Path(state_dir)) as db:
        for i in range(runs):
            run_id = f"{prefix}-{i}"
            db.create_run(_new(run_id))
            for step, _ in STEPS:
                db.step_running(run_id, step, 1, "")
                db.step_finished(run_id, step, {"status": "Finished", "exit_code": 0,
                                                "metrics": {"i": i}})
            db.set_run_status(run_id, "Finished")


def test_processes_writing_at_once(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(str(tmp_path), f"w{n}", 40)) for n in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    raw = sqlite3.connect(tmp_path / h.HISTORY_FILE)
    assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with h.History(tmp_path) as db:
        runs = db.list_runs()
        assert len(runs) == 160
        assert {r.status for r in runs} == {"Finished"}
        for run in runs[:10]:
            assert [s.status for s in db.steps(run.id)] == ["Finished", "Finished"]
            assert [e["status"] for e in db.get_run(run.id).events] == [
                "NotStarted", "Running", "Finished"]


def test_unreadable_history_is_one_line(tmp_path: Path) -> None:
    (tmp_path / h.HISTORY_FILE).write_bytes(b"this is not a database" * 100)
    with pytest.raises(KubelineError, match="cannot be opened"):
        h.History(tmp_path)


def test_run_id_prefixes(tmp_path: Path) -> None:
    from kubeline.history.db import History, NewRun, RunNotInHistory

    with History(tmp_path) as db:
        for run_id in ("abcdef111111", "abcdef222222"):
            db.create_run(NewRun(id=run_id, workflow=f"wf-{run_id}", experiment="e",
                                 pipeline="p", parameters={}, tags={}, started_by="test",
                                 snapshots={}, git=None, properties={}, steps=[]))
        assert db.resolve("abcdef1") == "abcdef111111"
        with pytest.raises(RunNotInHistory, match="matches several runs"):
            db.resolve("abcdef")
        with pytest.raises(RunNotInHistory, match="too short"):
            db.resolve("abc")
        with pytest.raises(RunNotInHistory, match="is not in the history"):
            db.resolve("zzzzzzzz")


def test_logs_are_found_where_the_state_folder_is_now(tmp_path: Path) -> None:
    """A history written in one place (a pod's volume, a workspace before it was moved) and
    read in another finds the logs kept inside its state folder; logs elsewhere keep their
    absolute path."""
    import shutil

    written = tmp_path / "pod" / ".kubeline"
    logs = written / "cluster-logs" / "r1" / "prep"
    logs.mkdir(parents=True)
    (logs / "main.stdout").write_text("hello\n")
    with h.History(written) as db:
        db.create_run(_new("r1"))
        db.step_running("r1", "prep", 1, str(logs))
        db.step_finished("r1", "prep", {"status": "Finished",
                                        "stdout_location": str(logs / "main.stdout"),
                                        "stderr_location": "/elsewhere/main.stderr"})
    moved = tmp_path / "laptop" / ".kubeline"
    shutil.copytree(written, moved)
    shutil.rmtree(written)
    with h.History(moved) as db:
        prep = db.steps("r1")[0]
    assert prep.log_dir == str(moved / "cluster-logs" / "r1" / "prep")
    assert h.read_log(prep.stdout_location) == "hello\n"
    assert prep.stderr_location == "/elsewhere/main.stderr"
