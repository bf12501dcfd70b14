"""Two `kubeline run` of one manifest started at the same moment get distinct run ids."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

MANIFEST = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: twice}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: busybox, command: [sh, -c, "sleep 0.5; echo done"]}
"""


def test_simultaneous_runs_of_one_workflow(tmp_path: Path) -> None:
    (tmp_path / "wf.yaml").write_text(MANIFEST, encoding="utf-8")
    procs = [subprocess.Popen([sys.executable, "-m", "kubeline.cli", "run", "wf.yaml", "--json"],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], "\n---\n".join(
        err.strip().splitlines()[-1] if err.strip() else "(no stderr)" for _, err in results)
    ids = [json.loads(out)["id"] for out, _ in results]
    assert len(set(ids)) == 3 and "twice" in ids
