"""Two runs of one pipeline at once both finish with a consistent history; a killed runner
leaves a resumable run (cancel() is tested in test_cancel.py, in every start mode)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from kubeline import Experiment
from tests.e2e.conftest import kubeline, load_pipeline, words_workspace


def test_two_concurrent_runs(tmp_path: Path, in_folder: Any) -> None:
    folder = words_workspace(tmp_path / "ws")
    in_folder(folder)
    ns = load_pipeline(folder)
    exp = Experiment(ns["ws"], "words")
    first = exp.submit(ns["pipeline"], pipeline_parameters={"sleep": 1})
    second = exp.submit(ns["pipeline"], pipeline_parameters={"sleep": 1})
    assert first.id != second.id
    assert first.wait_for_completion(show_output=False) == "Finished"
    assert second.wait_for_completion(show_output=False) == "Finished"
    for run in (first, second):
        details = run.get_details()
        assert [e["status"] for e in details["statusHistory"]] == ["NotStarted", "Running",
                                                                  "Finished"]
        assert [(s["name"], s["status"], s["exit_code"]) for s in details["steps"]] == [
            ("count", "Finished", 0), ("top", "Finished", 0)]
        times = [e["at"] for e in details["statusHistory"]]
        assert times == sorted(times)
    # same inputs, same key: both runs point at one committed output
    outs = [r.find_step_run("top")[0].get_output_data("report").path_on_datastore
            for r in (first, second)]
    assert outs[0] == outs[1]
    db = sqlite3.connect(folder / ".kubeline" / "history.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT COUNT(*) FROM runs").fetchone() == (2,)
    assert db.execute("SELECT COUNT(*) FROM steps").fetchone() == (4,)
    listed = kubeline("runs", "list", "--experiment", "words", cwd=folder).stdout
    assert first.id in listed and second.id in listed


def test_killed_runner_leaves_a_resumable_run(tmp_path: Path, in_folder: Any) -> None:
    folder = words_workspace(tmp_path / "ws")
    in_folder(folder)
    ns = load_pipeline(folder)
    run = Experiment(ns["ws"], "words").submit(ns["pipeline"], pipeline_parameters={"sleep": 2})
    (count,) = run.find_step_run("count")
    deadline = time.monotonic() + 120
    while count.get_status() != "Running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run._process is not None
    run._process.kill()  # SIGKILL: no cleanup in the runner
    run._process.wait()
    assert run.get_status() == "Failed"
    assert f"kubeline runs resume {run.id}" in run.get_details()["error"]["message"]
    done = kubeline("runs", "resume", run.id, cwd=folder)
    assert "phase:   Succeeded" in done.stdout
    assert run.get_status() == "Finished"
    assert [e["status"] for e in run.get_details()["statusHistory"]] == [
        "NotStarted", "Running", "Failed", "Running", "Finished"]
    (count,) = run.find_step_run("count")
    assert (count.get_status(), count.attempts) == ("Finished", 2)
    assert run.find_step_run("top")[0].get_metrics() == {"top_count": 3}
