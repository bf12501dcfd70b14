"""scripts/cluster/ci.sh, `make test`'s cluster part, with stand-ins for cluster-up,
cluster-down and pytest (the real ones need root and minutes): the box is stopped after a
failing test, after a failing start and on TERM, and a box that was already up is left
running. These run without a box (they are in the default test run)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.cluster.box import REPO

CI = REPO / "scripts" / "cluster" / "ci.sh"


def stand_ins(tmp_path: Path, up: int = 0, tests: int = 0, test_sleep: int = 0
              ) -> dict[str, str]:
    """Scripts that log their calls to tmp_path/calls and exit as told."""
    calls = tmp_path / "calls"
    scripts = {"up": f"echo up >> {calls}; exit {up}",
               "down": f"echo down >> {calls}",
               "python": f"echo pytest \"$@\" >> {calls}; "
                         + (f"exec sleep {test_sleep}" if test_sleep else f"exit {tests}")}
    for name, body in scripts.items():
        path = tmp_path / name
        path.write_text(f"#!/usr/bin/env bash\n{body}\n")
        path.chmod(0o755)
    return {**os.environ, "KUBELINE_CLUSTER_UP": str(tmp_path / "up"),
            "KUBELINE_CLUSTER_DOWN": str(tmp_path / "down"), "PYTHON": str(tmp_path / "python"),
            "KUBELINE_CLUSTER_DIR": str(tmp_path / "state")}


def calls(tmp_path: Path) -> list[str]:
    path = tmp_path / "calls"
    return [line.split()[0] for line in path.read_text().splitlines()] if path.exists() else []


def run_ci(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(CI)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_a_failing_test_still_stops_the_box(tmp_path: Path) -> None:
    done = run_ci(stand_ins(tmp_path, tests=3))
    assert done.returncode == 3
    assert calls(tmp_path) == ["up", "pytest", "down"]
    pytest_line = (tmp_path / "calls").read_text().splitlines()[1]
    assert "-m cluster tests/cluster" in pytest_line


def test_passing_tests_stop_the_box_and_pass(tmp_path: Path) -> None:
    done = run_ci(stand_ins(tmp_path))
    assert done.returncode == 0
    assert calls(tmp_path) == ["up", "pytest", "down"]


def test_a_failing_start_runs_no_test_and_cleans_up(tmp_path: Path) -> None:
    done = run_ci(stand_ins(tmp_path, up=1))
    assert done.returncode == 1
    assert calls(tmp_path) == ["up", "down"]


def test_term_stops_the_box(tmp_path: Path) -> None:
    env = stand_ins(tmp_path, test_sleep=600)
    process = subprocess.Popen(["bash", str(CI)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        while "pytest" not in calls(tmp_path):  # the tests are running
            assert process.poll() is None
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 143  # not after the tests' 600 s
    finally:
        process.kill()
    assert calls(tmp_path)[-1] == "down"


def test_a_box_already_up_is_tested_and_left_running(tmp_path: Path) -> None:
    env = stand_ins(tmp_path, tests=0)
    run = tmp_path / "state" / "run"
    run.mkdir(parents=True)
    (tmp_path / "state" / "up.ok").write_text("x")
    (run / "kube-apiserver.pid").write_text(str(os.getpid()))  # a live process
    done = run_ci(env)
    assert done.returncode == 0
    assert calls(tmp_path) == ["pytest"]
    assert "already up" in done.stderr


def test_an_unknown_set_is_one_line(tmp_path: Path) -> None:
    done = run_ci({**stand_ins(tmp_path), "KUBELINE_CLUSTER_SET": "most"})
    assert done.returncode == 2
    assert calls(tmp_path) == []
    assert done.stderr.strip().count("\n") == 0 and "neither ci nor all" in done.stderr


def _dry_run(target: str) -> list[str]:
    """What `make -n TARGET` would run (also when the suite itself runs under make)."""
    done = subprocess.run(["make", "--no-print-directory", "-n", target], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.splitlines()


def test_make_cluster_ci_installs_then_runs_the_cluster_part_last() -> None:
    lines = _dry_run("cluster-ci")
    assert lines[0].startswith("bash scripts/install.sh --test")
    assert lines[-1] == "bash scripts/cluster/ci.sh"
