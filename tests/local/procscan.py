"""Finding a test's processes on the host by a marker in their environment."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path


def holders(marker: str, needle: bytes = b"", folder: Path | None = None) -> list[int]:
    """Live (non-zombie) processes whose environment carries ``KILL_MARKER=<marker>`` (or,
    given ``folder``, whose command line names it: steps forked by the fork server have the
    server's environment and command line, which names the run's state folder) and, if
    given, whose command line contains ``needle``. Pids in a pid namespace differ from the
    host's, so a step cannot simply report its own pid."""
    found = []
    wanted = f"KILL_MARKER={marker}".encode()
    place = str(folder).encode() if folder is not None else None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            marked = wanted in (proc / "environ").read_bytes() or \
                (place is not None and place in cmdline)
            if marked and needle in cmdline and \
                    "State:\tZ" not in (proc / "status").read_text():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def kill_and_wait(runner: subprocess.Popen[bytes], marker: str,
                  folder: Path | None = None) -> list[int]:
    """SIGKILL the runner; the marked processes still alive after up to 10 s (none, if
    they die with it)."""
    runner.send_signal(signal.SIGKILL)
    runner.wait(10)
    deadline = time.monotonic() + 10
    while holders(marker, folder=folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    return holders(marker, folder=folder)
