"""A pod's other containers as Argo runs them: containerSet templates (dependencies, the
``main`` container's result and outputs, failures) and sidecars (started beside main, killed
once main ends, never deciding the node)."""

# ruff: noqa: E501  (embedded manifests keep their natural line length)
from __future__ import annotations

from pathlib import Path

import pytest

from kubeline.exceptions import UnsupportedManifestError

from .conftest import SANDBOX_MODES, run_yaml

GRAPH = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: graph-}
spec:
  entrypoint: main
  templates:
  - name: main
    volumes: [{name: ws, emptyDir: {}}]
    containerSet:
      volumeMounts: [{name: ws, mountPath: /ws}]
      containers:
      - {name: a, image: busybox, command: [sh, -c, "echo a >> /ws/order"]}
      - {name: b, image: busybox, command: [sh, -c, "echo b >> /ws/order"], dependencies: [a]}
      - {name: c, image: busybox, command: [sh, -c, "echo c >> /ws/order"], dependencies: [a]}
      - {name: main, image: busybox, command: [sh, -c, "echo d >> /ws/order; cat /ws/order"], dependencies: [b, c]}
    outputs:
      parameters:
      - {name: order, valueFrom: {path: /ws/order}}
"""


@pytest.mark.parametrize("sandbox", SANDBOX_MODES)
def test_container_set_runs_each_container_after_its_dependencies(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: str) -> None:
    monkeypatch.setenv("KUBELINE_SANDBOX", sandbox)
    s = run_yaml(GRAPH, tmp_path)
    assert s.phase == "Succeeded", s.message
    pod = next(n for n in s.nodes if n.type == "Pod")
    order = pod.output_parameters["order"].split("\n")
    assert order[0] == "a" and order[-1] == "d" and sorted(order[1:3]) == ["b", "c"]
    containers = {n.display_name: n.phase for n in s.nodes if n.type == "Container"}
    assert containers == {"a": "Succeeded", "b": "Succeeded", "c": "Succeeded",
                          "main": "Succeeded"}
    assert pod.logs().split("\n")[:4] == order  # the pod's log is main's


def test_container_set_result_is_mains_stdout(tmp_path: Path) -> None:
    text = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: result-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: group}
      - {name: b, template: verify, dependencies: [a], arguments: {parameters: [{name: x, value: "{{tasks.a.outputs.result}}"}]}}
  - name: group
    containerSet:
      containers:
      - {name: other, image: python:3, command: [python, -c, "print('not me')"]}
      - {name: main, image: python:3, command: [python, -c, "print('hi')"]}
  - name: verify
    inputs: {parameters: [{name: x}]}
    container: {image: busybox, command: [sh, -c, "test '{{inputs.parameters.x}}' = hi"]}
"""
    s = run_yaml(text, tmp_path)
    assert s.phase == "Succeeded", s.message
    assert s.node("a").result == "hi"


def test_a_failing_container_fails_the_pod_and_its_dependents_never_start(tmp_path: Path) -> None:
    text = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: fails-}
spec:
  entrypoint: main
  templates:
  - name: main
    volumes: [{name: ws, emptyDir: {}}]
    containerSet:
      volumeMounts: [{name: ws, mountPath: /ws}]
      containers:
      - {name: a, image: busybox, command: [sh, -c, "exit 3"]}
      - {name: b, image: busybox, command: [sh, -c, "touch /ws/b-ran"], dependencies: [a]}
      - {name: main, image: busybox, command: [sh, -c, "true"]}
"""
    s = run_yaml(text, tmp_path)
    assert s.phase == "Failed"
    pod = next(n for n in s.nodes if n.type == "Pod")
    assert pod.phase == "Failed" and pod.message == "container a: Error (exit code 3)"
    phases = {n.display_name: n.phase for n in s.nodes if n.type == "Container"}
    assert phases == {"a": "Failed", "b": "Omitted", "main": "Succeeded"}
    assert not list(Path(pod.log_dir).rglob("b-ran"))


def test_container_set_dependency_errors(tmp_path: Path) -> None:
    cycle = GRAPH.replace('dependencies: [a]}\n      - {name: c', 'dependencies: [a, main]}\n      - {name: c')
    s = run_yaml(cycle, tmp_path / "cycle")
    assert s.phase == "Error"
    assert "dependency cycle" in next(n for n in s.nodes if n.type == "Pod").message
    unknown = GRAPH.replace("dependencies: [b, c]", "dependencies: [b, nobody]")
    s = run_yaml(unknown, tmp_path / "unknown")
    assert "dependency 'nobody' is not a container of the set" in \
        next(n for n in s.nodes if n.type == "Pod").message


def test_container_set_retry_strategy_is_refused(tmp_path: Path) -> None:
    text = GRAPH.replace("    containerSet:\n", "    containerSet:\n      retryStrategy: {retries: 2}\n")
    with pytest.raises(UnsupportedManifestError) as info:
        run_yaml(text, tmp_path)
    assert str(info.value).startswith("spec.templates[0].containerSet.retryStrategy")


SIDECAR = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: sidecar-}
spec:
  entrypoint: main
  templates:
  - name: main
    volumes: [{name: shared, emptyDir: {}}]
    container:
      image: busybox
      command: [sh, -c, "until [ -f /shared/ready ]; do sleep 0.1; done; cat /shared/ready"]
      volumeMounts: [{name: shared, mountPath: /shared}]
    sidecars:
    - name: helper
      image: busybox
      command: [sh, -c, "echo from-sidecar > /shared/ready.tmp && mv /shared/ready.tmp /shared/ready && exec sleep 100000"]
      mirrorVolumeMounts: true
"""


@pytest.mark.parametrize("sandbox", SANDBOX_MODES)
def test_sidecar_runs_beside_main_and_is_killed_when_main_ends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: str) -> None:
    monkeypatch.setenv("KUBELINE_SANDBOX", sandbox)
    s = run_yaml(SIDECAR, tmp_path)  # returns although the sidecar would sleep for a day
    assert s.phase == "Succeeded", s.message
    pod = s.node(s.id)
    assert pod.logs() == "from-sidecar\n"
    assert (Path(pod.log_dir) / "helper.stdout").exists()


def test_a_failing_sidecar_does_not_decide_the_node(tmp_path: Path) -> None:
    text = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: sidecar-fails-}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: busybox, command: [sh, -c, "echo main"]}
    sidecars:
    - {name: broken, image: busybox, command: [sh, -c, "exit 7"]}
"""
    s = run_yaml(text, tmp_path)
    assert s.phase == "Succeeded"
    assert s.node(s.id).logs() == "main\n"


def test_main_failing_still_stops_the_sidecar(tmp_path: Path) -> None:
    text = SIDECAR.replace("cat /shared/ready", "exit 4")
    s = run_yaml(text, tmp_path)
    assert s.phase == "Failed"
    assert s.node(s.id).message == "Error (exit code 4)"


def test_sidecar_without_a_command_names_its_image(tmp_path: Path) -> None:
    text = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: sidecar-unknown-}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: busybox, command: [sh, -c, "echo main"]}
    sidecars:
    - {name: helper, image: "example.com/unknown:1"}
"""
    s = run_yaml(text, tmp_path)
    assert s.phase == "Error"
    assert "sidecars[0] (helper) has no command and image 'example.com/unknown:1'" in \
        s.node(s.id).message
