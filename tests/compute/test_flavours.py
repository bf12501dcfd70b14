"""Compiled scheduling for every cluster flavour, as golden files, plus the invariant that
every pod of a step (its container pod, init containers included, and Spark driver and
executor pods) carries the same placement.

Refresh after an intended change: KUBELINE_REGENERATE=1 pytest tests/compute (never in CI).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.spark.helpers import documents, edit_config, example

GOLDEN = Path(__file__).parent / "golden"
FLAVOURS = ["aks", "eks", "gke", "kind", "generic"]
GENERIC = {
    "cpu-cluster": {"node_selector": {"pool": "cpu"}},
    "gpu-cluster": {"node_selector": {"pool": "gpu", "accelerator": "v100"},
                    "tolerations": [{"key": "dedicated", "operator": "Equal",
                                     "value": "ml", "effect": "NoSchedule"}]},
}
_POD_FIELDS = ("nodeSelector", "tolerations", "affinity")


def _config(folder: Path, flavour: str) -> None:
    data = yaml.safe_load((folder / "kubeline.yaml").read_text(encoding="utf-8"))
    if flavour == "generic":
        for name, extra in GENERIC.items():
            data["compute_targets"][name]["properties"].update(extra)
    data["compute_targets"] = data["compute_targets"]
    (folder / "kubeline.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    edit_config(folder, cluster={"flavour": flavour})


def _view(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The scheduling-relevant part of every pod the pipeline creates, by step (task) name,
    so template renames elsewhere in the compiler do not touch these files."""
    wf = next(d for d in docs if d["kind"] == "Workflow")
    tmpls = {t["name"]: t for t in wf["spec"]["templates"]}
    out: dict[str, Any] = {}
    for task in tmpls["main"]["dag"]["tasks"]:
        tmpl = tmpls[task["template"]]
        if "container" in tmpl:
            ann = (tmpl.get("metadata") or {}).get("annotations") or {}
            out[task["name"]] = {
                "annotations": {k: v for k, v in ann.items() if k.startswith("kubeline.io/")
                                and k != "kubeline.io/step"},
                "resources": tmpl["container"].get("resources", {}),
                **{f: tmpl[f] for f in _POD_FIELDS if f in tmpl}}
        for sub in (tmpl.get("dag") or {}).get("tasks", []):
            res = tmpls[sub["template"]].get("resource", {})
            if res.get("action") != "create":
                continue
            app = yaml.safe_load(res["manifest"])
            for role in ("driver", "executor"):
                part = app["spec"][role]
                spec = part["template"]["spec"]
                out[f"{task['name']}/{role}"] = {
                    "sizing": {k: part[k] for k in ("cores", "coreRequest", "coreLimit",
                                                    "memory", "memoryOverhead") if k in part},
                    "resources": spec["containers"][0].get("resources", {}),
                    **{f: spec[f] for f in _POD_FIELDS if f in spec}}
    return out


Compiled = Callable[[str, str], list[dict[str, Any]]]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Compiled:
    """An example's documents compiled (``kubeline compile``) for a flavour, once per module:
    the golden view and the placement invariant read the same compile."""
    cache: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def get(name: str, flavour: str) -> list[dict[str, Any]]:
        if (name, flavour) not in cache:
            base = tmp_path_factory.mktemp(f"{name}-{flavour}")
            folder = example(name, base)
            if name == "gpu_training":
                _config(folder, flavour)
            else:
                edit_config(folder, cluster={"flavour": flavour})
            cache[name, flavour] = documents(folder, base / "out")
        return cache[name, flavour]

    return get


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_scheduling_golden(flavour: str, compiled: Compiled) -> None:
    view = {name: _view(compiled(name, flavour)) for name in ("gpu_training", "spark_wordcount")}
    text = yaml.safe_dump(view, sort_keys=True, default_flow_style=False)
    golden = GOLDEN / f"{flavour}.yaml"
    if os.environ.get("KUBELINE_REGENERATE") and not os.environ.get("CI"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"no golden file {golden}: run with KUBELINE_REGENERATE=1"
    assert text == golden.read_text(encoding="utf-8"), f"{flavour} scheduling changed"


@pytest.mark.parametrize("flavour", ["aks", "eks", "gke", "generic"])
def test_every_pod_of_the_gpu_step_gets_the_same_placement(flavour: str,
                                                           compiled: Compiled) -> None:
    docs = compiled("gpu_training", flavour)
    wf = next(d for d in docs if d["kind"] == "Workflow")
    tasks = {t["name"]: t["template"] for t in wf["spec"]["templates"][0]["dag"]["tasks"]}
    tmpls = {t["name"]: t for t in wf["spec"]["templates"]}
    train, prepare = tmpls[tasks["train"]], tmpls[tasks["prepare"]]
    # the pod-level fields cover main and init containers alike
    assert train["tolerations"] and {"key": "nvidia.com/gpu", "operator": "Exists",
                                     "effect": "NoSchedule"} in train["tolerations"]
    assert train["container"]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    for init in train.get("initContainers", []):
        assert "nvidia.com/gpu" not in str(init.get("resources", {}))
    assert "nvidia.com/gpu" not in str(prepare["container"].get("resources", {}))
    assert train.get("nodeSelector") != prepare.get("nodeSelector")
    ann = train["metadata"]["annotations"]
    assert (ann["kubeline.io/min-nodes"], ann["kubeline.io/max-nodes"]) == ("0", "2")


def test_kind_warns_about_gpus_and_places_nothing(tmp_path: Path) -> None:
    from tests.spark.helpers import kubeline

    folder = example("gpu_training", tmp_path)
    _config(folder, "kind")
    done = kubeline("compile", "pipeline.py", "-o", "out", "--no-publish", cwd=folder)
    assert ("kubeline: warning: compute target 'gpu-cluster': vm_size 'Standard_NC6s_v3' has "
            "1 V100 GPU(s) but kind clusters have none") in done.stderr
    text = (folder / "out" / "gpu-training.yaml").read_text()
    assert "nodeSelector" not in text and "nvidia.com/gpu" not in text


def test_gke_refuses_a_gpu_it_does_not_have(tmp_path: Path) -> None:
    from tests.spark.helpers import kubeline

    folder = example("gpu_training", tmp_path)
    data = yaml.safe_load((folder / "kubeline.yaml").read_text())
    data["compute_targets"]["gpu-cluster"]["properties"]["vm_size"] = "STANDARD_NV6"
    data["cluster"]["flavour"] = "gke"
    (folder / "kubeline.yaml").write_text(yaml.safe_dump(data))
    (folder / "pipeline.py").write_text((folder / "pipeline.py").read_text().replace(
        '"STANDARD_NC6S_V3"', '"STANDARD_NV6"'))
    done = kubeline("compile", "pipeline.py", "-o", "out", "--no-publish", cwd=folder,
                    check=False)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "kubeline: error: compute target 'gpu-cluster': GKE has no M60 GPUs for vm_size "
        "'Standard_NV6' (pick a size with K80, P100, V100, T4 or A100 GPUs, or use a "
        "KubernetesCompute instance type)"]
