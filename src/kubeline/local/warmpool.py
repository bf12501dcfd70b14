"""Warm start: a DAG task's interpreter is started while its upstream still runs, and handed
its final arguments when the task's turn comes (docs/decisions/0010-warm-start.md).

A warm process is the node's process started early: same sandbox wrapper (mounts, working
folder), same environment, same log files, same session and death-with-the-runner; only the
interpreter's arguments arrive later, through stdin (``warm.py``). It is used only when the
node's real launch equals the predicted one in all of that and in the python mode (``-m``
with the same module, ``-c``, or a script; no interpreter flags). Otherwise it is killed and
the node starts cold, as it always did. Unused ones are killed when their task ends and when
the run ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from kubeline.local import procs
from kubeline.local.sandbox import clear_link_stubs

WARM_SCRIPT = str(Path(__file__).with_name("warm.py"))
RECORD = "launch"
"""File in a node's folder when its start was not the plain one: ``warm`` when a warm process
ran the node, ``cold: <why>`` when the node's real launch differed from the predicted one,
``forked`` when the fork server ran it (forkclient.py)."""


@dataclass(frozen=True)
class Launch:
    """One container process as the leaf starts it."""

    wrapper: tuple[str, ...]  # the sandbox's argv before the program (empty without bwrap)
    program: tuple[str, ...]  # the program's argv, interpreter first
    env: tuple[tuple[str, str], ...]
    cwd: str
    stdout: Path
    stderr: Path
    bwrap: bool
    view: tuple[tuple[str, str, bool], ...] = ()  # the sandbox's binds (Sandbox.view)

    @property
    def argv(self) -> list[str]:
        return [*self.wrapper, *self.program]


def python_mode(program: tuple[str, ...]) -> tuple[str, ...] | None:
    """warm.py's arguments for a python command (this interpreter, no flags); else None."""
    if len(program) < 2 or program[0] != sys.executable:
        return None
    if program[1] == "-m":
        return ("-m", program[2]) if len(program) > 2 else None
    if program[1] == "-c":
        return ("-c",) if len(program) > 2 else None
    return None if program[1].startswith("-") else ("script",)


def mismatch(predicted: Launch, real: Launch) -> str:
    """Why a process started for ``predicted`` cannot be ``real`` ('' when it can)."""
    if python_mode(real.program) != python_mode(predicted.program):
        return "the command differs"
    if real.wrapper != predicted.wrapper or real.bwrap != predicted.bwrap:
        return "the sandbox differs"
    if real.env != predicted.env:
        return "the environment differs"
    if (real.cwd, real.stdout, real.stderr) != (predicted.cwd, predicted.stdout,
                                                predicted.stderr):
        return "the working folder or log files differ"
    return ""


@dataclass
class _Entry:
    launch: Launch
    node_dir: Path
    proc: procs.Child | None  # None: it could not start
    adopted: bool = False


class WarmPool:
    """The run's pre-started processes, keyed by node name; at most ``capacity`` at once."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self.entries: dict[str, _Entry] = {}
        self.closed = False

    def room(self) -> bool:
        return not self.closed and len(self.entries) < self.capacity

    def start(self, key: str, launch: Launch, node_dir: Path) -> bool:
        """Start a warm process for a launch predicted for node ``key`` (whose folder the
        caller has just prepared); False when the command is not a python one."""
        mode = python_mode(launch.program)
        if mode is None or not self.room() or key in self.entries:
            return False
        argv = [*launch.wrapper, sys.executable, WARM_SCRIPT, *mode]
        self.entries[key] = _Entry(launch, node_dir, _start(argv, launch))
        return True

    def adopt(self, key: str) -> bool:
        """The node is starting in the folder its warm process was prepared in: keep it."""
        entry = self.entries.get(key)
        if entry is None:
            return False
        entry.adopted = True
        return True

    async def claim(self, key: str, real: Launch) -> procs.Child | None:
        """The warm process of node ``key``, now running ``real``; None: start it cold."""
        entry = self.entries.pop(key, None)
        if entry is None:
            return None
        proc = entry.proc
        why = mismatch(entry.launch, real)
        if proc is None or proc.stdin is None:
            why = "the warm process could not start"
        elif proc.returncode is not None:
            why = "the warm process had exited"
        elif not why:
            try:  # warm.py reads until EOF: the write never waits for long
                proc.stdin.write(b"\0".join(os.fsencode(a) for a in real.program[1:]))
                proc.stdin.close()
            except BrokenPipeError:
                why = "the warm process had exited"
        if why or proc is None:
            await _stop(proc)
            record_launch(entry.node_dir, f"cold: {why}")
            return None
        record_launch(entry.node_dir, "warm")
        return proc

    async def discard(self, key: str) -> None:
        """Kill node ``key``'s warm process if it went unused; its folder goes too unless the
        node started in it."""
        entry = self.entries.pop(key, None)
        if entry is None:
            return
        await _stop(entry.proc)
        if not entry.adopted:
            shutil.rmtree(entry.node_dir, ignore_errors=True)

    async def close(self) -> None:
        """The run ends: no warm process outlives it."""
        self.closed = True
        for key in list(self.entries):
            await self.discard(key)


def _start(argv: list[str], launch: Launch) -> procs.Child | None:
    clear_link_stubs(launch.view)
    try:
        return procs.start(argv, env=dict(launch.env), cwd=launch.cwd, stdout=launch.stdout,
                           stderr=launch.stderr, bwrap=launch.bwrap, stdin_pipe=True)
    except OSError:
        return None  # the node starts cold and reports its own error


async def _stop(proc: procs.Child | None) -> None:
    if proc is None:
        return
    procs.kill(proc.pid)
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    await proc.wait()


def record_launch(node_dir: Path, text: str) -> None:
    """How the node's process was started (the ``launch`` file in its folder)."""
    with contextlib.suppress(OSError):
        (node_dir / RECORD).write_text(text + "\n", encoding="utf-8")
