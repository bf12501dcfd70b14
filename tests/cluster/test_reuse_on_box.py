"""Reuse that starts no pods (issue 14 point 6): kubeline.cluster.reuse resolves cache hits
from the datastore's index before the Workflow is created, on Argo's own controller.

A 3-step chain (each step adds one to its producer's number, the last adds the pipeline
parameter ``bump`` too): an unchanged rerun Skips every step and starts no pod; changing
``bump`` reruns the last step alone, which reads the reused producer's output; the records a
skipped step leaves are those its shim writes when its pod finds the hit itself.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeline.cluster.reuse import REUSED_ANNOTATION, resolve_reuse
from tests.cluster.box import Box, load_docs
from tests.pipelines import kubeline

pytestmark = pytest.mark.cluster

NAMESPACE, BUCKET = "kubeline", "kubeline"
# The chain's own datastore prefix: another cluster test's forget_reuse (which empties the
# bucket's reuse index) cannot touch it, even on a box others test on at the same time.
PREFIX = f"reuse-test/{uuid.uuid4().hex[:12]}"
LENGTH = 3
STEP = """\
import os, sys
# {nonce}: a fresh snapshot, so the first run computes every step
out = sys.argv[sys.argv.index("--out") + 1]
os.makedirs(out, exist_ok=True)
value = int(sys.argv[sys.argv.index("--bump") + 1]) if "--bump" in sys.argv else 0
if "--in" in sys.argv:
    with open(os.path.join(sys.argv[sys.argv.index("--in") + 1], "v.txt")) as handle:
        value += int(handle.read())
with open(os.path.join(out, "v.txt"), "w") as handle:
    handle.write(str(value + 1))
"""
PIPELINE = f"""\
from kubeline import Pipeline, PipelineData, PipelineParameter, PythonScriptStep, Workspace
ws = Workspace.from_config()
bump = PipelineParameter("bump", default_value=0)
steps, prev = [], None
for i in range({LENGTH}):
    out = PipelineData(f"o{{i}}")
    args = ["--out", out] + (["--in", prev] if prev is not None else [])
    args += ["--bump", bump] if i == {LENGTH - 1} else []
    steps.append(PythonScriptStep("step.py", name=f"s{{i}}", arguments=args,
                                  inputs=[prev] if prev is not None else [], outputs=[out],
                                  source_directory="scripts"))
    prev = out
pipeline = Pipeline(ws, steps=steps)
"""


@pytest.fixture
def chain(box: Box, box_env: dict[str, str], tmp_path: Path) -> Iterator[list[dict[str, Any]]]:
    """The compiled chain; the Workflows the test made are deleted afterwards."""
    folder = tmp_path / f"reuse-chain-{uuid.uuid4().hex[:6]}"  # the pipeline's name
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "step.py").write_text(STEP.format(nonce=uuid.uuid4().hex))
    (folder / "pipeline.py").write_text(PIPELINE)
    config = Path(box_env["KUBELINE_CONFIG"])
    data = yaml.safe_load(config.read_text())
    data["datastores"]["workspaceblobstore"]["prefix"] = PREFIX
    config.write_text(yaml.safe_dump(data))
    kubeline("compile", "pipeline.py", "-o", str(tmp_path / "build"), cwd=folder, env=box_env)
    docs = load_docs(tmp_path / "build")
    yield docs
    [wf] = [d for d in docs if d["kind"] == "Workflow"]
    box.kubectl("-n", NAMESPACE, "delete", "workflow,configmap", "-l",
                f"kubeline.io/pipeline={wf['metadata']['labels']['kubeline.io/pipeline']}",
                "--ignore-not-found")


def submit(box: Box, docs: list[dict[str, Any]], bump: int, plan_reuse: bool,
           root: Path) -> dict[str, Any]:
    """Apply the spec ConfigMaps, create the Workflow (resolved or as compiled) under a fresh
    name, wait; returns the finished Workflow."""
    [wf] = [d for d in docs if d["kind"] == "Workflow"]
    for cm in (d for d in docs if d["kind"] == "ConfigMap"):
        _apply(box, cm)
    wf = json.loads(json.dumps(wf))
    for p in wf["spec"]["arguments"]["parameters"]:
        if p["name"] == "bump":
            p["value"] = str(bump)
    wf["metadata"] = {**wf["metadata"], "name": f"{wf['metadata']['name']}-{uuid.uuid4().hex[:6]}"}
    plan = resolve_reuse(wf, root, docs) if plan_reuse else None
    created_doc = plan.workflow if plan else wf
    created = box.custom.create_namespaced_custom_object(
        "argoproj.io", "v1alpha1", NAMESPACE, "workflows", created_doc)
    if plan:
        plan.record(created)
    return box.wait_workflow(created["metadata"]["name"], NAMESPACE, timeout=900)


def _apply(box: Box, doc: dict[str, Any]) -> None:
    from kubernetes.client.rest import ApiException

    name = doc["metadata"]["name"]
    try:
        box.core.replace_namespaced_config_map(name, NAMESPACE, doc)
    except ApiException as exc:
        if exc.status != 404:
            raise
        box.core.create_namespaced_config_map(NAMESPACE, doc)


def result(box: Box, run_id: str, step_id: str) -> dict[str, Any]:
    key = f"kubeline/runs/{run_id}/steps/{step_id}/result.json"
    data: dict[str, Any] = json.loads(box.read_object(BUCKET, f"{PREFIX}/{key}"))
    return data


def value_of(box: Box, record: dict[str, Any]) -> str:
    location = record["outputs"][next(iter(record["outputs"]))]["location"].rstrip("/")
    return box.read_object(BUCKET, f"{PREFIX}/{location}/v.txt").decode()


def step_nodes(wf: dict[str, Any]) -> dict[str, dict[str, Any]]:
    nodes = wf["status"]["nodes"].values()
    return {n["displayName"]: n for n in nodes if n["displayName"].startswith("s")}


def test_unchanged_rerun_starts_no_pod_and_records_what_the_shim_would(
        box: Box, box_env: dict[str, str], chain: list[dict[str, Any]], tmp_path: Path) -> None:
    first = submit(box, chain, 0, plan_reuse=True, root=tmp_path)
    assert first["status"]["phase"] == "Succeeded", box.describe(first["metadata"]["name"],
                                                                   NAMESPACE)
    assert REUSED_ANNOTATION not in first["metadata"].get("annotations", {})
    assert len(box.pods_of(first)) == LENGTH
    first_uid = first["metadata"]["uid"]
    last = f"s{LENGTH - 1}"
    assert value_of(box, result(box, first_uid, last)) == str(LENGTH)

    # The rerun with pods (as compiled): every shim finds its hit. Its records are the model.
    with_pods = submit(box, chain, 0, plan_reuse=False, root=tmp_path)
    assert with_pods["status"]["phase"] == "Succeeded"
    assert len(box.pods_of(with_pods)) == LENGTH

    skipped = submit(box, chain, 0, plan_reuse=True, root=tmp_path)
    assert skipped["status"]["phase"] == "Succeeded", box.describe(
        skipped["metadata"]["name"], NAMESPACE)
    assert box.pods_of(skipped) == []
    nodes = step_nodes(skipped)
    assert sorted(nodes) == [f"s{i}" for i in range(LENGTH)]
    assert {n["phase"] for n in nodes.values()} == {"Skipped"}
    reused = json.loads(skipped["metadata"]["annotations"][REUSED_ANNOTATION])
    assert {r["run_id"] for r in reused.values()} == {first_uid}
    same = ("status", "key", "outputs_key", "reused_from", "outputs", "metrics", "ingredients",
            "step_name", "exit_code")
    for i in range(LENGTH):
        a = result(box, with_pods["metadata"]["uid"], f"s{i}")
        b = result(box, skipped["metadata"]["uid"], f"s{i}")
        assert {k: a[k] for k in same} == {k: b[k] for k in same}
        assert b["status"] == "reused" and b["reused_from"]["run_id"] == first_uid


def test_changed_parameter_reruns_only_its_step_with_the_reused_input(
        box: Box, box_env: dict[str, str], chain: list[dict[str, Any]], tmp_path: Path) -> None:
    first = submit(box, chain, 0, plan_reuse=True, root=tmp_path)
    assert first["status"]["phase"] == "Succeeded"

    bumped = submit(box, chain, 10, plan_reuse=True, root=tmp_path)
    assert bumped["status"]["phase"] == "Succeeded", box.describe(bumped["metadata"]["name"],
                                                                    NAMESPACE)
    nodes = step_nodes(bumped)
    last = f"s{LENGTH - 1}"
    assert {n: nodes[n]["phase"] for n in nodes} == {
        **{f"s{i}": "Skipped" for i in range(LENGTH - 1)}, last: "Succeeded"}
    assert len(box.pods_of(bumped)) == 1
    record = result(box, bumped["metadata"]["uid"], last)
    assert record["status"] == "succeeded" and record["reused_from"] is None
    assert value_of(box, record) == str(LENGTH + 10)  # read the skipped producer's output
