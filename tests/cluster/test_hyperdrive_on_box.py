"""A HyperDriveStep on Argo's own controller: the sample task's output fans out into trial
pods (withParam, at most max_concurrent_runs at once), the bandit policy cancels the trials
it should while they run (each trial judges itself against the curves in the box's S3
store), the best trial's outputs reach the downstream pod, and the same manifest run by the
local executor agrees node by node.

KUBELINE_BOX_RUNTIME_IMAGE names another runtime image in the box's registry (a branch's
build, pushed under its own tag) for the steps; by default they run the box's runtime image.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeline.local import run_manifest
from tests.cluster.box import Box, load_docs
from tests.cluster.compare import argo_nodes, differences, local_nodes, workflow_name_of
from tests.cluster.test_examples_on_box import forget_reuse
from tests.hyperdrive.test_hyperdrive_runs import EXPECTED
from tests.hyperdrive.workspace import make
from tests.pipelines import kubeline

pytestmark = pytest.mark.cluster

BUCKET, NAMESPACE = "kubeline", "kubeline"


def _use_image(config: Path) -> None:
    """The steps' image: KUBELINE_BOX_RUNTIME_IMAGE when set (see the module docstring)."""
    image = os.environ.get("KUBELINE_BOX_RUNTIME_IMAGE")
    if image:
        data = yaml.safe_load(config.read_text())
        data["cluster"]["default_image"] = image
        config.write_text(yaml.safe_dump(data))


def _summary(box: Box, run_id: str) -> dict[str, Any]:
    key = f"kubeline/runs/{run_id}/steps/tune/hyperdrive.json"
    data: dict[str, Any] = json.loads(box.read_object(BUCKET, key))
    return data


def _outcome(summary: dict[str, Any]) -> dict[str, tuple[str, int]]:
    """curve -> (status, values of the primary metric logged: one value is not a list)."""
    out = {}
    for t in summary["trials"]:
        acc = t["metrics"].get("acc", [])
        out[t["hyperparameters"]["--curve"]] = (t["status"],
                                                len(acc) if isinstance(acc, list) else 1)
    return out


def test_hyperdrive_fan_out_on_the_box_matches_local(box: Box, box_env: dict[str, str],
                                                     tmp_path: Path, monkeypatch: Any) -> None:
    _use_image(Path(box_env["KUBELINE_CONFIG"]))
    folder = make(tmp_path / "tuning")
    (folder / "kubeline.yaml").unlink()  # the box's workspace (KUBELINE_CONFIG) instead
    env = {**box_env, "HD_POLICY": "bandit", "HD_CONCURRENT": "1"}
    build = tmp_path / "build"
    kubeline("compile", "pipeline.py", "-o", str(build), cwd=folder, env=env)
    docs = load_docs(build)
    name = workflow_name_of(docs)
    forget_reuse(box)
    box.kubectl("-n", NAMESPACE, "delete", "workflow", name, "--ignore-not-found", "--wait")
    try:
        box.kubectl("apply", "-k", str(build))
        wf = box.wait_workflow(name, NAMESPACE, timeout=900)
        assert wf["status"]["phase"] == "Succeeded", box.describe(name, NAMESPACE)
        on_box = argo_nodes(wf)
        trials = [p for p, v in on_box.items() if ".tune.trial(" in p and v.type == "Pod"]
        assert len(trials) == 5, sorted(on_box)
        summary = _summary(box, wf["metadata"]["uid"])
        assert _outcome(summary) == EXPECTED["bandit"]
        assert summary["best"].endswith("_tune-t2")  # curve c
        use = next(v for p, v in on_box.items() if p.endswith(".use"))
        stdout = box.read_object(
            BUCKET, f"kubeline/runs/{wf['metadata']['uid']}/steps/use/stdout.txt").decode()
        assert use.phase == "Succeeded" and "model: weights of curve c" in stdout

        forget_reuse(box)
        local = run_manifest(docs, parameters={}, state_dir=tmp_path / "local")
        assert local.phase == "Succeeded", local.message
        assert differences(on_box, local_nodes(local, name)) == []
    finally:
        box.kubectl("-n", NAMESPACE, "delete", "workflow", name, "--ignore-not-found", "--wait")


def _most_at_once(wf: dict[str, Any]) -> int:
    """The most trial pods that ran at the same time (from Argo's node start/finish times)."""
    spans = [(n["startedAt"], n["finishedAt"]) for n in wf["status"]["nodes"].values()
             if n["type"] == "Pod" and ".tune.trial(" in n["name"]]
    events = sorted([(s, 1) for s, _ in spans] + [(f, -1) for _, f in spans],
                    key=lambda e: (e[0], e[1]))  # a finish before a start at the same second
    running = most = 0
    for _, delta in events:
        running += delta
        most = max(most, running)
    return most


def test_max_concurrent_runs_bounds_the_trial_pods(box: Box, box_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    _use_image(Path(box_env["KUBELINE_CONFIG"]))
    folder = make(tmp_path / "tuning2")
    (folder / "kubeline.yaml").unlink()
    env = {**box_env, "HD_CONCURRENT": "2", "HD_CURVES": "a,b,c,d,e"}
    build = tmp_path / "build"
    kubeline("compile", "pipeline.py", "-o", str(build), cwd=folder, env=env)
    name = workflow_name_of(load_docs(build))
    forget_reuse(box)
    box.kubectl("-n", NAMESPACE, "delete", "workflow", name, "--ignore-not-found", "--wait")
    try:
        box.kubectl("apply", "-k", str(build))
        wf = box.wait_workflow(name, NAMESPACE, timeout=900)
        assert wf["status"]["phase"] == "Succeeded", box.describe(name, NAMESPACE)
        assert _most_at_once(wf) <= 2
        summary = _summary(box, wf["metadata"]["uid"])
        assert [t["status"] for t in summary["trials"]] == ["Completed"] * 5
        assert summary["best"].endswith("_tune-t2")
    finally:
        box.kubectl("-n", NAMESPACE, "delete", "workflow", name, "--ignore-not-found", "--wait")
