"""Kill -9 the runner mid-run, then ``--resume``: finished nodes are not run again."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: resume-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: first, template: quick}
      - {name: second, template: slow, depends: first}
      - {name: third, template: quick, depends: second}
  - name: quick
    container: {image: busybox, command: [sh, -c, "echo done > /tmp/out"]}
    outputs:
      parameters:
      - name: out
        valueFrom: {path: /tmp/out}
  - name: slow
    container: {image: busybox, command: [sh, -c, "sleep 3; echo slow"]}
"""


def _nodes(db: Path) -> dict[str, dict[str, object]]:
    if not db.exists():
        return {}
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT data FROM nodes").fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        con.close()
    out = {}
    for (data,) in rows:
        node = json.loads(data)
        out[node["displayName"]] = node
    return out


def _run_id(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        [(run_id,)] = con.execute("SELECT id FROM runs").fetchall()
    finally:
        con.close()
    return str(run_id)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "kubeline.cli.run", *args]


def test_sigkill_then_resume(tmp_path: Path) -> None:
    wf = tmp_path / "wf.yaml"
    wf.write_text(WORKFLOW)
    state = tmp_path / "state"
    db = state / "runs.db"
    proc = subprocess.Popen(
        _cli(str(wf), "--state-dir", str(state)),
        cwd=tmp_path,
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            nodes = _nodes(db)
            if (
                nodes.get("first", {}).get("phase") == "Succeeded"
                and nodes.get("second", {}).get("phase") == "Running"
            ):
                break
            assert proc.poll() is None, "the runner ended before it could be killed"
            time.sleep(0.05)
        else:
            raise AssertionError(f"no finished node to kill after: {_nodes(db)}")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    before = _nodes(db)
    assert before["first"]["phase"] == "Succeeded"
    assert before["second"]["phase"] == "Running"
    assert "third" not in before

    run_id = _run_id(db)
    done = subprocess.run(
        _cli(str(wf), "--state-dir", str(state), "--resume", run_id, "--json"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["id"] == run_id and summary["phase"] == "Succeeded"
    nodes = {n["displayName"]: n for n in summary["nodes"]}
    assert nodes["first"]["attempts"] == 1  # finished before the kill: not run again
    assert nodes["first"]["outputParameters"] == {"out": "done"}
    assert nodes["second"]["attempts"] == 2  # interrupted: started once more
    assert nodes["third"]["attempts"] == 1
    assert summary["processesStarted"] == 4
    # the database is intact and agrees with the summary
    assert _nodes(db)["third"]["phase"] == "Succeeded"


def test_resume_unknown_run_is_a_usage_error(tmp_path: Path) -> None:
    wf = tmp_path / "wf.yaml"
    wf.write_text(WORKFLOW)
    done = subprocess.run(
        _cli(str(wf), "--state-dir", str(tmp_path / "s"), "--resume", "nope"),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("kubeline: error: run 'nope' is not in")
