"""Build small pipelines in a temp workspace, for tests of the DSL, graph and compilers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from kubeline import Pipeline, PipelineData, PythonScriptStep, Workspace

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"

SCRIPT = "import sys\nprint('args', sys.argv[1:])\n"


def workspace(root: Path, yaml_text: str = "name: test\n") -> Workspace:
    """A workspace rooted at root, with a scripts/ folder holding step.py."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "kubeline.yaml").write_text(yaml_text, encoding="utf-8")
    scripts = root / "scripts"
    scripts.mkdir(exist_ok=True)
    (scripts / "step.py").write_text(SCRIPT, encoding="utf-8")
    return Workspace(_root=root)


def chain(ws: Workspace, n: int, **step_kwargs: Any) -> Pipeline:
    """n steps, each consuming the previous step's PipelineData."""
    steps, prev = [], None
    for i in range(n):
        out = PipelineData(f"out{i}")
        inputs = [prev] if prev is not None else []
        args: list[Any] = ["--out", out] + (["--in", prev] if prev is not None else [])
        steps.append(PythonScriptStep("step.py", name=f"s{i}", arguments=args, inputs=inputs,
                                      outputs=[out], source_directory="scripts", **step_kwargs))
        prev = out
    pipeline = Pipeline(ws, steps=steps)
    pipeline._base_dir = ws.root
    return pipeline


def example(name: str, dest: Path) -> Path:
    """A fresh copy of examples/<name>, outside git and without state from earlier runs."""
    target = dest / name
    shutil.copytree(EXAMPLES / name, target,
                    ignore=shutil.ignore_patterns(".kubeline", "out", "__pycache__", "build"))
    return target


def copy_example(name: str, dest: Path) -> Path:
    """example(), returning the copy's pipeline.py."""
    return example(name, dest) / "pipeline.py"


def kubeline(*args: str, cwd: Path, env: dict[str, str] | None = None,
             check: bool = True) -> subprocess.CompletedProcess[str]:
    """The real ``kubeline`` command (``python -m kubeline.cli``) in a subprocess."""
    done = subprocess.run([sys.executable, "-m", "kubeline.cli", *args], cwd=cwd, text=True,
                          capture_output=True, env={**os.environ, **(env or {})}, timeout=900,
                          check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"kubeline {' '.join(args)} exited {done.returncode}\n"
                             f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return done
