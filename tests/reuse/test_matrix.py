"""Issue 5's change matrix: run, change one thing, run again, and assert exactly which of the
four steps run again: for the memoize keys in the compiled manifest (evaluated as Argo's
controller would) and for the local executor (the shim's keys and the cache index)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.reuse import matrix as m

ALL = set(m.STEPS)
ARGO_KEY = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")


def _append(rel: str, text: str) -> Callable[[Path], Callable[[], None]]:
    def change(root: Path) -> Callable[[], None]:
        path = root / rel
        before = path.read_text(encoding="utf-8")
        path.write_text(before + text, encoding="utf-8")

        def revert() -> None:
            path.write_text(before, encoding="utf-8")
        return revert
    return change


def _knobs(**changes: Any) -> Callable[[Path], Callable[[], None]]:
    def change(root: Path) -> Callable[[], None]:
        m.set_knobs(root, **changes)
        return lambda: m.set_knobs(root)
    return change


def _moved_data(root: Path) -> Callable[[], None]:
    text = (root / m.DATASTORE / "in" / "raw.txt").read_text(encoding="utf-8")
    m.write_data(root, "elsewhere/raw.txt", text)  # same bytes, another path
    m.set_knobs(root, raw_path="elsewhere/raw.txt")

    def revert() -> None:
        m.set_knobs(root)
    return revert


@dataclass
class Case:
    name: str
    change: Callable[[Path], Callable[[], None]] | None
    reruns: set[str]
    parameters: dict[str, str] = field(default_factory=dict)
    regenerate: bool = False


CASES = [
    Case("nothing changed", None, set()),
    Case("edit the step's script", _append("steps/train/train.py", "# tuned\n"),
         {"train", "report"}),
    Case("edit a helper module the script imports", _append("steps/prep/helper.py", "# x\n"),
         ALL),
    Case("edit a file listed in hash_paths", _append("shared/config.json", " \n"),
         {"evaluate", "report"}),
    Case("edit a file excluded by .amlignore", _append("steps/prep/notes.txt", "more\n"),
         set()),
    Case("change a parameter value used by one step", None, {"train", "report"},
         parameters={"beta": "3"}),
    Case("change an upstream step", _append("steps/evaluate/evaluate.py", "# v2\n"),
         {"evaluate", "report"}),
    Case("change a DataReference path", _moved_data, ALL),
    Case("change the image", _knobs(image="python:3.12.1-slim"), {"evaluate", "report"}),
    Case("allow_reuse=False", _knobs(allow_reuse=False), {"evaluate", "report"}),
    Case("regenerate_outputs", None, ALL, regenerate=True),
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    root = m.make_workspace(tmp_path_factory.mktemp("matrix") / "ws")
    _run_id, steps = m.run(root)
    assert m.computed(steps) == ALL
    baseline = m.memo_keys(m.compile_docs(root), {}, "uid-baseline")
    # the controller's key is the shim's key: the fast path and the index agree
    assert baseline == {s: steps[s].key for s in m.STEPS}
    yield root, baseline


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_change_matrix(case: Case, workspace: tuple[Path, dict[str, Any]]) -> None:
    root, baseline = workspace
    revert = case.change(root) if case.change is not None else None
    try:
        params = dict(case.parameters)
        if case.regenerate:
            params["kubeline-regenerate-outputs"] = "true"
        keys = m.memo_keys(m.compile_docs(root), params, "uid-this-run")
        assert all(k is not None and ARGO_KEY.match(k) for k in keys.values())
        assert {s for s in m.STEPS if keys[s] != baseline[s]} == case.reruns, "manifest keys"
        _run_id, steps = m.run(root, case.parameters, regenerate=case.regenerate)
        assert m.computed(steps) == case.reruns, "local executor"
        for step in set(m.STEPS) - case.reruns:
            assert steps[step].key == baseline[step]
            assert steps[step].attempts == 0, f"{step}: a hit starts no process"
    finally:
        if revert is not None:
            revert()
    # back to the baseline: everything is reused again (regenerated outputs included)
    _run_id, steps = m.run(root)
    assert m.computed(steps) == set()


def test_content_aware_reruns_on_changed_data(tmp_path: Path) -> None:
    root = m.make_workspace(tmp_path / "ws")
    m.run(root)
    # content-aware keys are their own key space: the first such run computes once
    _, steps = m.run(root, content_aware=True)
    assert m.computed(steps) == ALL
    _, steps = m.run(root, content_aware=True)
    assert m.computed(steps) == set()
    # same path, other bytes: only a content-aware run notices
    m.write_data(root, "in/raw.txt", "A dog barked\n")
    _, steps = m.run(root)
    assert m.computed(steps) == set()
    _, steps = m.run(root, content_aware=True)
    assert m.computed(steps) == ALL
    # the controller never serves a content-aware step from memoize: the data's version is
    # only known to the shim, so the key carries the workflow uid
    docs = m.compile_docs(root)
    first = m.memo_keys(docs, {"kubeline-content-aware": "true"}, "uid-1")
    second = m.memo_keys(docs, {"kubeline-content-aware": "true"}, "uid-2")
    assert first["prep"] != second["prep"]


def test_regenerated_outputs_serve_later_runs(tmp_path: Path) -> None:
    root = m.make_workspace(tmp_path / "ws")
    m.run(root)
    fresh, steps = m.run(root, regenerate=True)
    assert m.computed(steps) == ALL
    # drop the memoize fast path: the index alone must now hand out the fresh outputs
    import shutil

    for folder in (root / ".kubeline" / "cache").iterdir():
        if folder.name != "fingerprints":
            shutil.rmtree(folder)
    _, steps = m.run(root)
    assert m.computed(steps) == set()
    assert {s.reused_from_run for s in steps.values()} == {fresh}
