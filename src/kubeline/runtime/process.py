"""Running the user's process: its output streams through (Argo's logs show it) and is
also captured to files; SIGTERM/SIGINT are forwarded so a stopped pod stops the script."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
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
        stderr_file: Path) -> int:
    """Run to completion; the exit code (128+N when killed by signal N)."""
    program = argv[0]
    if os.sep not in program and shutil.which(program, path=env.get("PATH")) is None:
        raise CommandNotFound(f"command '{program}' is not found in the step image",
                              "install it in the image or fix the step's command")
    try:
        proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise CommandNotFound(f"cannot start {program!r}: {exc.strerror or exc}",
                              "check the step's script or command") from exc
    assert proc.stdout is not None and proc.stderr is not None

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
