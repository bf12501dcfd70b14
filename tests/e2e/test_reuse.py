"""Reuse end to end through the ``kubeline`` command: two identical runs at once compute each
step once, a killed step leaves no cache entry and its lease is taken over, explain-reuse
names what changed, and cache ls / rm manage the index."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kubeline import Experiment
from tests.e2e.conftest import kubeline, load_pipeline, runs_json, show_json
from tests.reuse import matrix as m


def _start(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "kubeline.cli", "run", "pipeline.py", *args],
                            cwd=root, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, **(env or {})})


def _steps(root: Path, run_id: str) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in show_json(run_id, root)["steps"]}


def test_two_identical_runs_at_once_compute_each_step_once(tmp_path: Path, in_folder: Any,
                                                           monkeypatch: Any) -> None:
    root = m.make_workspace(tmp_path / "ws")
    in_folder(root)
    monkeypatch.setenv("MATRIX_SLEEP", "1")  # the runners inherit it: the steps overlap
    ns = load_pipeline(root)
    exp = Experiment(ns["ws"], "matrix")
    first, second = exp.submit(ns["pipeline"]), exp.submit(ns["pipeline"])
    assert first.wait_for_completion(show_output=False) == "Finished"
    assert second.wait_for_completion(show_output=False) == "Finished"
    runs = [r["id"] for r in runs_json(root)]
    assert len(runs) == 2
    steps = [_steps(root, r) for r in runs]
    for step in m.STEPS:
        ran = [s[step] for s in steps if not s[step]["reused"]]
        assert len(ran) == 1, f"{step} computed {len(ran)} times"
        assert {s[step]["status"] for s in steps} == {"Finished"}
        assert steps[0][step]["key"] == steps[1][step]["key"]
        assert steps[0][step]["outputs"] == steps[1][step]["outputs"]
    # no torn output: the report both runs hand out holds what the chain computed
    out = steps[0]["report"]["outputs"]["report"]
    report = (root / m.DATASTORE / out["location"]).read_text(encoding="utf-8")
    assert report == "12\n23\n"  # 6 words * beta 2, 23 characters of cleaned text
    cache = root / m.DATASTORE / "kubeline" / "cache"
    assert sorted(p.suffix for p in cache.iterdir()) == [".json"] * 4  # no lease left


def test_killed_step_leaves_no_entry_and_its_lease_is_taken_over(tmp_path: Path) -> None:
    root = m.make_workspace(tmp_path / "ws")
    cache = root / m.DATASTORE / "kubeline" / "cache"
    slow = _start(root, env={"MATRIX_SLEEP": "60", "KUBELINE_LEASE_SECONDS": "3"})
    deadline = time.monotonic() + 60
    locks: list[Path] = []
    while not locks and time.monotonic() < deadline:
        locks = list(cache.glob("*.lock")) if cache.is_dir() else []
        time.sleep(0.1)
    assert locks, "the first step should hold a compute lease"
    owner = json.loads(locks[0].read_text())
    assert owner["step_id"] == "prep" and owner["run_id"]
    slow.send_signal(signal.SIGKILL)  # the runner and, with it, the step's processes
    slow.communicate(timeout=60)
    assert not list(cache.glob("*.json")), "a killed step never leaves a cache entry"
    assert list(cache.glob("*.lock")), "its lease stays until someone takes it over"
    done = kubeline("run", "pipeline.py", cwd=root, env={"KUBELINE_LEASE_SECONDS": "3"})
    assert "phase:   Succeeded" in done.stdout
    latest = runs_json(root)[0]["id"]
    assert all(not s["reused"] for s in _steps(root, latest).values())
    assert not list(cache.glob("*.lock")), "the taken-over lease is released"


def test_explain_reuse_and_cache_commands(tmp_path: Path) -> None:
    root = m.make_workspace(tmp_path / "ws")
    kubeline("run", "pipeline.py", cwd=root)
    (root / "steps" / "train" / "train.py").write_text(
        (root / "steps" / "train" / "train.py").read_text() + "# tuned\n")
    (root / "shared" / "config.json").write_text('{"threshold": 0.7}\n')
    kubeline("run", "pipeline.py", "-p", "beta=5", cwd=root)
    latest = runs_json(root)[0]["id"]

    train = kubeline("explain-reuse", latest, "train", cwd=root).stdout.splitlines()
    assert train[1].startswith("nearest earlier run: ")
    assert train[2:] == ["  file steps/train/train.py changed", "  parameter beta: 2 -> 5"]
    evaluate = kubeline("explain-reuse", latest, "evaluate", cwd=root).stdout.splitlines()
    assert evaluate[2:] == ["  hash_paths file ../../shared/config.json changed"]
    report = kubeline("explain-reuse", latest, "report", cwd=root).stdout.splitlines()
    assert [line.split(" (")[0] for line in report[2:]] == [
        "  upstream step evaluate has another key", "  upstream step train has another key"]
    prep = kubeline("explain-reuse", latest, "prep", cwd=root).stdout.splitlines()
    assert prep[0].endswith("reused from run " + runs_json(root)[1]["id"])
    reused_logs = kubeline("runs", "logs", latest, "prep", cwd=root).stdout.splitlines()
    assert reused_logs[0] == (f"(reused the outputs of run {runs_json(root)[1]['id']}: see "
                              f"`kubeline runs logs {runs_json(root)[1]['id']} prep`)")
    assert prep[2:] == ["  same key: nothing that enters the key changed"]
    missing = kubeline("explain-reuse", latest, "nope", cwd=root, check=False)
    assert missing.returncode == 2
    assert missing.stderr.startswith("kubeline: error: run ") and "Traceback" not in missing.stderr

    listed = json.loads(kubeline("cache", "ls", "--json", cwd=root).stdout)
    assert len(listed) == 7 and {e["state"] for e in listed} == {"ready"}
    prep_key = _steps(root, latest)["prep"]["key"]
    assert kubeline("cache", "rm", prep_key[:10], cwd=root).stdout.startswith(
        "removed 1 cache entry and 1 memoize entry")
    kubeline("run", "pipeline.py", "-p", "beta=5", cwd=root)
    again = _steps(root, runs_json(root)[0]["id"])
    assert [s for s in m.STEPS if not again[s]["reused"]] == ["prep"]
    assert kubeline("cache", "rm", "--all", cwd=root).stdout.startswith("removed 7 cache entries")
    assert kubeline("cache", "ls", cwd=root).stdout.startswith("no cache entries")


FLAKY_PIPELINE = """\
from kubeline import Pipeline, PipelineParameter, PythonScriptStep, Workspace
ws = Workspace.from_config()
mode = PipelineParameter("mode", default_value="a")
step = PythonScriptStep("s.py", name="work", arguments=["--mode", mode],
                        source_directory="scripts")
pipeline = Pipeline(ws, steps=[step])
"""


def test_explain_reuse_compares_with_a_run_where_the_step_finished(tmp_path: Path) -> None:
    """A failed step's key never entered the cache: the comparison is with the run the step
    could have been reused from."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "s.py").write_text(
        "import sys\nsys.exit(3 if sys.argv[-1] == 'fail' else 0)\n", encoding="utf-8")
    (tmp_path / "pipeline.py").write_text(FLAKY_PIPELINE, encoding="utf-8")
    (tmp_path / "kubeline.yaml").write_text("name: flaky\n", encoding="utf-8")
    kubeline("run", "pipeline.py", "-p", "mode=a", cwd=tmp_path)
    failed = kubeline("run", "pipeline.py", "-p", "mode=fail", cwd=tmp_path, check=False)
    assert failed.returncode == 1
    kubeline("run", "pipeline.py", "-p", "mode=b", cwd=tmp_path)
    latest, failed_run, first = (r["id"] for r in runs_json(tmp_path)[:3])
    lines = kubeline("explain-reuse", latest, "work", cwd=tmp_path).stdout.splitlines()
    assert lines[1].startswith(f"nearest earlier run: {first}:"), lines
    assert lines[2:] == ["  parameter mode: a -> b"]
    assert failed_run not in "\n".join(lines)
