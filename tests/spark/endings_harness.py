"""Run several driver-program contexts one after the other in one spark-submit (one JVM), as
a driver pod would run one: ``spark-submit endings_harness.py CASES.json``.

Each case is a context the compiler would write; the harness calls the driver program's
``main`` with it and records the exit code in ``<case>.code``. One JVM for the whole matrix
keeps the test short; each case still gets its own application child and SparkContext.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main() -> int:
    cases = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    driver_file = Path(sys.argv[2])
    sys.path.insert(0, str(driver_file.parent))
    import driver as spark_driver  # the very file shipped in the ConfigMap (driver.py)

    home = os.getcwd()
    for name, ctx in cases.items():
        os.chdir(home)
        for key, value in (ctx.pop("env", None) or {}).items():
            os.environ[key] = value
        code = spark_driver.main([str(driver_file), json.dumps(ctx)])
        Path(home, f"{name}.code").write_text(str(code), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
