"""kubeline.cluster.reuse on this machine: the rewritten manifest, run by the local executor
(the same Argo semantics the box's controller applies: tests/cluster/test_reuse_on_box.py runs
it there), Skips reused steps and hands their keys on, in both manifest shapes: compact
tasks (the default) and keyed tasks (``cluster.argo_memoize: true``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from kubeline.cluster.reuse import KEYED_SUFFIX, REUSED_ANNOTATION, ReuseError, resolve_reuse
from kubeline.local import run_manifest
from tests.cluster.box import load_docs
from tests.cluster.test_reuse_on_box import LENGTH, PIPELINE, STEP
from tests.pipelines import kubeline

CONFIGS = {"compact": "name: test\n",
           "memoize": "name: test\ncluster:\n  argo_memoize: true\n"}


def compiled(tmp_path: Path, shape: str) -> tuple[Path, list[dict[str, Any]]]:
    root = tmp_path / "chain"
    (root / "scripts").mkdir(parents=True)
    (root / "kubeline.yaml").write_text(CONFIGS[shape])
    (root / "scripts" / "step.py").write_text(STEP.format(nonce="local"))
    (root / "pipeline.py").write_text(PIPELINE)
    kubeline("compile", "pipeline.py", "-o", "build", cwd=root)
    return root, load_docs(root / "build")


def with_bump(docs: list[dict[str, Any]], bump: int) -> dict[str, Any]:
    [wf] = [d for d in docs if d["kind"] == "Workflow"]
    wf = json.loads(json.dumps(wf))
    for p in wf["spec"]["arguments"]["parameters"]:
        if p["name"] == "bump":
            p["value"] = str(bump)
    return dict(wf)


def run(docs: list[dict[str, Any]], wf: dict[str, Any], state: Path) -> Any:
    """The local executor on the manifest, in the workspace (its local datastore's root)."""
    configmaps = [d for d in docs if d["kind"] == "ConfigMap"]
    here = Path.cwd()
    os.chdir(state.parent / "chain")
    try:
        summary = run_manifest([*configmaps, wf], parameters={}, state_dir=state)
    finally:
        os.chdir(here)
    assert summary.phase == "Succeeded", summary.message
    return summary


def phases(summary: Any) -> dict[str, str]:
    return {f"s{i}": summary.node(f"s{i}").phase for i in range(LENGTH)}


@pytest.mark.parametrize("shape", sorted(CONFIGS))
def test_reused_steps_are_skipped_and_consumers_get_their_keys(tmp_path: Path,
                                                               shape: str) -> None:
    root, docs = compiled(tmp_path, shape)
    first = resolve_reuse(with_bump(docs, 0), root, docs)
    assert first.reused == {} and first.workflow == with_bump(docs, 0)  # nothing stored yet
    run(docs, first.workflow, tmp_path / "state")

    again = resolve_reuse(with_bump(docs, 0), root, docs)
    assert sorted(again.reused) == [f"s{i}" for i in range(LENGTH)]
    annotation = json.loads(again.workflow["metadata"]["annotations"][REUSED_ANNOTATION])
    assert sorted(annotation) == sorted(s.step_id for s in again.reused.values())
    summary = run(docs, again.workflow, tmp_path / "state")
    assert set(phases(summary).values()) == {"Skipped"}
    assert summary.processes_started == 0

    # A changed parameter of the last step: the others stay Skipped, the last runs on the
    # outputs they reuse (its number is the chain's plus the bump).
    bumped = resolve_reuse(with_bump(docs, 10), root, docs)
    last = f"s{LENGTH - 1}"
    assert sorted(bumped.reused) == [f"s{i}" for i in range(LENGTH - 1)]
    tasks = {t["name"]: t for t in bumped.workflow["spec"]["templates"][0]["dag"]["tasks"]}
    consumer = tasks[bumped_id(bumped, docs, last)]
    upstream = {p["name"]: p["value"] for p in consumer["arguments"]["parameters"]}["upstream"]
    producer = bumped.reused[f"s{LENGTH - 2}"]
    assert upstream == f"{producer.step_id}:{producer.outputs_key}"
    if shape == "compact":
        assert consumer["template"].endswith(KEYED_SUFFIX)
    summary = run(docs, bumped.workflow, tmp_path / "state")
    assert phases(summary) == {**{f"s{i}": "Skipped" for i in range(LENGTH - 1)},
                               last: "Succeeded"}
    done = resolve_reuse(with_bump(docs, 10), root, docs).reused[last]
    [out] = done.hit["outputs"].values()
    store = bumped.stores.get(out["datastore"]) if bumped.stores else None
    assert store is not None
    assert store.get_bytes(f"{out['location'].rstrip('/')}/v.txt") == str(LENGTH + 10).encode()


def bumped_id(plan: Any, docs: list[dict[str, Any]], name: str) -> str:
    """The step id of a step name (the task's name) from the spec ConfigMap."""
    [cm] = [d for d in docs if d["kind"] == "ConfigMap"]
    for key, text in cm["data"].items():
        if key.startswith("step.") and json.loads(text).get("name", key[5:-5]) == name:
            return str(key[5:-5])
    raise AssertionError(f"no step named {name}")


def test_regenerate_resolves_nothing(tmp_path: Path) -> None:
    root, docs = compiled(tmp_path, "compact")
    run(docs, with_bump(docs, 0), tmp_path / "state")
    wf = with_bump(docs, 0)
    for p in wf["spec"]["arguments"]["parameters"]:
        if p["name"] == "kubeline-regenerate-outputs":
            p["value"] = "true"
    plan = resolve_reuse(wf, root, docs)
    assert plan.reused == {} and plan.workflow == wf


def test_documents_without_the_spec_are_one_line(tmp_path: Path) -> None:
    root, docs = compiled(tmp_path, "compact")
    with pytest.raises(ReuseError) as info:
        resolve_reuse(with_bump(docs, 0), root, [])
    assert "no step spec ConfigMap" in str(info.value) and "\n" not in str(info.value)
