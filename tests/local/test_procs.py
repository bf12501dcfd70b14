"""procs: a node's process group kill takes bubblewrap's pid 1 however early it lands, and
the run's mark finds processes that left their session and lost their parent."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from kubeline.local import procs

from .procscan import holders

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
# forks a child that makes its own session and outlives its parent, as a daemon does
DAEMON = ("import os, time\n"
          "if os.fork() == 0:\n"
          "    os.setsid()\n"
          "    time.sleep(600)\n")


def _gone(marker: str, seconds: float = 5) -> list[int]:
    deadline = time.monotonic() + seconds
    while holders(marker) and time.monotonic() < deadline:
        time.sleep(0.02)
    return holders(marker)


@pytest.mark.parametrize("bwrap", [
    False,
    pytest.param(True, marks=pytest.mark.skipif(shutil.which("bwrap") is None,
                                                reason="bubblewrap is not installed"))])
def test_a_kill_at_any_moment_of_a_start_leaves_nothing(tmp_path: Path, bwrap: bool) -> None:
    """Killing only bubblewrap's first pid soon after its start can leave its pid 1 (which
    has not yet tied itself to it) running the program, re-parented to init: the kill takes
    the whole process group, so nothing survives whenever it lands."""
    marker = uuid.uuid4().hex
    env = {**os.environ, "KILL_MARKER": marker}
    wrapper = ["bwrap", "--die-with-parent", "--unshare-pid", "--dev-bind", "/", "/", "--"]
    argv = [*wrapper, *SLEEPER] if bwrap else SLEEPER

    async def start_and_kill(delay: float) -> int:
        child = procs.start(argv, env=env, cwd=str(tmp_path), stdout=tmp_path / "out",
                            stderr=tmp_path / "err", bwrap=bwrap)
        await asyncio.sleep(delay)
        procs.kill(child.pid)
        return await child.wait()

    for delay in (0, 0, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.2):
        assert asyncio.run(start_and_kill(delay)) == -signal.SIGKILL
        assert _gone(marker) == [], f"a process survived a kill {delay} s after its start"


def test_sweep_kills_what_left_its_session_and_parent(tmp_path: Path) -> None:
    run, other = uuid.uuid4().hex, uuid.uuid4().hex
    marker = uuid.uuid4().hex
    for uid in (run, other):
        subprocess.run([sys.executable, "-c", DAEMON], check=True, env={
            **os.environ, procs.RUN_MARK: uid, "KILL_MARKER": marker})
    deadline = time.monotonic() + 30
    while len(holders(marker)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    daemons = holders(marker)
    assert len(daemons) == 2, "both daemons should run, re-parented away from this test"
    try:
        killed = [int(text.split()[0]) for text in procs.sweep(run, grace=0)]
        assert len(killed) == 1 and killed[0] in daemons
        survivor = [pid for pid in daemons if pid not in killed]
        assert holders(marker) == survivor, "only the run's own process is killed"
        assert procs.sweep(run) == [], "a second sweep finds nothing"
    finally:
        procs.sweep(other, grace=0)
    assert _gone(marker) == []


def test_a_process_is_waited_for_without_pidfds(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels before 5.3 have no pidfd_open: a thread waits instead, with the same codes."""
    def no_pidfd(pid: int, flags: int = 0) -> int:
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(os, "pidfd_open", no_pidfd)

    async def run(argv: list[str]) -> int:
        child = procs.start(argv, env=dict(os.environ), cwd=str(tmp_path),
                            stdout=tmp_path / "out", stderr=tmp_path / "out", bwrap=False)
        return await child.wait()

    assert asyncio.run(run([sys.executable, "-c", "print('hi'); raise SystemExit(3)"])) == 3
    assert (tmp_path / "out").read_text() == "hi\n"
