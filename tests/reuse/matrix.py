"""A 4-step pipeline for the reuse tests, with knobs for every change the matrix makes.

    prep (reads DataReference raw, parameter alpha, imports helper.py)
     |-> train (parameter beta)        -|
     |-> evaluate (hash_paths: shared) -|-> report

Runs go through the real pieces in-process: the DSL, the compiler (snapshots published to
the local datastore), the local executor and the runtime shim in every step process.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

STEPS = ("prep", "train", "evaluate", "report")
DATASTORE = Path(".kubeline") / "datastores" / "workspaceblobstore"

PIPELINE = '''
import json
from kubeline import (DataReference, Pipeline, PipelineData, PipelineParameter,
                      PythonScriptStep, RunConfiguration, Workspace)

knobs = json.load(open("knobs.json"))
ws = Workspace.from_config()
store = ws.get_default_datastore()
raw = DataReference(datastore=store, data_reference_name="raw",
                    path_on_datastore=knobs["raw_path"])
alpha = PipelineParameter(name="alpha", default_value=1)
beta = PipelineParameter(name="beta", default_value=2)
prepped = PipelineData("prepped", datastore=store)
model = PipelineData("model", datastore=store)
scores = PipelineData("scores", datastore=store)
report = PipelineData("report", datastore=store)
rc = RunConfiguration()
rc.environment.docker.base_image = knobs["image"]
prep = PythonScriptStep(name="prep", script_name="prep.py", source_directory="steps/prep",
                        arguments=["--raw", raw, "--alpha", alpha, "--out", prepped],
                        inputs=[raw], outputs=[prepped])
train = PythonScriptStep(name="train", script_name="train.py", source_directory="steps/train",
                         arguments=["--data", prepped, "--beta", beta, "--out", model],
                         inputs=[prepped], outputs=[model])
evaluate = PythonScriptStep(name="evaluate", script_name="evaluate.py",
                            source_directory="steps/evaluate",
                            hash_paths=["../../shared/config.json"], runconfig=rc,
                            allow_reuse=knobs["allow_reuse"],
                            arguments=["--data", prepped, "--out", scores],
                            inputs=[prepped], outputs=[scores])
report_step = PythonScriptStep(name="report", script_name="report.py",
                               source_directory="steps/report",
                               arguments=["--model", model, "--scores", scores, "--out", report],
                               inputs=[model, scores], outputs=[report])
pipeline = Pipeline(workspace=ws, steps=[report_step])
'''

SCRIPTS = {
    "steps/prep/prep.py": '''
        import argparse, os, time
        import helper
        p = argparse.ArgumentParser()
        p.add_argument("--raw"); p.add_argument("--alpha"); p.add_argument("--out")
        a = p.parse_args()
        time.sleep(float(os.environ.get("MATRIX_SLEEP", "0")))
        text = open(a.raw).read()
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "data.txt"), "w") as fh:
            fh.write(helper.clean(text) * int(a.alpha))
    ''',
    "steps/prep/helper.py": '''
        def clean(text):
            return text.strip().lower() + "\\n"
    ''',
    "steps/prep/notes.txt": "notes that never reach the snapshot\n",
    "steps/prep/.amlignore": "notes.txt\n",
    "steps/train/train.py": '''
        import argparse, os, time
        p = argparse.ArgumentParser()
        p.add_argument("--data"); p.add_argument("--beta"); p.add_argument("--out")
        a = p.parse_args()
        time.sleep(float(os.environ.get("MATRIX_SLEEP", "0")))
        words = open(os.path.join(a.data, "data.txt")).read().split()
        with open(a.out, "w") as fh:
            fh.write(f"{len(words) * int(a.beta)}\\n")
    ''',
    "steps/evaluate/evaluate.py": '''
        import argparse, os, time
        p = argparse.ArgumentParser()
        p.add_argument("--data"); p.add_argument("--out")
        a = p.parse_args()
        time.sleep(float(os.environ.get("MATRIX_SLEEP", "0")))
        data = open(os.path.join(a.data, "data.txt")).read()
        with open(a.out, "w") as fh:
            fh.write(f"{len(data)}\\n")
    ''',
    "steps/report/report.py": '''
        import argparse, os, time
        p = argparse.ArgumentParser()
        p.add_argument("--model"); p.add_argument("--scores"); p.add_argument("--out")
        a = p.parse_args()
        time.sleep(float(os.environ.get("MATRIX_SLEEP", "0")))
        with open(a.out, "w") as fh:
            fh.write(open(a.model).read() + open(a.scores).read())
    ''',
    "shared/config.json": '{"threshold": 0.5}\n',
}

DEFAULT_KNOBS: dict[str, Any] = {"raw_path": "in/raw.txt", "image": "python:3.11.9-slim",
                                 "allow_reuse": True}


def make_workspace(root: Path) -> Path:
    """Write the workspace (kubeline.yaml, scripts, data, knobs.json) and return it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "kubeline.yaml").write_text("name: matrix\n", encoding="utf-8")
    (root / "pipeline.py").write_text(textwrap.dedent(PIPELINE), encoding="utf-8")
    for rel, text in SCRIPTS.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    write_data(root, "in/raw.txt", "The Cat SAT on the mat\n")
    set_knobs(root)
    return root


def write_data(root: Path, key: str, text: str) -> None:
    path = root / DATASTORE / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def set_knobs(root: Path, **changes: Any) -> None:
    (root / "knobs.json").write_text(json.dumps({**DEFAULT_KNOBS, **changes}), encoding="utf-8")


@contextmanager
def in_workspace(root: Path) -> Iterator[None]:
    old = Path.cwd()
    old_env = os.environ.get("KUBELINE_WORKSPACE")
    os.chdir(root)
    os.environ["KUBELINE_WORKSPACE"] = str(root)
    try:
        yield
    finally:
        os.chdir(old)
        if old_env is None:
            os.environ.pop("KUBELINE_WORKSPACE", None)
        else:
            os.environ["KUBELINE_WORKSPACE"] = old_env


def compile_docs(root: Path) -> list[dict[str, Any]]:
    """The compiled documents (snapshots published to the local datastore)."""
    from kubeline.compiler.api import compile_file

    with in_workspace(root):
        return compile_file(root / "pipeline.py")


def run(root: Path, parameters: Mapping[str, str] | None = None, *, regenerate: bool = False,
        content_aware: bool = False) -> tuple[str, dict[str, Any]]:
    """Compile and run once; (history run id, {step id: StepRecord})."""
    from kubeline.history.db import History
    from kubeline.history.manifest import RunInfo
    from kubeline.local.recorder import run_with_history

    docs = compile_docs(root)
    with in_workspace(root):
        summary, run_id = run_with_history(
            docs, parameters=dict(parameters or {}), state_dir=root / ".kubeline",
            info=RunInfo(started_by="test", workspace=str(root), regenerate_outputs=regenerate,
                         content_aware=content_aware))
    assert summary.phase == "Succeeded", summary.message
    with History(root / ".kubeline") as db:
        steps = {s.step_id: s for s in db.steps(run_id)}
    return run_id, steps


def computed(steps: Mapping[str, Any]) -> set[str]:
    """Steps that ran their script in this run (not reused)."""
    assert all(s.status == "Finished" for s in steps.values()), steps
    return {step for step, s in steps.items() if not s.reused}


def memo_keys(docs: list[dict[str, Any]], parameters: Mapping[str, str], uid: str
              ) -> dict[str, str | None]:
    """Evaluate every task's memoize key expression as Argo would, in DAG order, with the
    local expression evaluator; a task without memoize gets None (it always runs)."""
    from kubeline.local.templating import substitute
    from kubeline.reuse.keys import cache_key

    workflow = next(d for d in docs if d["kind"] == "Workflow")
    values = {p["name"]: str(p.get("value", "")) for p in workflow["spec"]["arguments"]
              ["parameters"]}
    values.update(parameters)
    scope: dict[str, Any] = {f"workflow.parameters.{k}": v for k, v in values.items()}
    scope["workflow.uid"] = uid
    keys: dict[str, str | None] = {}
    tasks = workflow["spec"]["templates"][0]["dag"]["tasks"]
    for task in tasks:
        args = {p["name"]: p["value"] for p in task["arguments"]["parameters"]}
        if "memo-key" in args:
            key = substitute(args["memo-key"], scope, allow_unresolved=False)
        else:  # allow_reuse=False: the shim keys on the run id, which nobody else has
            key = cache_key("no-memoize", [], [], uid + task["name"])
        keys[task["name"]] = key
        scope[f"tasks.{task['name']}.outputs.parameters.key"] = key
    return keys
