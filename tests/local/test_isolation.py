"""Parallel instances of one template write the same absolute paths without colliding."""

# ruff: noqa: E501  (embedded manifests keep their natural line length)
from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import SANDBOX_MODES, run_yaml

FANOUT = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: isolate-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - name: write
        template: write
        arguments: {parameters: [{name: n, value: "{{item}}"}]}
        withItems: [1, 2, 3, 4, 5, 6]
  - name: write
    inputs: {parameters: [{name: n}]}
    container:
      image: busybox
      command: [sh, -c]
      args: ["echo {{inputs.parameters.n}} > /tmp/num && mkdir -p /work/out && echo {{inputs.parameters.n}} > /work/out/v && sleep 0.3 && cat /tmp/num /work/out/v"]
    outputs:
      parameters:
      - {name: num, valueFrom: {path: /tmp/num}}
      - {name: v, valueFrom: {path: /work/out/v}}
      artifacts:
      - {name: dir, path: /work/out}
"""


@pytest.mark.parametrize("mode", SANDBOX_MODES)
def test_parallel_instances_do_not_collide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("KUBELINE_SANDBOX", mode)
    s = run_yaml(FANOUT, tmp_path / "state", parallelism=6)
    assert s.phase == "Succeeded", [(n.display_name, n.message) for n in s.nodes]
    assert s.sandbox == mode
    kids = sorted((n for n in s.nodes if n.type == "Pod"), key=lambda n: n.display_name)
    assert len(kids) == 6
    for i, k in enumerate(kids, start=1):
        assert k.output_parameters == {"num": str(i), "v": str(i)}
        assert k.logs() == f"{i}\n{i}\n"
    # nothing leaked onto the host's own /tmp or /work
    assert not Path("/work/out").exists()
