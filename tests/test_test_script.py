"""scripts/test.sh, what `make test` (and so CI) runs: the unit suite and the cluster part
side by side, with stand-ins for both (the real ones take minutes). Either half failing
fails the whole; the cluster part's output is shown after the unit suite's; TERM stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cluster.box import REPO

SCRIPT = REPO / "scripts" / "test.sh"


def stand_ins(tmp_path: Path, unit: int = 0, cluster: int = 0, cluster_sleep: float = 0.5,
              unit_sleep: float = 0) -> dict[str, str]:
    """A `python` whose `-m pytest` logs its arguments and exits as told, and a cluster part
    that prints a line, sleeps, and exits as told (each call logged in tmp_path/calls)."""
    calls = tmp_path / "calls"
    def nap(seconds: float) -> str:  # a long one is exec'd: a signal then ends it, no orphan
        return f"exec sleep {seconds}" if seconds >= 100 else f"sleep {seconds}"

    scripts = {
        "python": f'echo "unit $*" >> {calls}; {nap(unit_sleep)}; exit {unit}',
        "cluster": f'echo cluster-start >> {calls}; echo "cluster says hello"; '
                   f'{nap(cluster_sleep)}; echo cluster-end >> {calls}; exit {cluster}',
    }
    for name, body in scripts.items():
        path = tmp_path / name
        path.write_text(f"#!/usr/bin/env bash\n{body}\n")
        path.chmod(0o755)
    return {**os.environ, "PYTHON": str(tmp_path / "python"),
            "KUBELINE_TEST_CLUSTER_CI": str(tmp_path / "cluster"),
            "KUBELINE_TEST_CLUSTER_LOG": str(tmp_path / "cluster.log")}


def calls(tmp_path: Path) -> list[str]:
    path = tmp_path / "calls"
    return path.read_text().splitlines() if path.exists() else []


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_both_halves_pass_and_the_cluster_output_follows_the_units(tmp_path: Path) -> None:
    done = run(stand_ins(tmp_path), "-x")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unit -m pytest -q -p no:cacheprovider -x" in calls(tmp_path)
    assert {"cluster-start", "cluster-end"} <= set(calls(tmp_path))
    out = done.stdout
    assert out.index("the unit suite exited 0") < out.index("cluster says hello")
    assert out.rstrip().endswith("unit suite exit 0, cluster part exit 0")


def test_the_halves_run_side_by_side(tmp_path: Path) -> None:
    """The unit suite starts while the cluster part still runs (not after it)."""
    done = run(stand_ins(tmp_path, cluster_sleep=3))
    assert done.returncode == 0
    order = [line.split()[0] for line in calls(tmp_path)]
    assert order.index("unit") < order.index("cluster-end")


def test_a_failing_cluster_part_fails_the_run(tmp_path: Path) -> None:
    done = run(stand_ins(tmp_path, cluster=4))
    assert done.returncode == 4
    assert "cluster says hello" in done.stdout  # its output is shown


def test_a_failing_unit_suite_fails_the_run_after_the_cluster_part(tmp_path: Path) -> None:
    done = run(stand_ins(tmp_path, unit=1))
    assert done.returncode == 1
    assert "cluster-end" in calls(tmp_path)  # the box is still stopped by its own script
    assert "cluster says hello" in done.stdout


def test_unit_only_when_asked(tmp_path: Path) -> None:
    done = run({**stand_ins(tmp_path), "KUBELINE_TEST_CLUSTER": "0"})
    assert done.returncode == 0
    assert [line.split()[0] for line in calls(tmp_path)] == ["unit"]


def as_from_a_terminal() -> None:
    """SIGINT at its default, whatever this suite was started with (nohup, `cmd &`)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def as_a_background_job() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("start", [as_from_a_terminal, as_a_background_job])
def test_term_stops_both_halves(tmp_path: Path, start: Callable[[], None]) -> None:
    """Started with SIGINT ignored, the unit suite cannot be interrupted: it gets TERM
    after the grace (2 s here)."""
    env = {**stand_ins(tmp_path, cluster_sleep=600, unit_sleep=600),
           "KUBELINE_TEST_INT_GRACE": "2"}
    process = subprocess.Popen(["bash", str(SCRIPT)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, preexec_fn=start)
    try:
        deadline = time.monotonic() + 60
        while not {"unit", "cluster-start"} <= {line.split()[0] for line in calls(tmp_path)}:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 143  # not after the halves' 600 s
    finally:
        process.kill()


def test_term_after_the_unit_suite_stops_the_cluster_part(tmp_path: Path) -> None:
    """While the script shows the cluster part's log (the unit suite done), TERM still ends
    it at once: the log is followed in the background and waited for."""
    env = stand_ins(tmp_path, cluster_sleep=600)
    process = subprocess.Popen(["bash", str(SCRIPT)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True,
                               preexec_fn=as_from_a_terminal)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "the unit suite exited 0" in line:
                break
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 143
    finally:
        process.kill()


def test_make_test_installs_then_runs_this_script() -> None:
    done = subprocess.run(["make", "--no-print-directory", "-n", "test"], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=True)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("bash scripts/install.sh --test")
    assert lines[-1] == "bash scripts/test.sh"


def test_term_lets_the_unit_suite_tear_its_fixtures_down(tmp_path: Path) -> None:
    """The unit suite gets SIGINT (pytest's KeyboardInterrupt: fixtures, servers among them,
    are torn down), not a TERM that would orphan their processes."""
    (tmp_path / "test_slow.py").write_text(
        "import pathlib, time, pytest\n"
        "@pytest.fixture\n"
        "def server():\n"
        f"    yield\n    pathlib.Path({str(tmp_path / 'torn-down')!r}).write_text('x')\n"
        "def test_slow(server):\n"
        f"    pathlib.Path({str(tmp_path / 'started')!r}).write_text('x')\n"
        "    time.sleep(600)\n")
    env = {**stand_ins(tmp_path, cluster_sleep=600), "PYTHON": sys.executable}
    process = subprocess.Popen(  # as from a terminal: SIGINT not ignored
        ["bash", str(SCRIPT), str(tmp_path / "test_slow.py")], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=as_from_a_terminal)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "started").exists():
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 143
    finally:
        process.kill()
    assert (tmp_path / "torn-down").exists()
