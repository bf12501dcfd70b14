"""Fixtures: a fresh step harness (spec folder + local datastore) and a probe script."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.harness import Harness

PROBE = '''\
import json, os, sys

def listing(path):
    if os.path.isfile(path):
        return {"": open(path).read()}
    found = {}
    for folder, _dirs, names in os.walk(path):
        for name in names:
            full = os.path.join(folder, name)
            found[os.path.relpath(full, path).replace(os.sep, "/")] = open(full).read()
    return found

report = {
    "argv": sys.argv[1:],
    "cwd": os.getcwd(),
    "env": {k: v for k, v in os.environ.items() if k.startswith("AML_PARAMETER_")},
    "listings": {a: listing(a) for a in sys.argv[1:] if os.path.exists(a)},
}
with open(os.environ["REPORT"], "w") as handle:
    json.dump(report, handle)
'''


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    h = Harness(tmp_path / "h")
    h.env["REPORT"] = str(tmp_path / "report.json")
    return h


def read_report(h: Harness) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(h.env["REPORT"]).read_text())
    return data
