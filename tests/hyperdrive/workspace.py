"""A workspace with a HyperDriveStep pipeline whose trials log scripted metric curves.

``train.py --curve NAME`` logs CURVES[NAME] as the primary metric ``acc``, one value per
"epoch", writes its model to ./outputs/model.txt and to the ``model`` PipelineData; ``use.py``
(downstream) prints what it received. pipeline.py reads its settings from HD_* variables so
one file serves every test: HD_CURVES (comma list; "boom" fails), HD_POLICY (none, bandit,
median, truncation), HD_GOAL (max, min), HD_SAMPLING (grid, random), HD_TOTAL,
HD_CONCURRENT, HD_SEED.
"""

from __future__ import annotations

import json
from pathlib import Path

# The curves of the policy tests (maximize); the expected outcomes are worked out by hand
# in tests/hyperdrive/test_hyperdrive_runs.py from docs/hyperdrive.md's rules.
CURVES = {
    "a": [0.5, 0.6, 0.7, 0.8],
    "b": [0.5, 0.55, 0.6, 0.62],
    "c": [0.9, 0.95, 0.97, 0.99],
    "d": [0.2, 0.3, 0.4, 0.5],
    "e": [0.6, 0.58, 0.56, 0.55],
}

TRAIN = '''
"""Log a scripted curve of the primary metric; keep a model file."""
import argparse, json, os
from kubeline.azureml.core import Run

CURVES = json.loads(CURVES_JSON)
p = argparse.ArgumentParser()
p.add_argument("--curve", required=True)
p.add_argument("--lr", type=float, default=0.0)
p.add_argument("--model-out", required=True)
a = p.parse_args()
run = Run.get_context()
if a.curve == "boom":  # a trial that fails after logging once
    run.log("acc", 0.99)
    raise SystemExit("boom: this trial fails on purpose")
for value in CURVES[a.curve]:
    run.log("acc", value)
    print(f"curve {a.curve}: acc {value}", flush=True)
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.txt", "w") as f:
    f.write(f"model of curve {a.curve} lr {a.lr}\\n")
os.makedirs(a.model_out, exist_ok=True)
with open(os.path.join(a.model_out, "weights.txt"), "w") as f:
    f.write(f"weights of curve {a.curve}\\n")
'''.replace("CURVES_JSON", repr(json.dumps(CURVES)))

USE = '''
"""Print what the HyperDriveStep handed on: its model folder, metrics file and best model."""
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--model"); p.add_argument("--metrics"); p.add_argument("--best")
a = p.parse_args()
print("model:", open(os.path.join(a.model, "weights.txt")).read().strip())
print("best:", open(a.best).read().strip())
print("metrics:", open(a.metrics).read().strip())
'''

PIPELINE = '''
import os
from kubeline.azureml.core import Experiment, ScriptRunConfig, Workspace
from kubeline.azureml.pipeline.core import Pipeline, PipelineData, TrainingOutput
from kubeline.azureml.pipeline.steps import HyperDriveStep, PythonScriptStep
from kubeline.azureml.train.hyperdrive import (
    BanditPolicy, GridParameterSampling, HyperDriveConfig, MedianStoppingPolicy,
    PrimaryMetricGoal, RandomParameterSampling, TruncationSelectionPolicy, choice, uniform)

ws = Workspace.from_config()
env = os.environ
policy = {
    "none": None,
    "bandit": BanditPolicy(evaluation_interval=1, slack_factor=0.1),
    "median": MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=0),
    "truncation": TruncationSelectionPolicy(truncation_percentage=25),
}[env.get("HD_POLICY", "none")]
curves = choice(*env.get("HD_CURVES", "a,b,c,d,e").split(","))
if env.get("HD_SAMPLING", "grid") == "grid":
    sampling = GridParameterSampling({"--curve": curves})
else:
    seed = env.get("HD_SEED")
    sampling = RandomParameterSampling({"--curve": curves, "--lr": uniform(0.001, 0.1)},
                                       properties={"rngSeed": int(seed)} if seed else None)
model = PipelineData("model", datastore=ws.get_default_datastore())
metrics = PipelineData("metrics", training_output=TrainingOutput("Metrics"))
best = PipelineData("best_model", training_output=TrainingOutput(
    "Model", model_file="outputs/model.txt"))
src = ScriptRunConfig(source_directory="scripts", script="train.py",
                      arguments=["--model-out", model])
config = HyperDriveConfig(
    run_config=src, hyperparameter_sampling=sampling, policy=policy,
    primary_metric_name="acc",
    primary_metric_goal=(PrimaryMetricGoal.MAXIMIZE if env.get("HD_GOAL", "max") == "max"
                         else PrimaryMetricGoal.MINIMIZE),
    max_total_runs=int(env.get("HD_TOTAL", "5")),
    max_concurrent_runs=int(env.get("HD_CONCURRENT", "1")))
tune = HyperDriveStep("tune", config, outputs=[model, metrics, best])
use = PythonScriptStep("use.py", name="use", source_directory="scripts",
                       arguments=["--model", model, "--metrics", metrics, "--best", best],
                       inputs=[model, metrics, best])
pipeline = Pipeline(ws, steps=[tune, use])
'''


def make(root: Path) -> Path:
    """Write the workspace; returns its folder."""
    (root / "scripts").mkdir(parents=True, exist_ok=True)
    (root / "kubeline.yaml").write_text("name: tuning\n", encoding="utf-8")
    (root / "scripts" / "train.py").write_text(TRAIN, encoding="utf-8")
    (root / "scripts" / "use.py").write_text(USE, encoding="utf-8")
    (root / "pipeline.py").write_text(PIPELINE, encoding="utf-8")
    return root
