"""Starting, waiting for and killing a node's processes: one place, so a pre-started (warm)
process, a cold one and the fork server get the same session, stdio, environment and
death-with-the-run guarantees (docs/decisions/0017-cancel-leaves-nothing.md).

A process is created with one synchronous call (no await between the fork and the caller
holding the pid, so a cancel cannot land halfway and leave a process nobody kills) and
waited for through a pidfd on the event loop. Every process gets ``RUN_MARK=<run uid>`` in
its environment: processes that lost their parentage (a bubblewrap pid 1 whose outer
process died before it armed ``--die-with-parent``, a script that left its session in the
fallback without bubblewrap) are still found by it, and ``sweep`` kills them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

PYTHON_NAMES = ("python", "python3")  # commands that run this machine's interpreter
RUN_MARK = "KUBELINE_LOCAL_RUN"  # in the environment of every process a run starts
PR_SET_PDEATHSIG = 1
_SIGKILL_BIT = 1 << (signal.SIGKILL - 1)  # in /proc/<pid>/status SigPnd and ShdPnd


def _pdeathsig(parent: int) -> None:  # pragma: no cover - runs in the child
    """SIGKILL when the runner dies; exit at once if it died before the kernel was told."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


class Child:
    """A started process, waited for by the event loop through a pidfd (no watcher thread,
    and nothing between the fork and this object that a cancel could interrupt)."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen
        self.pid = popen.pid
        self.stdin: IO[bytes] | None = popen.stdin
        self._loop = asyncio.get_running_loop()
        self._done: asyncio.Future[int] = self._loop.create_future()
        try:
            self._pidfd = os.pidfd_open(popen.pid)
        except OSError:  # a kernel before 5.3: a thread of the loop's pool waits instead
            waiter = self._loop.run_in_executor(None, popen.wait)
            waiter.add_done_callback(lambda _: self._finished())
            return
        self._loop.add_reader(self._pidfd, self._exited)

    def _exited(self) -> None:
        self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        self._finished()

    def _finished(self) -> None:
        code = self.popen.wait()
        if not self._done.done():
            self._done.set_result(code)

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

    async def wait(self) -> int:
        """The exit code (negative: the signal that killed it), as asyncio's Process says."""
        return await asyncio.shield(self._done)


def start(
    argv: Sequence[str],
    *,
    env: dict[str, str],
    cwd: str,
    stdout: Path,
    stderr: Path,
    bwrap: bool,
    stdin_pipe: bool = False,
    append: bool = False,
    pass_fds: tuple[int, ...] = (),
) -> Child:
    """Start argv in its own session (its process group is what ``kill`` kills) with
    stdout/stderr to files (truncated unless append; one file may be both). Without
    bubblewrap (whose --die-with-parent does it) the kernel kills it when the runner dies."""
    mode = "ab" if append else "wb"
    with open(stdout, mode) as out, (open(stderr, mode) if stderr != stdout
                                     else contextlib.nullcontext(out)) as err:
        parent = os.getpid()
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=env,
            start_new_session=True,
            pass_fds=pass_fds,
            preexec_fn=None if bwrap else lambda: _pdeathsig(parent),
        )
    try:
        return Child(popen)
    except BaseException:
        kill(popen.pid)
        popen.wait()
        raise


def kill(pid: int) -> None:
    """SIGKILL the process group a node's process leads (it may be gone already). Under
    bubblewrap that group holds bubblewrap's pid 1 too, whose death ends its pid namespace:
    everything the step started, whatever session it made."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _marked(mark: bytes) -> Iterator[tuple[int, bool]]:
    """(pid, dying) of each live process whose environment holds the entry ``mark``; dying:
    a SIGKILL is already pending (its group was killed; it has not been scheduled since)."""
    me = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as handle:
                if mark not in b"\0" + handle.read():
                    continue
            with open(f"/proc/{entry.name}/status", encoding="ascii") as handle:
                status = dict(line.split(":", 1) for line in handle if ":" in line)
        except (OSError, ValueError):
            continue
        if status.get("State", "").strip().startswith(("Z", "X")):
            continue
        pending = int(status.get("SigPnd", "0"), 16) | int(status.get("ShdPnd", "0"), 16)
        yield int(entry.name), bool(pending & _SIGKILL_BIT)


def sweep(run_uid: str, grace: float = 2.0, timeout: float = 10.0) -> list[str]:
    """Wait up to ``grace`` seconds for the processes of run ``run_uid`` to end (a killed
    sandbox's pid namespace is emptied by the kernel a moment after its first pid is
    reaped), then SIGKILL whichever is still alive, whoever its parent is now, and wait
    until they are gone (up to timeout). Returns ``"pid command"`` of each one it killed."""
    killed: dict[int, str] = {}
    if not run_uid:
        return []
    mark = f"\0{RUN_MARK}={run_uid}\0".encode()
    start = time.monotonic()
    while True:
        alive = list(_marked(mark))
        waited = time.monotonic() - start
        if not alive or waited > grace + timeout:
            return list(killed.values())
        for pid, dying in alive:
            if dying or waited < grace:
                continue
            killed.setdefault(pid, f"{pid} {_command(pid)}")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().rstrip(b"\0").replace(b"\0", b" ")
    except OSError:
        return "?"
    text = argv.decode(errors="replace")
    return text if len(text) <= 120 else text[:117] + "..."


def stop_on_sigterm() -> None:
    """SIGTERM (PipelineRun.cancel, a service manager, a CI timeout) stops a runner as Ctrl-C
    does: the executor's tasks are cancelled and kill their steps' processes. Python's own
    SIGTERM death would run no cleanup at all. SIGINT gets Python's handler back first: a
    runner started where SIGINT is ignored (a non-interactive shell's background job, nohup)
    inherits SIG_IGN, and Python then installs none, so the SIGTERM would be lost."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda _s, _f: os.kill(os.getpid(), signal.SIGINT))
