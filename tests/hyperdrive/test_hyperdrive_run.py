"""A HyperDriveConfig submitted on its own (AML's HyperDriveRun) and max_duration_minutes, run
end to end on the local executor: real trial processes, real timing of the deadline."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from kubeline.azureml.core import Experiment, ScriptRunConfig, Workspace
from kubeline.azureml.train.hyperdrive import (
    BanditPolicy,
    GridParameterSampling,
    HyperDriveConfig,
    HyperDriveRun,
    PrimaryMetricGoal,
    choice,
)
from kubeline.exceptions import KubelineError

SWEEP = '''
"""Log a curve of 'acc' ('a' < 'b' < 'c'), keep a model, optionally sleep after logging."""
import argparse, os, time
from kubeline.azureml.core import Run
p = argparse.ArgumentParser()
p.add_argument("--curve", default="a")
p.add_argument("--sleep", type=float, default=0.0)
a = p.parse_args()
run = Run.get_context()
base = {"a": 0.5, "b": 0.6, "c": 0.9}[a.curve]
for step in range(3):
    run.log("acc", base + step / 100)
print("started", a.curve, flush=True)
time.sleep(a.sleep)
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.txt", "w") as f:
    f.write(f"model {a.curve}\\n")
print("finished", a.curve, flush=True)
'''


def _workspace(root: Path, in_folder: Any) -> Workspace:
    (root / "scripts").mkdir(parents=True)
    (root / "kubeline.yaml").write_text("name: sweep\n", encoding="utf-8")
    (root / "scripts" / "sweep.py").write_text(SWEEP, encoding="utf-8")
    in_folder(root)
    return Workspace.from_config()


def _config(space: dict[str, Any], **settings: Any) -> HyperDriveConfig:
    return HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory="scripts", script="sweep.py"),
        hyperparameter_sampling=GridParameterSampling(space), primary_metric_name="acc",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE, **settings)


def test_experiment_submit_of_a_config_is_a_hyperdrive_run(tmp_path: Path,
                                                           in_folder: Any) -> None:
    ws = _workspace(tmp_path / "ws", in_folder)
    config = _config({"--curve": choice("a", "b", "c")}, max_total_runs=3,
                     max_concurrent_runs=2,
                     # judged at every value, never stops: 0.92 / (1 + 1.0) is below every value
                     policy=BanditPolicy(slack_factor=1.0))
    run = Experiment(ws, "sweep").submit(config)
    assert isinstance(run, HyperDriveRun) and run.hyperdrive_config is config
    details = run.wait_for_completion(show_output=False)
    assert details["status"] == "Completed" == run.get_status()
    children = run.get_children()
    assert [(c.hyperparameters, c.status) for c in children] == [
        ({"--curve": v}, "Completed") for v in "abc"]
    best = run.get_best_run_by_primary_metric()
    assert best is not None and best.hyperparameters == {"--curve": "c"}
    assert best.parent is run and all(c.parent is run for c in children)
    assert best.get_file_names() == ["outputs/model.txt"]
    best.download_file("outputs/model.txt", str(tmp_path / "model.txt"))
    assert (tmp_path / "model.txt").read_text() == "model c\n"
    assert run.get_metrics() == {c.id: {"acc": [v, v + 0.01, v + 0.02]}
                                 for c, v in zip(children, (0.5, 0.6, 0.9), strict=True)}
    ranked = run.get_children_sorted_by_primary_metric(top=2)
    assert [r["run_id"] for r in ranked] == [children[2].id, children[1].id]
    assert set(run.get_hyperparameters()) == {c.id for c in children}
    # found again by its id, as AML's HyperDriveRun(experiment, run_id)
    again = HyperDriveRun(Experiment(ws, "sweep"), run.id)
    assert again.hyperdrive_config is None
    assert again.get_best_run_by_primary_metric().id == best.id
    # every submission trains afresh (AML reuses nothing for a HyperDrive run)
    second = Experiment(ws, "sweep").submit(config)
    second.wait_for_completion(show_output=False)
    assert not second.find_step_run("hyperdrive")[0].reused
    assert all(c.get_details()["status"] == "Completed" for c in second.get_children())


def test_a_pipeline_run_is_not_a_hyperdrive_run(tmp_path: Path, in_folder: Any) -> None:
    from kubeline.azureml.pipeline.core import Pipeline
    from kubeline.azureml.pipeline.steps import PythonScriptStep

    ws = _workspace(tmp_path / "ws", in_folder)
    step = PythonScriptStep("sweep.py", name="plain", source_directory="scripts")
    run = Experiment(ws, "plain").submit(Pipeline(ws, steps=[step]))
    run.wait_for_completion(show_output=False)
    with pytest.raises(KubelineError) as info:
        HyperDriveRun(Experiment(ws, "plain"), run.id).get_children()
    assert str(info.value).startswith(f"run {run.id} is not a HyperDrive run")
    with pytest.raises(KubelineError, match="pipeline_parameters do not apply"):
        Experiment(ws, "sweep").submit(_config({"--curve": choice("a")}, max_total_runs=1),
                                       pipeline_parameters={"x": 1})


def test_max_duration_cancels_the_running_trial_and_starts_no_more(tmp_path: Path,
                                                                   in_folder: Any) -> None:
    """One trial at a time, 30 s in all: the quick first trial (a few seconds) completes, the
    second (which would sleep ten minutes) is stopped at the deadline, the third never
    starts."""
    ws = _workspace(tmp_path / "ws", in_folder)
    config = _config({"--sleep": choice(0, 600, 601)}, max_total_runs=3,
                     max_concurrent_runs=1, max_duration_minutes=0.5)
    started = time.monotonic()
    run = Experiment(ws, "sweep").submit(config)
    assert run.wait_for_completion(show_output=False)["status"] == "Completed"
    assert time.monotonic() - started < 300, "the sleeping trial was not stopped"
    first, second, third = run.get_children()
    assert (first.status, second.status, third.status) == ("Completed", "Canceled", "Canceled")
    assert second.get_details()["error"] == (
        "max_duration_minutes (0.5) of the HyperDrive run was reached while it ran")
    assert third.get_details()["error"] == (
        "max_duration_minutes (0.5) of the HyperDrive run was reached before it started")
    assert second.get_metrics()["acc"] == [0.5, 0.51, 0.52]  # it ran until it was stopped
    assert third.get_metrics() == {}
    assert run.get_best_run_by_primary_metric(include_canceled=False).id == first.id
    # the trials' captured output: the second was stopped in its sleep, the third never ran
    store = run._sweep()._store()
    logs = {t.number: f"kubeline/runs/{run.id}/steps/{t.id[len(run.id) + 1:]}/stdout.txt"
            for t in (second, third)}
    assert store.get_bytes(logs[1]).decode().split() == ["started", "a"]
    assert not store.exists(logs[2])


def test_max_duration_must_be_positive() -> None:
    for bad in (0, -1, "1", True):
        with pytest.raises(KubelineError, match="HyperDriveConfig: max_duration_minutes must be "):
            _config({"--curve": choice("a")}, max_total_runs=1, max_duration_minutes=bad)
