"""Running the user's process: its output streams through (Argo's logs show it) and is
also captured to files; SIGTERM/SIGINT are forwarded so a stopped pod stops the script.

A Python script run by the shim's own interpreter starts as a forked child that runs the
script with runpy, as ``python script.py`` would, instead of a new interpreter: that saves
the interpreter's start-up (about 35 ms) on every step. KUBELINE_SPAWN=subprocess, other
threads alive, or another interpreter fall back to a plain subprocess.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from kubeline.exceptions import KubelineError

_FORWARDED = (signal.SIGTERM, signal.SIGINT)


class CommandNotFound(KubelineError):
    exit_code = 127


def _pump(source: BinaryIO, sink: BinaryIO, capture: Path) -> None:
    with open(capture, "wb") as out:
        while chunk := os.read(source.fileno(), 65536):
            out.write(chunk)
            try:
                sink.write(chunk)
                sink.flush()
            except (OSError, ValueError):
                pass  # our own stdout went away; keep capturing


def run(argv: Sequence[str], cwd: Path, env: Mapping[str, str], stdout_file: Path,
        stderr_file: Path, started: Callable[[int], None] | None = None) -> int:
    """Run to completion; the exit code (128+N when killed by signal N). ``started`` is
    called in this process with the child's pid once it runs (threads may start from then
    on)."""
    program = argv[0]
    if os.sep not in program and shutil.which(program, path=env.get("PATH")) is None:
        raise CommandNotFound(f"command '{program}' is not found in the step image",
                              "install it in the image or fix the step's command")
    if _can_fork(argv, env):
        return _run_forked(argv, cwd, env, stdout_file, stderr_file, started)
    import subprocess  # the fork path, the usual one, does without it

    try:
        proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise CommandNotFound(f"cannot start {program!r}: {exc.strerror or exc}",
                              "check the step's script or command") from exc
    assert proc.stdout is not None and proc.stderr is not None
    if started is not None:
        started(proc.pid)

    def forward(signum: int, _frame: FrameType | None) -> None:
        proc.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in _FORWARDED} \
        if threading.current_thread() is threading.main_thread() else {}
    pumps = [threading.Thread(target=_pump, args=(proc.stdout, sys.stdout.buffer, stdout_file)),
             threading.Thread(target=_pump, args=(proc.stderr, sys.stderr.buffer, stderr_file))]
    try:
        for pump in pumps:
            pump.start()
        code = proc.wait()
        for pump in pumps:
            pump.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        proc.stdout.close()
        proc.stderr.close()
    return code if code >= 0 else 128 - code


def _can_fork(argv: Sequence[str], env: Mapping[str, str]) -> bool:
    return (len(argv) >= 2 and hasattr(os, "fork") and argv[1].endswith(".py")
            and env.get("KUBELINE_SPAWN", os.environ.get("KUBELINE_SPAWN")) != "subprocess"
            and os.path.realpath(argv[0]) == os.path.realpath(sys.executable)
            and threading.active_count() == 1)


def _child(argv: Sequence[str], cwd: Path, env: Mapping[str, str], out_w: int,
           err_w: int) -> None:
    """In the forked child: become ``python script.py args`` and never return."""
    import atexit
    import runpy
    import traceback

    code = 1
    try:
        for sig in _FORWARDED:
            signal.signal(sig, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        script = os.path.abspath(argv[1])
        extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        sys.path[:] = [os.path.dirname(script), *extra,
                       *[p for p in sys.path[1:] if p not in extra]]
        sys.argv = [argv[1], *argv[2:]]
        # fresh text streams on fds 1 and 2, whatever the parent had bound sys.stdout to
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
        atexit._clear()
        try:
            runpy.run_path(script, run_name="__main__")
            code = 0
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except BaseException:
            traceback.print_exc()
            code = 1
        atexit._run_exitfuncs()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code & 0xFF)


def _run_forked(argv: Sequence[str], cwd: Path, env: Mapping[str, str], stdout_file: Path,
                stderr_file: Path, started: Callable[[int], None] | None = None) -> int:
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(err_r)
        _child(argv, cwd, env, out_w, err_w)
    os.close(out_w)
    os.close(err_w)
    if started is not None:
        started(pid)

    def forward(signum: int, _frame: FrameType | None) -> None:
        os.kill(pid, signum)

    previous = {s: signal.signal(s, forward) for s in _FORWARDED}
    with os.fdopen(out_r, "rb") as out, os.fdopen(err_r, "rb") as err:
        pumps = [threading.Thread(target=_pump, args=(out, sys.stdout.buffer, stdout_file)),
                 threading.Thread(target=_pump, args=(err, sys.stderr.buffer, stderr_file))]
        try:
            for pump in pumps:
                pump.start()
            _, status = os.waitpid(pid, 0)
            for pump in pumps:
                pump.join()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else \
        128 + os.WTERMSIG(status)
