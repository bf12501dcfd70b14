"""The page's pure helpers: DAG edges from a manifest, path checks, durations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeline.server.web.artifacts import clean_relative
from kubeline.server.web.errors import WebError
from kubeline.server.web.graph import edges, stored_manifest
from kubeline.server.web.runs import duration


def _workflow(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"kind": "ConfigMap", "data": {}},
            {"kind": "Workflow", "spec": {"templates": [{"name": "main", "dag": {"tasks": tasks}},
                                                        {"name": "leaf", "container": {}}]}}]


def test_edges_from_depends_expressions_and_dependencies() -> None:
    docs = _workflow([
        {"name": "a"}, {"name": "b", "dependencies": ["a"]},
        {"name": "c", "depends": "a && (b.Succeeded || b.Failed)"},
        {"name": "d", "depends": "c.Succeeded && !ghost.Failed && d"},
    ])
    assert edges(docs, ["a", "b", "c", "d"]) == [("a", "b"), ("a", "c"), ("b", "c"), ("c", "d")]
    # steps the history does not know (a non-kubeline task) are left out
    assert edges(docs, ["a", "c"]) == [("a", "c")]
    assert edges(None, ["a"]) == []


def test_stored_manifest_without_executor_state(tmp_path: Path) -> None:
    assert stored_manifest(tmp_path, "no-such-workflow") is None


@pytest.mark.parametrize("path", ["../x", "a/../../b", "/etc/passwd", "a//b", "./a", "a/.",
                                  "a\\b", "a\x00b", "C:/x", ".."])
def test_paths_that_could_leave_an_output_are_refused(path: str) -> None:
    with pytest.raises(WebError) as caught:
        clean_relative(path)
    assert caught.value.status == 400
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("path", ["", "a", "a/b.txt", "sub/more.json", "..a/b..", "a b/c"])
def test_clean_paths_pass_unchanged(path: str) -> None:
    assert clean_relative(path) == path


def test_duration() -> None:
    assert duration(None, None) is None
    assert duration("2026-01-01T00:00:00.000Z", "2026-01-01T00:01:05.500Z") == 65.5
    assert duration("2026-01-01T00:00:10Z", "2026-01-01T00:00:00Z") == 0.0
