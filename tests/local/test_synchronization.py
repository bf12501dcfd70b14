"""Argo's synchronization within one run: mutexes serialise, semaphores bound, by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeline.exceptions import UnsupportedManifestError, ValidationError
from tests.local.conftest import run_yaml

WF = """
apiVersion: v1
kind: ConfigMap
metadata: {name: my-config}
data: {template: "2", workflow: "1", zero: "0"}
---
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: sync}
spec:
  entrypoint: main
  WF_SYNC
  templates:
  - name: main
    steps:
    - - {name: work, template: work, withItems: [1, 2, 3, 4]}
  - name: work
    SYNC
    container: {image: busybox, command: [sh, -c, "sleep 0.3"]}
"""


def _overlaps(s) -> int:  # type: ignore[no-untyped-def]
    """The most nodes of template 'work' that ran at once (by event order)."""
    events = []
    for n in s.nodes:
        if n.type == "Pod":
            events += [(n.start_seq, 1), (n.finish_seq, -1)]
    most = now = 0
    for _, delta in sorted(events):
        now += delta
        most = max(most, now)
    return most


@pytest.mark.parametrize(
    ("sync", "limit"),
    [
        ("synchronization: {mutexes: [{name: one}]}", 1),
        ("synchronization: {mutex: {name: one}}", 1),
        ("synchronization: {semaphores: [{configMapKeyRef: {name: my-config, key: template}}]}", 2),
    ],
)
def test_template_locks_bound_concurrent_nodes(tmp_path: Path, sync: str, limit: int) -> None:
    text = WF.replace("WF_SYNC", "").replace("SYNC", sync)
    s = run_yaml(text, tmp_path, parallelism=4)
    assert s.phase == "Succeeded"
    assert _overlaps(s) == limit


def test_without_locks_nodes_overlap(tmp_path: Path) -> None:
    s = run_yaml(WF.replace("WF_SYNC", "").replace("SYNC", ""), tmp_path, parallelism=4)
    assert s.phase == "Succeeded" and _overlaps(s) > 2


def test_workflow_level_lock(tmp_path: Path) -> None:
    wf_sync = ("synchronization: {semaphores: [{configMapKeyRef: "
               "{name: my-config, key: workflow}}], mutexes: [{name: wf}]}")
    s = run_yaml(WF.replace("WF_SYNC", wf_sync).replace("SYNC", ""), tmp_path)
    assert s.phase == "Succeeded"


@pytest.mark.parametrize("key", ["zero", "missing"])
def test_a_semaphore_without_a_positive_limit_is_refused(tmp_path: Path, key: str) -> None:
    ref = f"{{name: my-config, key: {key}}}"
    sync = f"synchronization: {{semaphores: [{{configMapKeyRef: {ref}}}]}}"
    with pytest.raises(ValidationError, match=r"spec.templates\[1\].synchronization: semaphore"):
        run_yaml(WF.replace("WF_SYNC", "").replace("SYNC", sync), tmp_path)
    assert not (tmp_path / "runs").exists()


def test_database_locks_are_refused(tmp_path: Path) -> None:
    sync = "synchronization: {mutexes: [{name: x, database: true}]}"
    with pytest.raises(UnsupportedManifestError, match="database"):
        run_yaml(WF.replace("WF_SYNC", "").replace("SYNC", sync), tmp_path)
