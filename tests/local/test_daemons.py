"""Daemon templates as Argo runs them: up (and ready) before the steps or tasks after them
start, reachable at ``{{steps.X.ip}}`` / ``{{tasks.X.ip}}``, killed when their scope ends
(their node then Succeeded), Failed when they end on their own."""

# ruff: noqa: E501  (embedded manifests keep their natural line length)
from __future__ import annotations

import socket
from pathlib import Path

import pytest

from .conftest import SANDBOX_MODES, run_yaml


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


SERVER = """
  - name: server
    daemon: true
    container:
      image: python:3
      command: [python, -m, http.server, "{{{{workflow.parameters.port}}}}", --bind, 127.0.0.1]
      readinessProbe: {probe}
  - name: client
    inputs: {{parameters: [{{name: ip}}]}}
    script:
      image: python:3
      command: [python]
      source: |
        import urllib.request
        print(urllib.request.urlopen("http://{{{{inputs.parameters.ip}}}}:{{{{workflow.parameters.port}}}}/").status)
"""

STEPS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{generateName: daemon-steps-}}
spec:
  entrypoint: main
  arguments: {{parameters: [{{name: port}}]}}
  templates:
  - name: main
    steps:
    - - {{name: server, template: server}}
    - - {{name: client, template: client, arguments: {{parameters: [{{name: ip, value: "{{{{steps.server.ip}}}}"}}]}}}}
    - - {{name: again, template: client, arguments: {{parameters: [{{name: ip, value: "{{{{steps.server.ip}}}}"}}]}}}}
""" + SERVER

DAG = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{generateName: daemon-dag-}}
spec:
  entrypoint: main
  arguments: {{parameters: [{{name: port}}]}}
  templates:
  - name: outer
    steps:
    - - {{name: inner, template: main}}
    - - {{name: after, template: probe-closed}}
  - name: probe-closed
    script:
      image: python:3
      command: [python]
      source: |
        import socket
        s = socket.socket()
        assert s.connect_ex(("127.0.0.1", {{{{workflow.parameters.port}}}})) != 0, "daemon still up"
  - name: main
    dag:
      tasks:
      - {{name: server, template: server}}
      - name: client
        depends: server
        template: client
        arguments: {{parameters: [{{name: ip, value: "{{{{tasks.server.ip}}}}"}}]}}
        withSequence: {{count: "3"}}
""" + SERVER

HTTP_PROBE = "{httpGet: {path: /, port: '{{workflow.parameters.port}}'}}"
TCP_PROBE = "{tcpSocket: {port: '{{workflow.parameters.port}}'}, initialDelaySeconds: 0}"


@pytest.mark.parametrize("sandbox", SANDBOX_MODES)
@pytest.mark.parametrize("probe", [HTTP_PROBE, TCP_PROBE])
def test_steps_reach_the_daemon_at_its_ip_and_it_stops_with_the_steps(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: str, probe: str) -> None:
    monkeypatch.setenv("KUBELINE_SANDBOX", sandbox)
    port = _free_port()
    s = run_yaml(STEPS.format(probe=probe), tmp_path, parameters={"port": str(port)})
    assert s.phase == "Succeeded", s.message
    assert s.node("server").phase == "Succeeded"  # stopped by its scope's end, as Argo marks it
    assert s.node("client").logs() == "200\n"
    assert s.node("again").logs() == "200\n"  # still up for the group after the next
    assert not _listening(port)


def test_dag_tasks_depend_on_a_daemon_and_it_stops_with_its_dag(tmp_path: Path) -> None:
    port = _free_port()
    text = DAG.format(probe=TCP_PROBE).replace("entrypoint: main", "entrypoint: outer")
    s = run_yaml(text, tmp_path, parameters={"port": str(port)})
    assert s.phase == "Succeeded", s.message
    clients = [n for n in s.nodes if n.display_name.startswith("client(")]
    assert len(clients) == 3 and all(n.logs() == "200\n" for n in clients)
    assert s.node("after").phase == "Succeeded"  # the DAG's end stopped the server
    assert not _listening(port)


def test_daemon_with_retry_strategy_is_daemoned_through_its_retry_node(tmp_path: Path) -> None:
    port = _free_port()
    text = DAG.format(probe=TCP_PROBE).replace(
        "    daemon: true\n", "    daemon: true\n    retryStrategy: {limit: 2}\n")
    s = run_yaml(text, tmp_path, parameters={"port": str(port)})
    assert s.phase == "Succeeded", s.message
    retry = next(n for n in s.nodes if n.type == "Retry")
    assert retry.phase == "Succeeded" and len(retry.children) == 1


def test_a_daemon_that_ends_on_its_own_fails(tmp_path: Path) -> None:
    text = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: daemon-ends-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: quits, template: quits}
  - name: quits
    daemon: true
    container:
      image: busybox
      command: [sh, -c, "exit 0"]
      readinessProbe: {tcpSocket: {port: 1}}
"""
    s = run_yaml(text, tmp_path)
    assert s.phase == "Failed"
    assert s.node("quits").phase == "Failed"  # "daemons should run indefinitely" (Argo)


def test_a_daemon_without_probe_is_up_once_started_and_killed_at_the_end(tmp_path: Path) -> None:
    text = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: daemon-sleeps-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: forever, template: forever}
      - {name: next, template: next, depends: forever}
  - name: forever
    daemon: true
    container: {image: busybox, command: [sleep, "100000"]}
  - name: next
    container: {image: busybox, command: [echo, next]}
"""
    s = run_yaml(text, tmp_path)  # returns: the daemon is killed when the DAG ends
    assert s.phase == "Succeeded", s.message
    assert s.node("forever").phase == "Succeeded"
    assert s.node("next").logs() == "next\n"


def test_an_exec_probe_is_named_in_the_error(tmp_path: Path) -> None:
    text = STEPS.format(probe="{exec: {command: [cat, /tmp/x]}}")
    s = run_yaml(text, tmp_path, parameters={"port": str(_free_port())})
    assert s.phase == "Failed"
    assert s.node("server").phase == "Error"
    assert s.node("server").message == "only tcpSocket and httpGet readiness probes run locally"
