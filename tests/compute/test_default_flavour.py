"""A workspace that says nothing about its cluster compiles for the `generic` flavour: a GPU
size keeps its nvidia.com/gpu limit and the GPU toleration. `kind` (which has no GPUs) is
chosen explicitly, and says once at compile time that it drops them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeline.workspace.config import ClusterConfig, load_config, save_config
from tests.spark.helpers import REPO, example, kubeline

GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def _silent_about_the_cluster(folder: Path, how: str) -> None:
    """Make the gpu_training example's workspace say nothing about its cluster."""
    path = folder / "kubeline.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if how == "no cluster section":
        del data["cluster"]
    elif how == "cluster without flavour":
        data["cluster"] = {"namespace": "ml"}
    elif how == "no kubeline.yaml":  # the pipeline file creates its targets (and the file)
        path.unlink()
        return
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _templates(folder: Path) -> dict[str, dict[str, Any]]:
    (doc,) = [d for d in yaml.safe_load_all((folder / "out" / "gpu-training.yaml").read_text())
              if d and d.get("kind") == "Workflow"]
    return {t["name"]: t for t in doc["spec"]["templates"]}


def _step_template(folder: Path, step: str) -> dict[str, Any]:
    tmpls = _templates(folder)
    task = next(t for t in tmpls["main"]["dag"]["tasks"] if t["name"] == step)
    return tmpls[task["template"]]


@pytest.mark.parametrize("how", ["no cluster section", "cluster without flavour",
                                 "no kubeline.yaml"])
def test_a_silent_workspace_keeps_the_gpu(how: str, tmp_path: Path) -> None:
    folder = example("gpu_training", tmp_path)
    _silent_about_the_cluster(folder, how)
    done = kubeline("compile", "pipeline.py", "-o", "out", "--no-publish", cwd=folder)
    assert "warning" not in done.stderr, done.stderr
    train = _step_template(folder, "train")
    assert train["container"]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert GPU_TOLERATION in train["tolerations"]
    prepare = _step_template(folder, "prepare")
    assert "nvidia.com/gpu" not in str(prepare["container"].get("resources", {}))
    assert "tolerations" not in prepare  # a CPU size on generic: no GPU toleration
    shown = kubeline("compute", "show", "gpu-cluster", "--json", cwd=folder)
    facts = yaml.safe_load(shown.stdout)
    assert facts["flavour"] == "generic"
    assert facts["pod"]["resources"]["limits"]["nvidia.com/gpu"] == "1"


def test_a_silent_workspace_keeps_the_gpu_of_spark_pods(tmp_path: Path) -> None:
    folder = example("spark_wordcount", tmp_path)
    data = yaml.safe_load((folder / "kubeline.yaml").read_text(encoding="utf-8"))
    del data["cluster"]
    (folder / "kubeline.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    script = folder / "pipeline.py"
    script.write_text(script.read_text().replace('"Standard_DS3_v2"', '"Standard_NC6s_v3"'))
    done = kubeline("compile", "pipeline.py", "-o", "out", "--no-publish", cwd=folder)
    assert "warning" not in done.stderr, done.stderr
    text = (folder / "out" / "spark-wordcount.yaml").read_text()
    app = next(yaml.safe_load(t["resource"]["manifest"])
               for d in yaml.safe_load_all(text) if d and d.get("kind") == "Workflow"
               for t in d["spec"]["templates"]
               if (t.get("resource") or {}).get("action") == "create")
    for role in ("driver", "executor"):
        spec = app["spec"][role]["template"]["spec"]
        assert spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1", role
        assert GPU_TOLERATION in spec["tolerations"], role


def test_kind_is_explicit_and_warns_once(tmp_path: Path) -> None:
    """Two GPU steps on one target, plus a Spark step on a GPU node type: each dropped GPU
    is said once."""
    folder = example("gpu_training", tmp_path)
    path = folder / "kubeline.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["cluster"]["flavour"] = "kind"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    script = folder / "pipeline.py"
    script.write_text(script.read_text().replace(
        "pipeline = Pipeline(workspace=ws, steps=[train])",
        "again = PythonScriptStep(script_name='train.py', name='train-again',\n"
        "                         arguments=['--prepared', prepared, '--model', model2],\n"
        "                         inputs=[prepared], outputs=[model2], compute_target=gpu,\n"
        "                         source_directory='steps')\n"
        "pipeline = Pipeline(workspace=ws, steps=[train, again])").replace(
        'model = PipelineData("model", datastore=store)',
        'model = PipelineData("model", datastore=store)\n'
        'model2 = PipelineData("model2", datastore=store)'))
    done = kubeline("compile", "pipeline.py", "-o", "out", "--no-publish", cwd=folder)
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert warnings == [
        "kubeline: warning: compute target 'gpu-cluster': vm_size 'Standard_NC6s_v3' has 1 "
        "V100 GPU(s) but kind clusters have none: the step gets no nvidia.com/gpu limit and "
        "runs on CPU"], done.stderr
    for step in ("train", "train-again"):
        assert "nvidia.com/gpu" not in str(_step_template(folder, step))

    spark = example("spark_wordcount", tmp_path)
    data = yaml.safe_load((spark / "kubeline.yaml").read_text(encoding="utf-8"))
    data["cluster"]["flavour"] = "kind"
    (spark / "kubeline.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    script = spark / "pipeline.py"
    script.write_text(script.read_text().replace('"Standard_DS3_v2"', '"Standard_NC6s_v3"'))
    done = kubeline("compile", "pipeline.py", "-o", "out", "--no-publish", cwd=spark)
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert warnings == [
        "kubeline: warning: step 'count-words': vm_size 'Standard_NC6s_v3' has 1 V100 GPU(s) "
        "but kind clusters have none: the step gets no nvidia.com/gpu limit and runs on CPU"]


def test_the_kind_workflow_chooses_kind(tmp_path: Path) -> None:
    """manifests/kind/kubeline.yaml names its flavour, and a rewrite of the file (as
    ComputeTarget.create does) keeps it; the default is generic and is not written."""
    config = load_config(REPO / "manifests" / "kind" / "kubeline.yaml")
    assert config.cluster.flavour == "kind"
    copy = tmp_path / "kubeline.yaml"
    save_config(config, copy)
    assert load_config(copy).cluster.flavour == "kind"
    assert ClusterConfig().flavour == "generic"
    for name in ("compare_models", "data_dependency"):  # the examples made for kind
        assert load_config(REPO / "examples" / name / "kubeline.yaml").cluster.flavour == "kind"
