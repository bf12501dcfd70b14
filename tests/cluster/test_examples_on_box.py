"""Every examples/ pipeline, compiled for the box, runs on Argo's own controller and then, from
the very same manifests, on the local executor; the two agree node by node (phase, output
parameters, output data contents) and both reuse every step on a second run."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeline.local import run_manifest
from kubeline.local.recorder import _executor_uid
from tests.cluster.box import Box, load_docs
from tests.cluster.compare import argo_nodes, differences, local_nodes, workflow_name_of
from tests.pipelines import EXAMPLES, example, kubeline

pytestmark = pytest.mark.cluster

BUCKET, STATE_PREFIX, NAMESPACE = "kubeline", "kubeline/", "kubeline"
SKIPS = yaml.safe_load((Path(__file__).parent / "skips.yaml").read_text())["examples"]
ON_BOX = sorted(p.name for p in EXAMPLES.iterdir()
                if (p / "pipeline.py").is_file() and p.name not in SKIPS)


def test_every_example_runs_on_the_box_or_says_why_not() -> None:
    names = {p.name for p in EXAMPLES.iterdir() if (p / "pipeline.py").is_file()}
    assert set(SKIPS) <= names, "skips.yaml names an example that does not exist"
    assert all(isinstance(r, str) and len(r) > 20 for r in SKIPS.values())
    assert set(ON_BOX) | set(SKIPS) == names


def step_results(box: Box, run_id: str, nodes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each step's result.json as run run_id's shim recorded it, by node path (a reused step's
    ``origin`` names the run that produced its outputs, so the run id is given)."""
    import json

    found = {}
    for path, view in nodes.items():
        step = view.parameters.get("origin")
        if view.type != "Pod" or step is None:
            continue
        key = f"{STATE_PREFIX}runs/{run_id}/steps/{step}/result.json"
        found[path] = json.loads(box.read_object(BUCKET, key))
    return found


def output_contents(box: Box, results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every output's files as {node path: {output: {relative path: sha256}}}."""
    contents: dict[str, Any] = {}
    for path, result in results.items():
        per_output = {}
        for name, out in (result.get("outputs") or {}).items():
            location = out["location"].rstrip("/")
            files = {}
            listing = box.s3.list_objects_v2(Bucket=BUCKET, Prefix=location + "/")
            for obj in listing.get("Contents", []):
                data = box.read_object(BUCKET, obj["Key"])
                files[obj["Key"][len(location) + 1:]] = hashlib.sha256(data).hexdigest()
            if not files and out.get("kind") != "dir":  # a single-file output
                files[""] = hashlib.sha256(box.read_object(BUCKET, location)).hexdigest()
            per_output[name] = files
        contents[path] = per_output
    return contents


def forget_reuse(box: Box) -> None:
    """Drop the reuse index and stored outputs, so the next run computes every step again."""
    for prefix in (f"{STATE_PREFIX}cache/", f"{STATE_PREFIX}outputs/"):
        while True:
            listing = box.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
            keys = [{"Key": o["Key"]} for o in listing.get("Contents", [])]
            if not keys:
                break
            box.s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys})


def run_on_box(box: Box, build: Path, name: str) -> dict[str, Any]:
    box.kubectl("-n", NAMESPACE, "delete", "workflow", name, "--ignore-not-found", "--wait")
    box.kubectl("apply", "-k", str(build))
    wf = box.wait_workflow(name, NAMESPACE)
    return wf


@pytest.mark.parametrize("name", ON_BOX)
def test_example_on_box_matches_local(box: Box, box_env: dict[str, str], tmp_path: Path,
                                      name: str) -> None:
    folder = example(name, tmp_path)
    build = tmp_path / "build"
    kubeline("compile", "pipeline.py", "-o", str(build), cwd=folder, env=box_env)
    docs = load_docs(build)
    wf_name = workflow_name_of(docs)
    forget_reuse(box)

    wf = run_on_box(box, build, wf_name)
    assert wf["status"]["phase"] == "Succeeded", box.describe(wf_name, NAMESPACE)
    on_box = argo_nodes(wf)
    box_results = step_results(box, wf["metadata"]["uid"], on_box)
    assert box_results and all(r["reused_from"] is None for r in box_results.values())
    box_outputs = output_contents(box, box_results)
    assert all(files for outs in box_outputs.values() for files in outs.values()), box_outputs

    forget_reuse(box)
    local = run_manifest(docs, parameters={}, state_dir=tmp_path / "local")
    assert local.phase == "Succeeded", local.message
    here = local_nodes(local, wf_name)
    assert differences(on_box, here) == []
    local_uid = _executor_uid(tmp_path / "local", local.id)
    assert output_contents(box, step_results(box, str(local_uid), here)) == box_outputs

    # Second runs: every step reuses the first run's outputs, on the box and locally.
    wf_again = run_on_box(box, build, wf_name)
    again = argo_nodes(wf_again)
    rerun = run_manifest(docs, parameters={}, state_dir=tmp_path / "local2")
    local_again = local_nodes(rerun, wf_name)
    assert differences(again, local_again) == []
    for results in (step_results(box, wf_again["metadata"]["uid"], again),
                    step_results(box, str(_executor_uid(tmp_path / "local2", rerun.id)),
                                 local_again)):
        assert results and all(r["reused_from"] is not None for r in results.values()), results
