"""``python3 -m kubeline.runtime``: the container command of every compiled step."""

from __future__ import annotations

import sys

from kubeline.runtime.shim import main

if __name__ == "__main__":
    sys.exit(main())
