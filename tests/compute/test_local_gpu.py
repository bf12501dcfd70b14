"""GPU steps locally: CUDA_VISIBLE_DEVICES from the GPUs present; none here, so a warning and
the step still runs. The example's result (Anscombe's first data set) is checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeline.local.resources import gpu_env
from tests.spark.helpers import example, kubeline


def _model(folder: Path) -> dict[str, object]:
    store = folder / ".kubeline" / "datastores" / "workspaceblobstore"
    (run,) = (store / "kubeline" / "runs").iterdir()
    result = json.loads((run / "steps" / "train" / "result.json").read_text())
    location = result["outputs"]["model"]["location"]
    return json.loads((store / Path(*location.split("/"))).read_text())  # type: ignore[no-any-return]


def test_gpu_step_runs_on_cpu_with_a_warning(tmp_path: Path) -> None:
    folder = example("gpu_training", tmp_path)
    done = kubeline("run", "pipeline.py", cwd=folder, env={"CUDA_VISIBLE_DEVICES": ""})
    assert "phase:   Succeeded" in done.stdout
    assert ("kubeline: warning: the step asks for 1 GPU(s) (nvidia.com/gpu) but this machine "
            "has none; it runs on CPU") in done.stderr
    model = _model(folder)
    assert model["device"] == "cpu"
    assert model["slope"] == pytest.approx(0.500, abs=0.001)  # Anscombe: y = 3.00 + 0.500 x
    assert model["intercept"] == pytest.approx(3.00, abs=0.01)


def test_gpus_present_are_handed_out(tmp_path: Path) -> None:
    folder = example("gpu_training", tmp_path)
    done = kubeline("run", "pipeline.py", cwd=folder, env={"CUDA_VISIBLE_DEVICES": "2,3"})
    assert "GPU" not in done.stderr
    assert _model(folder)["device"] == "cuda:2"


def test_gpu_env_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubeline.local import resources

    tmpl = {"container": {"resources": {"limits": {"nvidia.com/gpu": "2"}}}}
    resources.gpus_present.cache_clear()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert gpu_env(tmpl)[0] == {"CUDA_VISIBLE_DEVICES": "0"}
    assert "has 1; it gets 0" in gpu_env(tmpl)[1]
    assert gpu_env({"container": {}}) == ({}, "")
    resources.gpus_present.cache_clear()


def test_cluster_scheduling_warnings_stay_out_of_local_runs(tmp_path: Path) -> None:
    """compare_models runs on a GPU size in a kind-flavoured workspace: compiling for the
    cluster warns that kind has no GPUs; running here says nothing of the cluster."""
    folder = example("compare_models", tmp_path)
    compiled = kubeline("compile", "pipeline.py", "-o", "out", "--no-publish", cwd=folder)
    assert "kind clusters have none" in compiled.stderr
    done = kubeline("run", "pipeline.py", "-p", "pipeline_arg=20", cwd=folder,
                    env={"CUDA_VISIBLE_DEVICES": ""})
    assert "phase:   Succeeded" in done.stdout
    assert "kind clusters" not in done.stderr
