"""Whether the process that answers for a run (its runner or watcher) is still there."""

from __future__ import annotations

import os


def process_alive(pid: int | None) -> bool:
    """Whether a process exists and is not a zombie (a finished child not yet reaped)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True
