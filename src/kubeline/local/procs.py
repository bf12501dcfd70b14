"""Starting and killing a node's process: one place, so a pre-started (warm) process and a
cold one get the same session, stdio, environment and death-with-the-runner guarantee."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
from pathlib import Path

PYTHON_NAMES = ("python", "python3")  # commands that run this machine's interpreter


def _set_pdeathsig() -> None:  # pragma: no cover - runs in the child
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)


async def start(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: str,
    stdout: Path,
    stderr: Path,
    bwrap: bool,
    stdin_pipe: bool = False,
) -> asyncio.subprocess.Process:
    """Start argv in its own session with stdout/stderr to (truncated) files. Without
    bubblewrap (whose --die-with-parent does it) the kernel kills it when the runner dies."""
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin_pipe else asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=env,
            start_new_session=True,
            preexec_fn=None if bwrap else _set_pdeathsig,
        )


def kill(pid: int) -> None:
    """SIGKILL the process group a node's process leads (it may be gone already)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
