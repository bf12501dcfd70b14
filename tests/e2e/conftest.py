"""End-to-end helpers: copy an example or write a small workspace, run kubeline for real.

Runs go through the real pieces: the compiler, the local executor (a child process for
Experiment.submit, the ``kubeline`` command in a subprocess), the runtime shim in every step,
the datastores (local folders, moto's S3 server, Azurite) and the SQLite run history.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.pipelines import EXAMPLES, REPO, example, kubeline  # noqa: F401


def python(script: Path, cwd: Path, env: dict[str, str] | None = None,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    """``python script`` as a user runs it (the AML style)."""
    done = subprocess.run([sys.executable, str(script)], cwd=cwd, text=True,
                          capture_output=True, env={**os.environ, **(env or {})}, timeout=600,
                          check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"python {script.name} exited {done.returncode}\n"
                             f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return done


def runs_json(cwd: Path, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(kubeline("runs", "list", "--json", cwd=cwd,
                                                     env=env).stdout)
    return data


def show_json(run_id: str, cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(kubeline("runs", "show", run_id, "--json", cwd=cwd,
                                               env=env).stdout)
    return data


WORDS_COUNT = '''
"""Count words of the input file; --fail N exits with N after writing to stderr."""
import argparse, json, os, sys, time
from kubeline import Run

p = argparse.ArgumentParser()
p.add_argument("--input", required=True)
p.add_argument("--output", required=True)
p.add_argument("--fail", type=int, default=0)
p.add_argument("--sleep", type=float, default=0)
a = p.parse_args()
time.sleep(a.sleep)
if a.fail:
    print("counting words", flush=True)
    print(f"boom: the input is not what count.py expected (fail={a.fail})", file=sys.stderr)
    sys.exit(a.fail)
words = open(a.input).read().split()
counts = {}
for w in words:
    counts[w] = counts.get(w, 0) + 1
os.makedirs(a.output, exist_ok=True)
json.dump(counts, open(os.path.join(a.output, "counts.json"), "w"), sort_keys=True)
run = Run.get_context()
run.log("words", len(words))
run.log("distinct", len(counts))
run.parent.log("input_words", len(words))
print(f"{len(words)} words")
'''

WORDS_TOP = '''
"""Write the most frequent word and log its count."""
import argparse, json, os
from kubeline import Run

p = argparse.ArgumentParser()
p.add_argument("--counted", required=True)
p.add_argument("--report", required=True)
a = p.parse_args()
counts = json.load(open(os.path.join(a.counted, "counts.json")))
word, count = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
os.makedirs(a.report, exist_ok=True)
json.dump({"word": word, "count": count}, open(os.path.join(a.report, "top.json"), "w"))
Run.get_context().log("top_count", count)
'''

WORDS_PIPELINE = '''
"""Two steps: count the words of a datastore file, then report the most frequent one."""
from kubeline import (DataReference, Experiment, Pipeline, PipelineData, PipelineParameter,
                      PythonScriptStep, Workspace)

ws = Workspace.from_config()
store = ws.get_default_datastore()
store.upload_files(["data/words.txt"], target_path="in", overwrite=True, show_progress=False)
words = DataReference(datastore=store, data_reference_name="words",
                      path_on_datastore="in/words.txt")
fail = PipelineParameter(name="fail", default_value=0)
sleep = PipelineParameter(name="sleep", default_value=0)
counted = PipelineData("counted", datastore=store)
report = PipelineData("report", datastore=store)
count_step = PythonScriptStep(
    name="count", script_name="count.py", source_directory="steps",
    arguments=["--input", words, "--output", counted, "--fail", fail, "--sleep", sleep],
    inputs=[words], outputs=[counted])
top_step = PythonScriptStep(
    name="top", script_name="top.py", source_directory="steps",
    arguments=["--counted", counted, "--report", report], inputs=[counted], outputs=[report])
pipeline = Pipeline(workspace=ws, steps=[top_step])

if __name__ == "__main__":
    run = Experiment(ws, "words").submit(pipeline)
    run.wait_for_completion(show_output=True)
    print("steps:", [s.name for s in run.get_steps()])
'''

WORDS = "the cat and the dog and the bird\n"


def words_workspace(root: Path, config: str = "name: words\n") -> Path:
    """A workspace folder with kubeline.yaml, data/words.txt, steps/ and pipeline.py."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "kubeline.yaml").write_text(config, encoding="utf-8")
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "words.txt").write_text(WORDS, encoding="utf-8")
    (root / "steps").mkdir(exist_ok=True)
    (root / "steps" / "count.py").write_text(textwrap.dedent(WORDS_COUNT), encoding="utf-8")
    (root / "steps" / "top.py").write_text(textwrap.dedent(WORDS_TOP), encoding="utf-8")
    (root / "pipeline.py").write_text(textwrap.dedent(WORDS_PIPELINE), encoding="utf-8")
    return root


def load_pipeline(folder: Path) -> dict[str, Any]:
    """Execute pipeline.py in-process (not as __main__) and return its globals."""
    import runpy

    return runpy.run_path(str(folder / "pipeline.py"), run_name="e2e_pipeline")
