"""The shim's fast exit skips the interpreter's teardown but nothing a process promises:
exit code, atexit handlers, buffered output, and waiting for live threads."""

from __future__ import annotations

import subprocess
import sys

FAST = """
import atexit, sys, threading, time
from kubeline.runtime.__main__ import _exit
atexit.register(print, "atexit ran")
sys.stdout.write("buffered, no newline")
if "thread" in sys.argv:
    threading.Thread(target=lambda: (time.sleep(0.2), print(" thread done"))).start()
_exit(300)
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", FAST, *args], capture_output=True, text=True,
                          check=False)


def test_fast_exit_keeps_code_atexit_and_output() -> None:
    done = _run()
    assert done.returncode == 300 & 0xFF
    assert done.stdout == "buffered, no newlineatexit ran\n"


def test_fast_exit_waits_for_live_threads() -> None:
    done = _run("thread")
    assert done.returncode == 300 & 0xFF
    assert done.stdout == "buffered, no newline thread done\natexit ran\n"
