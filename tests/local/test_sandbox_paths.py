"""What the runner imports from stays visible in the sandbox, even under /tmp (a virtualenv
or a checkout in /tmp, as CI may have), while each node keeps its own private /tmp."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

PIPELINE = """
from kubeline import Pipeline, PythonScriptStep, Workspace
ws = Workspace.from_config()
pipeline = Pipeline(ws, steps=[PythonScriptStep("use_lib.py", name="use-lib",
                                                source_directory="scripts")])
"""


def test_imports_from_tmp_are_visible_in_the_sandbox(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="kubeline-lib-") as libs:
        Path(libs, "kl_probe_lib.py").write_text("VALUE = 'from /tmp'\n", encoding="utf-8")
        (tmp_path / "scripts").mkdir()
        (tmp_path / "scripts" / "use_lib.py").write_text(
            "import kl_probe_lib\nprint('lib says', kl_probe_lib.VALUE)\n", encoding="utf-8")
        (tmp_path / "pipeline.py").write_text(PIPELINE, encoding="utf-8")
        (tmp_path / "kubeline.yaml").write_text("name: paths\n", encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [libs, *filter(None, [os.environ.get("PYTHONPATH")])])}
        done = subprocess.run([sys.executable, "-m", "kubeline.cli", "run", "pipeline.py"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
        assert "phase:   Succeeded" in done.stdout, done.stdout + done.stderr
        run_id = done.stdout.split()[1]
        logs = subprocess.run([sys.executable, "-m", "kubeline.cli", "runs", "logs", run_id],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              check=False)
        assert "lib says from /tmp" in logs.stdout, logs.stdout + logs.stderr


def test_compiled_pipeline_runs_without_bubblewrap(tmp_path: Path) -> None:
    """The documented fallback: paths the manifest names are relocated per node."""
    from tests.pipelines import copy_example

    pipeline = copy_example("compare_models", tmp_path)
    env = {**os.environ, "KUBELINE_SANDBOX": "none"}
    done = subprocess.run([sys.executable, "-m", "kubeline.cli", "run", "pipeline.py"],
                          cwd=pipeline.parent, env=env, capture_output=True, text=True,
                          check=False)
    assert "(sandbox: none)" in done.stderr + done.stdout
    assert "phase:   Succeeded" in done.stdout, done.stdout + done.stderr
    best = list((pipeline.parent / "out").rglob("best.json"))  # downloaded by its __main__
    assert best and '"best": "model_' in best[0].read_text(encoding="utf-8")
