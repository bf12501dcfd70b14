"""``python3 -m kubeline.runtime``: the container command of every compiled step.

With KUBELINE_PROFILE_DIR set, the step runs under cProfile and writes
``<dir>/<step node>.prof``: how per-step overhead is measured.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from kubeline.runtime.shim import main


def _exit(code: int) -> NoReturn:
    """Exit without the interpreter's teardown of every module the shim loaded (about 10 ms
    a step, paid while the next step waits): atexit handlers still run and stdio is flushed.
    With another thread alive, the normal exit (which waits for it) is taken instead."""
    import atexit
    import threading

    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)  # let the interpreter report what it would have
    os._exit(code & 0xFF)


if __name__ == "__main__":
    profile_dir = os.environ.get("KUBELINE_PROFILE_DIR")
    if not profile_dir:
        _exit(main())
    import cProfile

    profiler = cProfile.Profile()
    code = profiler.runcall(main)
    name = os.environ.get("KUBELINE_NODE", "step").replace("/", "_") or "step"
    profiler.dump_stats(os.path.join(profile_dir, f"{name}.prof"))
    sys.exit(code)
