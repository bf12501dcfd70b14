"""A failing step: its exit code and the tail of its stderr reach the user, as one
StepRunError from wait_for_completion and in ``kubeline run``'s output."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest

from kubeline import Experiment, StepRunError
from tests.e2e.conftest import kubeline, load_pipeline, runs_json, show_json, words_workspace

BOOM = "boom: the input is not what count.py expected (fail=3)"


def test_wait_for_completion_shows_and_raises(tmp_path: Path, in_folder: Any) -> None:
    folder = words_workspace(tmp_path / "ws")
    in_folder(folder)
    ns = load_pipeline(folder)
    run = Experiment(ns["ws"], "words").submit(ns["pipeline"], pipeline_parameters={"fail": 3})
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), pytest.raises(StepRunError) as raised:
        run.wait_for_completion(show_output=True)
    text = shown.getvalue()
    assert "StepRun( count ) Status: Failed (exit code 3)" in text
    assert BOOM in text.split("--- stderr of count (last lines) ---", 1)[1]
    assert "PipelineRun Status: Failed" in text
    message = str(raised.value)
    assert "\n" not in message
    assert f"step 'count' failed with exit code 3: {BOOM}" in message
    assert f"kubeline runs logs {run.id} count" in message
    assert run.get_status() == "Failed"
    (count,) = run.find_step_run("count")
    assert (count.get_status(), count.exit_code, count.attempts) == ("Failed", 3, 1)
    assert BOOM in count.get_stderr_log()
    # the step after it never started; the status is not Failed
    assert [s.name for s in run.get_steps()] == ["count"]
    # raise_on_error=False returns the status instead
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    assert "error" in run.get_details()


def test_kubeline_run_shows_exit_code_and_stderr(tmp_path: Path) -> None:
    folder = words_workspace(tmp_path / "ws")
    (folder / "pipeline.py").write_text(
        (folder / "pipeline.py").read_text().split('if __name__ == "__main__":')[0])
    done = kubeline("run", "pipeline.py", "-p", "fail=3", cwd=folder, check=False)
    assert done.returncode == 1
    assert "phase:   Failed" in done.stdout
    assert "StepRun( count ) Status: Failed (exit code 3)" in done.stderr
    assert BOOM in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("kubeline: error: pipeline run ")
    assert f"step 'count' failed with exit code 3: {BOOM}" in last
    assert "Traceback" not in done.stderr
    (run,) = runs_json(folder)
    assert run["status"] == "Failed"
    steps = {s["name"]: s for s in show_json(run["id"], folder)["steps"]}
    assert (steps["count"]["status"], steps["count"]["exit_code"]) == ("Failed", 3)
    assert steps["top"]["status"] == "NotStarted"
    logs = kubeline("runs", "logs", run["id"], "count", cwd=folder).stdout
    assert "counting words" in logs and BOOM in logs


def test_main_block_failure_under_kubeline_run(tmp_path: Path) -> None:
    """The file's own wait_for_completion raises StepRunError: exit 1, one line, no traceback."""
    folder = words_workspace(tmp_path / "ws")
    done = kubeline("run", "pipeline.py", "-p", "fail=4", cwd=folder, check=False)
    assert done.returncode == 1
    assert "StepRun( count ) Status: Failed (exit code 4)" in done.stdout  # the file's output
    assert "Traceback" not in done.stderr
    assert "step 'count' failed with exit code 4" in done.stderr.strip().splitlines()[-1]


BRANCHES = '''
from kubeline import Pipeline, PipelineData, PythonScriptStep, Workspace

ws = Workspace.from_config()
store = ws.get_default_datastore()
slow_out = PipelineData("slow_out", datastore=store)
bad = PythonScriptStep(name="bad", script_name="bad.py", source_directory="steps")
slow = PythonScriptStep(name="slow", script_name="slow.py", source_directory="steps",
                        arguments=["--out", slow_out], outputs=[slow_out])
after = PythonScriptStep(name="after", script_name="after.py", source_directory="steps",
                         arguments=["--inp", slow_out], inputs=[slow_out])
pipeline = Pipeline(workspace=ws, steps=[bad, after])
'''


@pytest.mark.parametrize(("cont", "after_status"), [(False, "NotStarted"), (True, "Finished")])
def test_continue_on_step_failure(tmp_path: Path, in_folder: Any, cont: bool,
                                  after_status: str) -> None:
    folder = tmp_path / "ws"
    (folder / "steps").mkdir(parents=True)
    (folder / "kubeline.yaml").write_text("name: branches\n")
    (folder / "pipeline.py").write_text(BRANCHES)
    (folder / "steps" / "bad.py").write_text("import sys\nsys.exit('bad input')\n")
    (folder / "steps" / "slow.py").write_text(
        "import argparse, os, time\np = argparse.ArgumentParser()\np.add_argument('--out')\n"
        "a = p.parse_args()\ntime.sleep(1.5)\nos.makedirs(a.out, exist_ok=True)\n")
    (folder / "steps" / "after.py").write_text("print('after ran')\n")
    in_folder(folder)
    ns = load_pipeline(folder)
    run = Experiment(ns["ws"], "branches").submit(ns["pipeline"],
                                                   continue_on_step_failure=cont)
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    status = {s["name"]: s["status"] for s in run.get_details()["steps"]}
    assert status == {"bad": "Failed", "slow": "Finished", "after": after_status}
    (bad,) = run.find_step_run("bad")
    assert bad.exit_code == 1 and "bad input" in bad.get_stderr_log()
