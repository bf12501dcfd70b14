"""The peer tools (hera, Kubeflow Pipelines) in their own virtualenv, timed by the shared script.

The peers are pinned in ``.bench-venv`` at the repository root so their pins never touch
kubeline's environment. Their timing script lives in ``../shared/bench`` and is run from
there, unchanged, one fresh interpreter per run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# ../shared next to the repository; KUBELINE_SHARED points elsewhere (e.g. from a worktree)
SHARED_BENCH = (Path(os.environ.get("KUBELINE_SHARED") or REPO / ".." / "shared")
                / "bench").resolve()
ANCHOR = "anchor_compile.py"
VENV = REPO / ".bench-venv"
PINS = ("kfp==2.17.3", "hera==7.1.0")
_LINE = re.compile(r"^(?P<tool>\w+) n=(?P<n>\d+) compile_s=(?P<s>[0-9.]+) bytes=(?P<b>\d+)$",
                   re.MULTILINE)


class PeerError(Exception):
    """A peer could not be set up or run; the message says what to do."""


@dataclass(frozen=True)
class PeerRun:
    """One run of the anchor script: its own timed seconds and its YAML size in bytes."""

    seconds: float
    size: int
    wall: float


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _installed(python: Path) -> bool:
    probe = ("import importlib.metadata as m; "
             "print(m.version('kfp'), m.version('hera'))")
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True,
                          check=False)
    wanted = " ".join(p.split("==")[1] for p in PINS)
    return done.returncode == 0 and done.stdout.strip() == wanted


def ensure_venv(log: bool = True) -> Path:
    """The peer venv's python, creating the venv and installing the pins when needed."""
    if not (SHARED_BENCH / ANCHOR).is_file():
        raise PeerError(f"{SHARED_BENCH / ANCHOR} not found "
                        "(the peers' script lives in ../shared/bench; or pass --no-peers)")
    python = venv_python()
    if python.is_file() and _installed(python):
        return python
    if log:
        print(f"setting up {VENV.name} with {' '.join(PINS)} (once) ...", flush=True)
    steps = [[sys.executable, "-m", "venv", str(VENV)]] if not python.is_file() else []
    steps.append([str(python), "-m", "pip", "install", "-q", *PINS])
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise PeerError(f"'{' '.join(cmd[:4])} ...' failed: {tail[0]} "
                            "(check network access to PyPI, or pass --no-peers)")
    if not _installed(python):
        raise PeerError(f"{VENV} does not hold {' '.join(PINS)} after install "
                        f"(delete {VENV} and retry, or pass --no-peers)")
    return python


def run_anchor(python: Path, tool: str, n: int, timeout: float) -> PeerRun | None:
    """One fresh-process run of the shared script; None when it ran past the timeout."""
    start = time.perf_counter()
    try:
        done = subprocess.run([str(python), ANCHOR, tool, str(n)], cwd=SHARED_BENCH,
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    wall = time.perf_counter() - start
    match = _LINE.search(done.stdout)
    if done.returncode != 0 or match is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PeerError(f"{ANCHOR} {tool} {n} failed (exit {done.returncode}): {tail[0]}")
    return PeerRun(seconds=float(match["s"]), size=int(match["b"]), wall=wall)
