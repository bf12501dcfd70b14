"""``python3 -m kubeline.runtime``: the container command of every compiled step.

With KUBELINE_PROFILE_DIR set, the step runs under cProfile and writes
``<dir>/<step node>.prof``: how per-step overhead is measured.
"""

from __future__ import annotations

import os
import sys

from kubeline.runtime.shim import main

if __name__ == "__main__":
    profile_dir = os.environ.get("KUBELINE_PROFILE_DIR")
    if not profile_dir:
        sys.exit(main())
    import cProfile

    profiler = cProfile.Profile()
    code = profiler.runcall(main)
    name = os.environ.get("KUBELINE_NODE", "step").replace("/", "_") or "step"
    profiler.dump_stats(os.path.join(profile_dir, f"{name}.prof"))
    sys.exit(code)
