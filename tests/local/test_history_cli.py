"""``kubeline run`` records every run in the history, manifests included; ``kubeline runs``
reads it back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: flaky-
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: hello, template: hello}
      - {name: flaky, template: flaky}
  - name: hello
    container:
      image: alpine
      command: [sh, -c, "echo hello from a step"]
  - name: flaky
    retryStrategy: {limit: 2}
    container:
      image: alpine
      command: [sh, -c, "echo attempt >&2; echo 'disk full: cannot write /data' >&2; exit 7"]
"""


def _kubeline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kubeline.cli", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=300, check=False)


def test_manifest_run_is_recorded(tmp_path: Path) -> None:
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    done = _kubeline("run", "wf.yaml", "--json", cwd=tmp_path)
    assert done.returncode == 1
    summary = json.loads(done.stdout)
    assert summary["phase"] == "Failed"
    run_id = summary["historyId"]
    # the failed step's exit code and stderr tail are shown, then one error line
    assert "StepRun( flaky ) Status: Failed (exit code 7)" in done.stderr
    assert "disk full: cannot write /data" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(
        f"kubeline: error: pipeline run {run_id}: step 'flaky' failed with exit code 7: "
        "disk full: cannot write /data")
    listed = json.loads(_kubeline("runs", "list", "--json", cwd=tmp_path).stdout)
    assert [(r["id"], r["experiment"], r["status"]) for r in listed] == [
        (run_id, "flaky", "Failed")]
    shown = json.loads(_kubeline("runs", "show", summary["id"], "--json", cwd=tmp_path).stdout)
    steps = {s["name"]: s for s in shown["steps"]}
    assert (steps["flaky"]["status"], steps["flaky"]["attempts"], steps["flaky"]["exit_code"]) \
        == ("Failed", 3, 7)
    assert (steps["hello"]["status"], steps["hello"]["attempts"], steps["hello"]["exit_code"]) \
        == ("Finished", 1, 0)
    for step in steps.values():
        assert {"name", "status", "attempts", "exit_code", "reused", "outputs",
                "metrics"} <= set(step)
    logs = _kubeline("runs", "logs", run_id, "hello", cwd=tmp_path)
    assert logs.stdout == "hello from a step\n"
    text = _kubeline("runs", "show", run_id[:8], cwd=tmp_path).stdout
    assert "flaky" in text and "exit 7, 3 attempts" in text


def test_unknown_run_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".kubeline").mkdir()
    done = _kubeline("runs", "show", "nope", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("kubeline: error: no run history in ")
    (tmp_path / "wf.yaml").write_text(WORKFLOW.replace("exit 7", "exit 0"))
    assert _kubeline("run", "wf.yaml", cwd=tmp_path).returncode == 0
    done = _kubeline("runs", "logs", "nope", cwd=tmp_path)
    assert (done.returncode, done.stderr.count("\n")) == (2, 1)
    assert "run 'nope' is not in the history" in done.stderr
