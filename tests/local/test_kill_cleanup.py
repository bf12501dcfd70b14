"""Killing the runner with SIGKILL leaves no step process behind (a pod's pid namespace)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from kubeline.local.sandbox import detect_mode

from .procscan import holders, kill_and_wait

SCRIPT = """
import os, sys, time
with open(os.environ["PID_FILE"], "w") as handle:
    handle.write(str(os.getpid()))
time.sleep(120)
"""

PIPELINE = """
from kubeline import Pipeline, PythonScriptStep, Workspace
ws = Workspace.from_config()
pipeline = Pipeline(ws, steps=[PythonScriptStep("sleeper.py", name="sleeper",
                                                source_directory="scripts")])
"""


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _runner_with_step(tmp_path: Path, marker: str, sigint_ignored: bool = False
                      ) -> subprocess.Popen[bytes]:
    """`kubeline run` of a one-step pipeline whose script is running (it wrote its pid);
    sigint_ignored starts it as a non-interactive shell's background job is started."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "sleeper.py").write_text(SCRIPT, encoding="utf-8")
    (tmp_path / "pipeline.py").write_text(PIPELINE, encoding="utf-8")
    (tmp_path / "kubeline.yaml").write_text("name: kill\n", encoding="utf-8")
    pid_file = tmp_path / "script.pid"
    env = {**os.environ, "PID_FILE": str(pid_file), "KILL_MARKER": marker}
    runner = subprocess.Popen([sys.executable, "-m", "kubeline.cli", "run", "pipeline.py"],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE,
                              preexec_fn=_ignore_sigint if sigint_ignored else None)
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not pid_file.exists():
        runner.kill()
        raise AssertionError(f"the step never started: {runner.communicate()[1]!r}")
    return runner


@pytest.mark.skipif(detect_mode() != "bwrap", reason="needs bubblewrap (the install installs it)")
def test_sigkill_of_the_runner_kills_the_step_script(tmp_path: Path) -> None:
    marker = uuid.uuid4().hex
    runner = _runner_with_step(tmp_path, marker)
    try:
        assert len(holders(marker, folder=tmp_path)) >= 3, \
            "runner, shim and script should all be running"
        assert kill_and_wait(runner, marker, tmp_path) == [], \
            "step processes outlived the killed runner"
    finally:
        if runner.poll() is None:
            runner.kill()


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["sigint-default", "sigint-ignored"])
def test_sigterm_stops_kubeline_run_and_its_steps(tmp_path: Path, sigint_ignored: bool) -> None:
    """A service manager's or CI's SIGTERM stops `kubeline run` as Ctrl-C does: the steps
    are killed by the runner itself and the run is recorded as canceled. Also when it was
    started with SIGINT ignored (`cmd &` in a script, nohup), which Python would inherit."""
    marker = uuid.uuid4().hex
    runner = _runner_with_step(tmp_path, marker, sigint_ignored)
    try:
        runner.terminate()
        _, err = runner.communicate(timeout=60)
        assert runner.returncode == 1, err
        assert b"outlived their step" not in err, err
        assert holders(marker, folder=tmp_path) == [], "step processes outlived the runner"
        history = subprocess.run([sys.executable, "-m", "kubeline.cli", "runs", "list"],
                                 cwd=tmp_path, capture_output=True, text=True,
                                 check=True).stdout
        assert "Canceled" in history, history
    finally:
        if runner.poll() is None:
            runner.kill()
