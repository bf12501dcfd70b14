"""Start the shim from an injected runtime bundle (docs/decisions/0005-runtime-in-image.md).

The kubeline runtime image's init container copies ``/opt/kubeline`` into a shared volume;
the step container then runs ``python3 <volume>/boot.py --step ...`` with the step image's
own interpreter. This file picks the bundle built for that interpreter's version
(``py3.X/``: kubeline and its dependencies), puts it first on ``sys.path``, and hands the
user's process ``lib/`` (kubeline alone, which imports nothing else for ``kubeline.Run``).
Stdlib only, and it must stay a single file that runs by path.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    bundle = os.path.join(here, f"py{version}")
    if not os.path.isdir(bundle):
        found = sorted(n[2:] for n in os.listdir(here) if n.startswith("py3."))
        print(f"kubeline: error: the injected kubeline runtime has no bundle for Python "
              f"{version} (it has {', '.join(found) or 'none'}) (use an image with one of "
              "those versions, or install kubeline in the image and run "
              "'python3 -m kubeline.runtime')", file=sys.stderr)
        return 2
    sys.path[:] = [bundle, *(p for p in sys.path if os.path.abspath(p or ".") != here)]
    lib = os.path.join(here, "lib")
    if os.path.isdir(lib):
        os.environ["KUBELINE_RUNTIME_LIB"] = lib
    from kubeline.runtime.shim import main as shim_main

    return shim_main()


if __name__ == "__main__":
    sys.exit(main())
