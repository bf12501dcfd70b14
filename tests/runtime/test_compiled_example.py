"""The shim on the compiler's real output: compare_models' spec ConfigMap, step by step."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from kubeline.compiler.api import compile_file
from tests.runtime.harness import SRC

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "compare_models"


def test_compare_models_runs_through_the_shim(tmp_path: Path) -> None:
    workspace = tmp_path / "compare_models"
    shutil.copytree(EXAMPLE, workspace, ignore=shutil.ignore_patterns(".kubeline", "build"))
    documents = compile_file(workspace / "pipeline.py")
    (configmap,) = [d for d in documents if d["kind"] == "ConfigMap"]
    workflow = next(d for d in documents if d["kind"] == "Workflow")
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    for name, text in configmap["data"].items():
        (spec_dir / name).write_text(text)
    tasks = workflow["spec"]["templates"][0]["dag"]["tasks"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBELINE_")}
    env.update({"PYTHONPATH": SRC, "KUBELINE_SPEC_DIR": str(spec_dir),
                "KUBELINE_INPUTS_DIR": str(tmp_path / "inputs"),
                "KUBELINE_WORKDIR": str(tmp_path / "work"),
                "KUBELINE_WORKSPACE": str(workspace), "KUBELINE_RUN_ID": "run-1",
                "KUBELINE_PARAMETERS": json.dumps({"pipeline_arg": "20"})})
    keys: dict[str, str] = {}
    for task in tasks:  # the DAG is listed in dependency order
        out_dir = tmp_path / "out" / task["name"]
        upstream = " ".join(f"{p}:{k}" for p, k in sorted(keys.items())
                            if p in task.get("depends", ""))
        done = subprocess.run(
            [sys.executable, "-m", "kubeline.runtime", "--step", task["name"],
             "--upstream", upstream], env={**env, "KUBELINE_OUT_DIR": str(out_dir)},
            cwd=workspace, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        keys[task["name"]] = (out_dir / "key").read_text()
    assert "best model: model_" in done.stdout and "param1=20" in done.stdout
    store = workspace / ".kubeline" / "datastores" / "workspaceblobstore" / "kubeline"
    result = json.loads((store / "runs" / "run-1" / "steps" / "compare-py" / "result.json")
                        .read_text())
    location = store.parent / result["outputs"]["out_data3"]["location"]
    best = json.loads((location / "best.json").read_text())
    assert best["param1"] == 20 and best["best"] in ("model_a", "model_b")
    assert {c["model"] for c in best["candidates"]} == {"model_a", "model_b"}
