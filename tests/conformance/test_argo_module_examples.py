"""Argo's own examples folder, run with the local executor: each reaches Argo's outcome.

The folder comes from Argo's Go module at the pinned version (argo_module.py; downloaded with
``go mod download`` when absent, a failure otherwise). argo_examples.yaml says, per file, the
outcome Argo gives it or why it is not run here. Each example runs as a user would run it,
``kubeline run FILE --json``, with the folder's ConfigMaps applied alongside (as Argo's e2e
applies them to the cluster first). The runs go in parallel, slowest first, and each test
waits for its own; tests run in their own folders and state directories.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conformance.argo_module import ArgoModuleError, argo_examples_dir
from tests.conformance.render_examples import DOC, END, START, load, render

DATA = load()
ENTRIES: dict[str, dict[str, Any]] = DATA["examples"]
RUN = sorted(name for name, entry in ENTRIES.items() if "expect" in entry)
JOBS = int(os.environ.get("KUBELINE_CONFORMANCE_JOBS", "10"))  # the runs mostly sleep
RUN_TIMEOUT_S = 600


@pytest.fixture(scope="session")
def argo_examples() -> Path:
    try:
        return argo_examples_dir()
    except ArgoModuleError as exc:
        pytest.fail(str(exc))


@dataclass
class Outcome:
    returncode: int
    summary: dict[str, Any]
    stderr: str


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def _configmaps(folder: Path) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.rglob("*.yaml")):
        for doc in _docs(path):
            if doc.get("kind") == "ConfigMap":
                found.setdefault(str(doc["metadata"]["name"]), doc)
    return list(found.values())


def _run(folder: Path, name: str, configmaps: list[dict[str, Any]], work: Path) -> Outcome:
    docs = _docs(folder / name)
    own = {str(d["metadata"]["name"]) for d in docs if d.get("kind") == "ConfigMap"}
    docs += [cm for cm in configmaps if str(cm["metadata"]["name"]) not in own]
    work.mkdir(parents=True)
    manifest = work / Path(name).name
    manifest.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    command = [sys.executable, "-m", "kubeline.cli", "run", str(manifest), "--json",
               "--state-dir", str(work / "state")]
    if ENTRIES[name].get("network") == "own":  # fixed ports: a loopback of its own
        command = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                   *command]
    try:
        done = subprocess.run(
            command,
            cwd=work, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return Outcome(-1, {}, f"no outcome after {RUN_TIMEOUT_S}s: {exc.stderr!r}")
    try:
        summary = json.loads(done.stdout)
    except json.JSONDecodeError:
        summary = {}
    return Outcome(done.returncode, summary, done.stderr)


@pytest.fixture(scope="module")
def example_runs(request: pytest.FixtureRequest, argo_examples: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Futures of the selected examples' runs, started at once (slow ones first). Module
    scoped: no runner thread outlives this module (some later tests fork and need to be the
    only thread)."""
    selected = {item.callspec.params["name"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_example_reaches_argos_outcome"}
    order = sorted(selected, key=lambda n: (not ENTRIES[n].get("slow"), n))
    configmaps = _configmaps(argo_examples)
    base = tmp_path_factory.mktemp("argo-examples")
    pool = ThreadPoolExecutor(max_workers=JOBS)
    futures: dict[str, Future[Outcome]] = {
        name: pool.submit(_run, argo_examples, name, configmaps,
                          base / name.replace("/", "__").removesuffix(".yaml"))
        for name in order
    }
    pool.shutdown(wait=False)  # its threads end with the last run: later tests see none
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def _expected(entry: dict[str, Any]) -> list[str]:
    expect = entry["expect"]
    return list(expect) if isinstance(expect, list) else [expect]


@pytest.mark.parametrize("name", RUN)
def test_example_reaches_argos_outcome(name: str, example_runs: Any) -> None:
    outcome: Outcome = example_runs[name].result()
    expected = _expected(ENTRIES[name])
    phase = outcome.summary.get("phase")
    bad = [(n.get("displayName"), n.get("phase"), n.get("message"))
           for n in outcome.summary.get("nodes", [])
           if n.get("phase") not in ("Succeeded", "Skipped", "Omitted")]
    assert phase in expected, (
        f"{name}: {phase} (exit {outcome.returncode}), Argo gives {expected}; "
        f"nodes: {bad[:5]}; stderr: {outcome.stderr[-800:]}"
    )
    assert outcome.returncode == (0 if phase == "Succeeded" else 1)


def test_the_list_covers_the_examples_folder(argo_examples: Path) -> None:
    on_disk = {str(p.relative_to(argo_examples)) for p in argo_examples.rglob("*.yaml")}
    assert set(ENTRIES) == on_disk
    for name, entry in ENTRIES.items():
        assert ("expect" in entry) != ("needs" in entry), name
        if "needs" in entry:
            assert entry["needs"] in DATA["reasons"] and entry.get("why"), name
        else:
            assert set(_expected(entry)) <= {"Succeeded", "Failed", "Error"}, name


@pytest.mark.parametrize(
    "name", sorted(n for n, e in ENTRIES.items() if e.get("needs") == "not-a-workflow"))
def test_examples_that_are_not_workflows_hold_none(name: str, argo_examples: Path) -> None:
    assert all(d.get("kind") != "Workflow" for d in _docs(argo_examples / name))


def test_unsupported_examples_are_refused_before_starting(argo_examples: Path) -> None:
    """What the list calls unsupported is refused up front in one line, so the list cannot
    go stale: an example that starts to run must move to `expect`. (None is left today.)"""
    from kubeline.exceptions import KubelineError
    from kubeline.local import manifest

    for name in sorted(n for n, e in ENTRIES.items() if e.get("needs") == "unsupported"):
        with pytest.raises(KubelineError) as info:
            manifest.load(_docs(argo_examples / name))
        assert "\n" not in str(info.value), name


def test_examples_needing_only_this_machine_all_run() -> None:
    """Every example that needs nothing outside one machine reaches Argo's outcome: none is
    left unsupported or differing on purpose."""
    left = {n: e["needs"] for n, e in ENTRIES.items()
            if e.get("needs") in ("unsupported", "differs")}
    assert left == {}


def test_docs_show_the_rendered_list() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert START in text and END in text
    shown = text[text.index(START): text.index(END) + len(END)]
    assert shown == render(DATA), "run: python -m tests.conformance.render_examples"


def test_configmaps_of_the_folder_are_applied(argo_examples: Path) -> None:
    """The examples that read ConfigMaps from configmaps/ get them, as on Argo's e2e cluster."""
    names = {str(cm["metadata"]["name"]) for cm in _configmaps(argo_examples)}
    assert "simple-parameters" in names
    assert tempfile.gettempdir()  # runs use per-test folders, never the examples folder
