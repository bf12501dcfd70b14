"""Several processes opening a new run history (or run state, or registry) at the same moment:
`kubeline run` started three times at once in a fresh folder. SQLite answered one of them
"database is locked" at once (the WAL switch and the schema race), and that runner stopped
with "run history ... cannot be opened"; found by the CI rehearsal under load.

A stress test: on an idle machine the old code passed it too; on this one, busy with the
rehearsal, the old code failed 1 run in 2 (the registry, "database is locked") and the new
code passed every run."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

OPENERS = 8
ROUNDS = 6
OPEN = """
import sys, time
from pathlib import Path
start = Path(sys.argv[1])
while not start.exists():
    time.sleep(0.001)
from {module} import {cls}
store = {cls}(Path(sys.argv[2]))
"""


@pytest.mark.parametrize(("module", "cls"), [("kubeline.history.db", "History"),
                                             ("kubeline.local.state", "StateStore"),
                                             ("kubeline.server.registry", "Registry")])
def test_processes_open_a_new_database_at_once(tmp_path: Path, module: str, cls: str) -> None:
    code = OPEN.format(module=module, cls=cls)
    for round_ in range(ROUNDS):
        start, state = tmp_path / f"go{round_}", tmp_path / f"state{round_}"
        procs = [subprocess.Popen([sys.executable, "-c", code, str(start), str(state)],
                                  stderr=subprocess.PIPE, text=True) for _ in range(OPENERS)]
        time.sleep(0.5)  # every opener imported and waiting
        start.touch()
        errors = [p.communicate(timeout=120)[1] for p in procs]
        assert [p.returncode for p in procs] == [0] * OPENERS, [e for e in errors if e][:1]
