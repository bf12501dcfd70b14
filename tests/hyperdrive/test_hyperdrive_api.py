"""The azureml.train.hyperdrive surface: the SDK's forms, and bad input in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeline.azureml.core import ScriptRunConfig
from kubeline.azureml.pipeline.core import PipelineData, TrainingOutput
from kubeline.azureml.pipeline.steps import HyperDriveStep
from kubeline.azureml.train import hyperdrive as hd
from kubeline.exceptions import KubelineError


def _config(**kwargs: object) -> hd.HyperDriveConfig:
    settings: dict[str, object] = dict(
        run_config=ScriptRunConfig(source_directory="scripts", script="train.py"),
        hyperparameter_sampling=hd.RandomParameterSampling({"--lr": hd.uniform(0.01, 0.1)}),
        primary_metric_name="acc", primary_metric_goal=hd.PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=4)
    settings.update(kwargs)
    return hd.HyperDriveConfig(**settings)  # type: ignore[arg-type]


def test_expressions_have_the_sdk_json_form() -> None:
    assert hd.choice(1, 2, 3) == ["choice", [[1, 2, 3]]]
    assert hd.choice([1, 2]) == ["choice", [[1, 2]]]
    assert hd.choice(range(3)) == ["choice", [[0, 1, 2]]]
    assert hd.loguniform(-6, -1) == ["loguniform", [-6, -1]]
    assert hd.randint(5) == ["randint", [5]]
    assert hd.qnormal(0, 1, 2) == ["qnormal", [0, 1, 2]]


def test_config_settings_and_defaults() -> None:
    sampling = hd.RandomParameterSampling({"--lr": hd.uniform(0.01, 0.1)},
                                          properties={"rngSeed": 3})
    config = _config(hyperparameter_sampling=sampling, policy=hd.BanditPolicy(
        evaluation_interval=2, slack_factor=0.1, delay_evaluation=4))
    settings = config.settings()
    assert settings["seed"] == 3 and settings["sampling"] == "random"
    assert settings["max_concurrent_runs"] == 4  # None: every trial at once, as in the SDK
    assert settings["policy"] == {"name": "bandit", "evaluation_interval": 2,
                                  "delay_evaluation": 4, "slack_factor": 0.1,
                                  "slack_amount": None}
    assert _config(max_concurrent_runs=2).settings()["max_concurrent_runs"] == 2
    assert _config(policy=None).settings()["policy"] == {"name": "no_termination"}
    assert hd.PrimaryMetricGoal.from_str("minimize") is hd.PrimaryMetricGoal.MINIMIZE


@pytest.mark.parametrize(("make", "words"), [
    (lambda: hd.BayesianParameterSampling({"--lr": hd.uniform(0, 1)}),
     "BayesianParameterSampling is not supported by kubeline"),
    (lambda: hd.GridParameterSampling({"--lr": hd.uniform(0, 1)}), "grid sampling takes choice"),
    (lambda: hd.RandomParameterSampling({"--lr": hd.uniform(0, 1)}, {"rngSeed": "x"}),
     "rngSeed must be an int"),
    (lambda: hd.BanditPolicy(slack_factor=0.1, slack_amount=0.2), "exactly one of"),
    (lambda: hd.BanditPolicy(evaluation_interval=0, slack_factor=0.1), "evaluation_interval"),
    (lambda: hd.TruncationSelectionPolicy(truncation_percentage=100), "from 1 to 99"),
    (lambda: hd.MedianStoppingPolicy(delay_evaluation=-1), "delay_evaluation"),
    (lambda: _config(max_total_runs=0), "max_total_runs must be an int of at least 1"),
    (lambda: _config(primary_metric_goal="up"), "unknown goal 'up'"),
    (lambda: _config(primary_metric_name=""), "primary_metric_name"),
    (lambda: _config(run_config=None), "run_config must be a ScriptRunConfig"),
    (lambda: _config(policy="bandit"), "policy is a str"),
    (lambda: _config(estimator=object()), "argument 'estimator' is not supported"),
    (lambda: _config(max_total_run=3), "unknown argument 'max_total_run'"),
    (lambda: TrainingOutput("Weights"), "type 'Weights' is not supported"),
    (lambda: TrainingOutput("Model", model_file="../x"), "is not a path inside"),
    (lambda: TrainingOutput("Metrics", metric="acc"), "argument 'metric' is not supported"),
    (lambda: HyperDriveStep("hd", hyperdrive_config="cfg"), "hyperdrive_config is a str"),
])
def test_bad_input_fails_in_one_line(make: object, words: str) -> None:
    with pytest.raises(KubelineError) as err:
        make()  # type: ignore[operator]
    assert words in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


def test_step_takes_script_arguments_and_metrics_output(tmp_path: Path) -> None:
    metrics = PipelineData("metrics")
    step = HyperDriveStep("hd", _config(), estimator_entry_script_arguments=["--epochs", 3],
                          metrics_output=metrics)
    assert step.script_name == "train.py" and step.source_directory == "scripts"
    assert step.arguments == ["--epochs", 3]
    assert step.outputs == [metrics]
    assert step.hyperdrive_settings()["training_outputs"] == {
        "metrics": {"type": "Metrics", "model_file": None}}
