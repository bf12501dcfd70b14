"""A second backend records a run only through kubeline.history's interface (no local
executor): PipelineRun, StepRun and ``kubeline runs`` read it like a local run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import kubeline.history as history
from kubeline import Experiment, PipelineRun
from kubeline.compiler.api import compile_file
from kubeline.runtime.datastores import Datastores
from tests.pipelines import kubeline, workspace

PIPELINE = """
from kubeline import Pipeline, PipelineData, PythonScriptStep, Workspace

ws = Workspace.from_config()
features = PipelineData("features")
prep = PythonScriptStep("step.py", name="prep", arguments=["--out", features],
                        outputs=[features], source_directory="scripts")
train = PythonScriptStep("step.py", name="train", arguments=["--in", features],
                         inputs=[features], source_directory="scripts")
pipeline = Pipeline(ws, steps=[prep, train])
"""


def _record_run(root: Path, runner_pid: int, finish: bool, backend: str = "cluster") -> str:
    """What a cluster watcher does for one run: start its record, then per step a result
    record in the default datastore and the step's end, then the run's end."""
    (root / "pipeline.py").write_text(PIPELINE, encoding="utf-8")
    docs = compile_file(root / "pipeline.py")
    spec = history.PipelineSpecInfo.from_docs(docs)
    assert [name for _, name in spec.steps] == ["prep", "train"]
    run_id = str(uuid.uuid4())
    state_dir = root / ".kubeline"
    store = Datastores(spec.datastores, spec.default_datastore, root).default
    (prep_id, _), (train_id, _) = spec.steps
    results = {
        prep_id: {"key": "k-prep", "status": "computed", "metrics": {"rows": 10},
                  "outputs": {"features": {"datastore": spec.default_datastore,
                                           "path": f"kubeline/runs/{run_id}/features"}},
                  "tags": {"stage": "prep"}, "timings": {"script": 1.5},
                  "parent_metrics": {"loss": 0.5}},
        train_id: {"key": "k-train", "status": "reused", "metrics": {},
                   "reused_from": {"run_id": "earlier-run", "step_id": train_id},
                   "parent_metrics": {"loss": 0.25}},
    }
    logs = root / "pod-logs"
    logs.mkdir()
    (logs / "main.stdout").write_text("prep says hello\n", encoding="utf-8")
    with history.History(state_dir) as db:
        db.create_run(history.new_run(
            spec, run_id=run_id, workflow="pipeline-x7k2q", experiment="on-cluster",
            started_by="watcher", parameters=history.effective_parameters(docs, {}), tags={},
            git=None, properties={"backend": backend}, workspace=root,
            state_dir=state_dir, runner_pid=runner_pid))
        run_metrics: dict[str, object] = {}
        for step_id, result in results.items():
            store.put_bytes(history.result_key(run_id, step_id), json.dumps(result).encode())
            db.step_running(run_id, step_id, 1, str(logs))
            recorded = history.read_record(store, history.result_key(run_id, step_id))
            assert recorded is not None
            db.step_finished(run_id, step_id, {
                "status": history.FINISHED, "attempts": 1, "exit_code": 0, "log_dir": str(logs),
                **history.log_fields(str(logs), failed=False),
                **history.result_fields(recorded)})
            history.merge_metrics(run_metrics, recorded.get("parent_metrics") or {})
        if finish:
            db.set_run_metrics(run_id, run_metrics)
            db.set_run_status(run_id, history.FINISHED, "")
    return run_id


def test_the_user_api_reads_a_run_recorded_through_the_interface(tmp_path: Path) -> None:
    ws = workspace(tmp_path / "ws")
    run_id = _record_run(ws.root, os.getpid(), finish=True)
    run = PipelineRun(Experiment(ws, "on-cluster"), run_id)
    assert run.get_status() == "Finished"
    assert run.get_metrics() == {"loss": [0.5, 0.25]}
    prep, train = run.get_steps()
    assert (prep.name, prep.reused, prep.get_metrics(), prep.get_tags()) == (
        "prep", False, {"rows": 10}, {"stage": "prep"})
    assert list(prep.get_outputs()) == ["features"]
    assert prep.get_stdout_log() == "prep says hello\n"
    assert (train.name, train.reused, train.reused_from) == ("train", True, "earlier-run")
    details = run.get_details()
    assert details["properties"]["backend"] == "cluster"
    assert details["properties"]["workspace"] == str(ws.root)
    assert [e["status"] for e in details["statusHistory"]] == [
        "NotStarted", "Running", "Finished"]


def test_the_cli_lists_and_shows_it(tmp_path: Path) -> None:
    ws = workspace(tmp_path / "ws")
    run_id = _record_run(ws.root, os.getpid(), finish=True)
    listed = json.loads(kubeline("runs", "list", "--json", cwd=ws.root).stdout)
    assert [(r["id"], r["experiment"], r["status"]) for r in listed] == [
        (run_id, "on-cluster", "Finished")]
    shown = json.loads(kubeline("runs", "show", "pipeline-x7k2q", "--json", cwd=ws.root).stdout)
    steps = {s["name"]: s for s in shown["steps"]}
    assert steps["train"]["reused_from"]["run_id"] == "earlier-run"
    assert steps["prep"]["outputs"]["features"]["path"].endswith("/features")


def test_a_run_whose_recorder_is_gone_reads_as_failed(tmp_path: Path) -> None:
    """For a backend whose recorder is the run (a cluster run's follower is restarted
    instead: tests/cluster/test_submit_on_box.py)."""
    ws = workspace(tmp_path / "ws")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    run_id = _record_run(ws.root, gone.pid, finish=False, backend="batch-runner")
    assert not history.process_alive(gone.pid)
    run = PipelineRun(Experiment(ws, "on-cluster"), run_id)
    assert run.get_status() == "Failed"
    assert "the runner stopped before the run finished" in run.get_details()["error"]["message"]
