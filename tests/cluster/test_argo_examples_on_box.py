"""Argo's own example workflows (../shared/argo-examples) run unchanged on the box's Argo
controller, with the stand-in images under their public names, and then on the local
executor; the two agree node by node (tests/cluster/skips.yaml lists the random ones)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeline.local import run_manifest
from tests.cluster.box import REPO, Box
from tests.cluster.compare import (
    argo_artifacts,
    argo_nodes,
    differences,
    local_artifacts,
    local_nodes,
)
from tests.conformance.test_argo_examples import EXPECTED_FILES
from tests.conftest import require_shared

pytestmark = pytest.mark.cluster

NAMESPACE = "argo-examples"
BUCKET = "argo-examples"  # the namespace's default artifact repository (manifests/box)
RANDOM = yaml.safe_load((Path(__file__).parent / "skips.yaml").read_text())["random_outcome"]
SHARED_NAMES = sorted(EXPECTED_FILES)  # the conformance suite's list of ../shared/argo-examples
# Outcomes Argo's README states for them (../shared/argo-examples/README.md).
EXPECTED_PHASE = {"dag-continue-on-fail": {"Failed"}, "retry-container": {"Succeeded", "Failed"},
                  "retry-script": {"Succeeded", "Failed"}}


def workflow_doc(path: Path) -> dict[str, Any]:
    [doc] = [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == "Workflow"]
    return dict(doc)


def compare_one(box: Box, path: Path, tmp_path: Path) -> None:
    doc = workflow_doc(path)
    wf = box.run(doc, NAMESPACE, timeout=900)
    name = wf["metadata"]["name"]
    phase = wf["status"]["phase"]
    expected = EXPECTED_PHASE.get(path.stem, {"Succeeded"})
    assert phase in expected, box.describe(name, NAMESPACE)
    here = Path.cwd()
    os.chdir(tmp_path)  # examples that write relative to their WORKDIR write into the test's folder
    try:
        local = run_manifest([doc], parameters={}, state_dir=tmp_path / "local")
    finally:
        os.chdir(here)
    assert local.phase in expected, local.message
    if path.stem in RANDOM:
        return
    assert local.phase == phase
    local_name = local_workflow_name(local)
    assert differences(argo_nodes(wf), local_nodes(local, local_name)) == []
    assert argo_artifacts(wf, box.read_tree, BUCKET) == local_artifacts(local, local_name)


def local_workflow_name(summary: Any) -> str:
    roots = [n for n in summary.nodes if "." not in n.name and "[" not in n.name]
    return str(roots[0].name) if roots else ""


def test_shared_examples_listed() -> None:
    assert len(SHARED_NAMES) == 16
    run = set(yaml.safe_load((Path(__file__).parent / "skips.yaml").read_text())[
        "argo_module_examples"]["run"])
    assert set(RANDOM) <= set(SHARED_NAMES) | run


@pytest.mark.parametrize("name", SHARED_NAMES)
def test_shared_argo_example(box: Box, tmp_path: Path, name: str) -> None:
    compare_one(box, require_shared("argo-examples", f"{name}.yaml"), tmp_path)


MODULE = yaml.safe_load((Path(__file__).parent / "skips.yaml").read_text())[
    "argo_module_examples"]
# make test (scripts/cluster/ci.sh) runs a fixed sample of them; make cluster-test runs all
MODULE_SET = (MODULE["ci_sample"] if os.environ.get("KUBELINE_CLUSTER_SET") == "ci"
              else MODULE["run"])


@cache
def module_examples() -> Path:
    """examples/ of the Argo module scripts/build-argo.sh pins, from the Go module cache."""
    pin = re.search(r'^ARGO_VERSION="(.*)"$', (REPO / "scripts/build-argo.sh").read_text(), re.M)
    assert pin
    done = subprocess.run(["go", "mod", "download", "-json",
                           f"github.com/argoproj/argo-workflows/v4@{pin.group(1)}"],
                          capture_output=True, text=True, check=True, timeout=600,
                          env={**os.environ, "GOFLAGS": "-mod=mod"}, cwd="/")
    return Path(json.loads(done.stdout)["Dir"]) / "examples"


def test_every_module_example_runs_or_says_why_not() -> None:
    on_disk = {p.stem for p in module_examples().glob("*.yaml")}
    listed = set(MODULE["run"]) | {n for names in MODULE["not_run"].values() for n in names}
    assert listed == on_disk
    assert not set(MODULE["run"]) & {n for names in MODULE["not_run"].values() for n in names}
    assert set(MODULE["ci_sample"]) <= set(MODULE["run"])


@pytest.mark.parametrize("name", MODULE_SET)
def test_module_argo_example(box: Box, tmp_path: Path, name: str) -> None:
    compare_one(box, module_examples() / f"{name}.yaml", tmp_path)
