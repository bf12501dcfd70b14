"""The number of node processes running at once never exceeds the limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import run_yaml

TEMPLATE = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{generateName: par-}}
spec:
  entrypoint: main
  {spec_parallelism}
  templates:
  - name: main
    {tmpl_parallelism}
    dag:
      tasks:
      - name: work
        template: work
        arguments: {{parameters: [{{name: n, value: "{{{{item}}}}"}}]}}
        withItems: [1, 2, 3, 4, 5, 6]
  - name: work
    inputs: {{parameters: [{{name: n}}]}}
    container:
      image: busybox
      command: [sh, -c, "echo start >> {log}; sleep 0.2; echo end >> {log}"]
"""


def _max_overlap(log: Path) -> int:
    running = peak = 0
    for line in log.read_text().split():
        running += 1 if line == "start" else -1
        peak = max(peak, running)
    return peak


@pytest.mark.parametrize(
    ("cli", "spec", "tmpl", "bound"),
    [(1, None, None, 1), (2, None, None, 2), (6, 2, None, 2), (6, None, 3, 3)],
)
def test_parallelism_limits(
    tmp_path: Path, cli: int, spec: int | None, tmpl: int | None, bound: int
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    log = state / "events.log"  # the state dir is visible to nodes; their /tmp is private
    text = TEMPLATE.format(
        log=log,
        spec_parallelism=f"parallelism: {spec}" if spec else "",
        tmpl_parallelism=f"parallelism: {tmpl}" if tmpl else "",
    )
    s = run_yaml(text, state, parallelism=cli)
    assert s.phase == "Succeeded"
    assert log.read_text().split().count("start") == 6
    assert 1 <= _max_overlap(log) <= bound
