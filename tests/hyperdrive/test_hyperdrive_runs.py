"""HyperDriveStep runs end to end on this machine: the compiled manifest through the local
executor, trials as real step processes, the policies judging the curves the trials log.

Trials run one at a time (max_concurrent_runs=1) so each trial is judged against the full
curves of the trials before it: the outcome is then fixed, whatever the machine's load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubeline import Experiment
from kubeline.dsl.hyperdrive_run import HyperDriveStepRun
from tests.e2e.conftest import kubeline, load_pipeline
from tests.hyperdrive.workspace import CURVES, make


def _run(root: Path, monkeypatch: Any, in_folder: Any, expect: str = "Finished",
         **settings: str) -> Any:
    for key, value in settings.items():
        monkeypatch.setenv(f"HD_{key.upper()}", value)
    in_folder(root)
    ns = load_pipeline(root)
    run = Experiment(ns["ws"], "tuning").submit(ns["pipeline"])
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == expect, \
        run.get_details()
    return run


def _tune(run: Any) -> HyperDriveStepRun:
    return HyperDriveStepRun(run.find_step_run("tune")[0])


def _outcome(tune: HyperDriveStepRun) -> dict[str, tuple[str, int]]:
    """curve name -> (status, how many values of the primary metric the trial logged)."""
    out = {}
    for trial in tune.get_children():
        acc = trial.get_metrics().get("acc", [])
        out[trial.hyperparameters["--curve"]] = (trial.status, len(acc) if isinstance(acc, list)
                                                 else 1)
    return out


# Worked out by hand from the curves and docs/hyperdrive.md (see tests/hyperdrive/workspace.py)
EXPECTED = {
    "bandit": {"a": ("Completed", 4), "b": ("Canceled", 3), "c": ("Completed", 4),
               "d": ("Canceled", 1), "e": ("Canceled", 1)},
    "median": {"a": ("Completed", 4), "b": ("Completed", 4), "c": ("Completed", 4),
               "d": ("Canceled", 1), "e": ("Canceled", 4)},
    "truncation": {"a": ("Completed", 4), "b": ("Completed", 4), "c": ("Completed", 4),
                   "d": ("Canceled", 1), "e": ("Canceled", 3)},
}


@pytest.mark.parametrize("policy", sorted(EXPECTED))
def test_policy_stops_the_right_trials(policy: str, tmp_path: Path, monkeypatch: Any,
                                       in_folder: Any) -> None:
    root = make(tmp_path / "ws")
    run = _run(root, monkeypatch, in_folder, policy=policy)
    tune = _tune(run)
    assert _outcome(tune) == EXPECTED[policy]
    best = tune.get_best_run_by_primary_metric()
    assert best is not None and best.hyperparameters == {"--curve": "c"}
    # a canceled trial committed nothing: only completed trials have outputs
    summary = tune._data()
    for trial in summary["trials"]:
        assert bool(trial["outputs"]) == (trial["status"] == "Completed"), trial


def test_best_trial_feeds_downstream_and_the_step_reuses(tmp_path: Path, monkeypatch: Any,
                                                          in_folder: Any) -> None:
    root = make(tmp_path / "ws")
    run = _run(root, monkeypatch, in_folder)
    tune = _tune(run)
    assert [t.status for t in tune.get_children()] == ["Completed"] * 5
    ranked = tune.get_children_sorted_by_primary_metric()
    assert [json.loads(r["hyperparameters"])["--curve"] for r in ranked] == list("cabed")
    assert [r["best_primary_metric"] for r in ranked] == [0.99, 0.8, 0.62, 0.6, 0.5]
    assert tune.get_metrics()[ranked[0]["run_id"]] == {"acc": CURVES["c"]}
    assert tune.get_metrics(name="acc") == tune.get_metrics()
    assert len(tune.get_metrics()) == 5
    assert tune.get_best_run_by_primary_metric().get_file_names() == ["outputs/model.txt"]
    log = run.find_step_run("use")[0].get_stdout_log()
    assert "model: weights of curve c" in log
    assert "best: model of curve c lr 0.0" in log
    metrics_line = next(line for line in log.splitlines() if line.startswith("metrics:"))
    metrics = json.loads(metrics_line.split(":", 1)[1])
    assert sorted(v["acc"][-1] for v in metrics.values()) == sorted(c[-1] for c in
                                                                    CURVES.values())
    # the same pipeline again: every trial and the step reuse their outputs
    again = _run(root, monkeypatch, in_folder)
    step = again.find_step_run("tune")[0]
    assert step.reused and step.reused_from == run.id
    assert again.find_step_run("use")[0].reused
    # a changed script: the trials and the step run again, and explain-reuse says why
    train = root / "scripts" / "train.py"
    train.write_text(train.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    third = _run(root, monkeypatch, in_folder)
    assert not third.find_step_run("tune")[0].reused
    why = kubeline("explain-reuse", third.id, "tune", cwd=root).stdout
    assert "file scripts/train.py changed" in why, why


def test_minimize_picks_the_lowest_curve(tmp_path: Path, monkeypatch: Any,
                                         in_folder: Any) -> None:
    root = make(tmp_path / "ws")
    run = _run(root, monkeypatch, in_folder, goal="min", concurrent="3")
    tune = _tune(run)
    best = tune.get_best_run_by_primary_metric()
    assert best is not None and best.hyperparameters == {"--curve": "d"}  # 0.2 is the lowest
    assert "model: weights of curve d" in run.find_step_run("use")[0].get_stdout_log()


def test_random_sampling_with_a_seed_draws_the_same_trials(tmp_path: Path, monkeypatch: Any,
                                                           in_folder: Any) -> None:
    first = _run(make(tmp_path / "one"), monkeypatch, in_folder, sampling="random", seed="7",
                 total="4", concurrent="4")
    second = _run(make(tmp_path / "two"), monkeypatch, in_folder, sampling="random", seed="7",
                  total="4", concurrent="4")
    drawn = [sorted(_tune(r).get_hyperparameters().values()) for r in (first, second)]
    assert drawn[0] == drawn[1] and len(drawn[0]) == 4
    other = _run(make(tmp_path / "three"), monkeypatch, in_folder, sampling="random",
                 seed="8", total="4", concurrent="4")
    assert sorted(_tune(other).get_hyperparameters().values()) != drawn[0]


def test_a_failed_trial_does_not_stop_the_others(tmp_path: Path, monkeypatch: Any,
                                                 in_folder: Any) -> None:
    root = make(tmp_path / "ws")
    run = _run(root, monkeypatch, in_folder, curves="a,boom,c", total="3", concurrent="1")
    tune = _tune(run)
    assert [(t.hyperparameters["--curve"], t.status) for t in tune.get_children()] == [
        ("a", "Completed"), ("boom", "Failed"), ("c", "Completed")]
    # the failed trial logged 0.99, the best value, but its outputs do not exist: the step
    # hands on the best completed trial's; get_best_run_by_primary_metric follows the SDK
    assert "model: weights of curve c" in run.find_step_run("use")[0].get_stdout_log()
    assert tune.get_best_run_by_primary_metric().hyperparameters == {"--curve": "boom"}
    assert tune.get_best_run_by_primary_metric(include_failed=False).hyperparameters == {
        "--curve": "c"}


def test_no_completed_trial_fails_the_step_in_one_line(tmp_path: Path, monkeypatch: Any,
                                                       in_folder: Any) -> None:
    root = make(tmp_path / "ws")
    run = _run(root, monkeypatch, in_folder, expect="Failed", curves="boom", total="1")
    step = run.find_step_run("tune")[0]
    assert step.get_status() == "Failed"
    line = ("no trial completed with a value of the primary metric 'acc' (0 completed, "
            "0 canceled, 1 failed)")
    assert line in step.get_stderr_log()
    assert [t.status for t in HyperDriveStepRun(step).get_children()] == ["Failed"]


def test_policy_with_concurrent_trials(tmp_path: Path, monkeypatch: Any, in_folder: Any) -> None:
    """Three trials at once: each is judged against the others as far as they got, so only
    what holds in every interleaving is asserted: c leads at every interval (never stopped);
    d starts after a trial of the first three has logged at least one value, all of which
    leave 0.2 outside the slack (stopped at its first value)."""
    root = make(tmp_path / "ws")
    run = _run(root, monkeypatch, in_folder, policy="bandit", concurrent="3")
    outcome = _outcome(_tune(run))
    assert outcome["c"] == ("Completed", 4)
    assert outcome["d"] == ("Canceled", 1)
    assert {status for status, _ in outcome.values()} <= {"Completed", "Canceled"}
    assert "model: weights of curve c" in run.find_step_run("use")[0].get_stdout_log()
