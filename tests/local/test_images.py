"""Images map to this machine's programs; a missing program is named with its image."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kubeline.local import images
from tests.local.conftest import run_yaml

WF = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: images}}
spec:
  entrypoint: main
  templates:
  - name: main
{body}
"""


def _run(tmp_path: Path, body: str):  # type: ignore[no-untyped-def]
    return run_yaml(WF.format(body=body), tmp_path)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("[echo, hello]", "hello"),
        ("[]", "hello argo"),
        ("[echo]", "hello argo"),
    ],
)
def test_argosay_entrypoint_runs_without_command(tmp_path: Path, args: str, expected: str) -> None:
    body = f"    container: {{image: argoproj/argosay:v2, args: {args}}}"
    s = _run(tmp_path, body)
    assert s.phase == "Succeeded", s.nodes[0].message
    assert s.nodes[0].logs().strip() == expected


def test_argosay_writes_an_output_file_and_exits_with_a_code(tmp_path: Path) -> None:
    body = """\
    dag:
      tasks:
      - {name: write, template: write}
      - {name: fail, template: fail, depends: write}
  - name: write
    container: {image: 'quay.io/argoproj/argosay:v2', args: [echo, hi there, /out/msg]}
    outputs:
      parameters:
      - {name: msg, valueFrom: {path: /out/msg}}
  - name: fail
    container: {image: argoproj/argosay:v2, args: [exit, "3"]}"""
    s = _run(tmp_path, body)
    assert s.node("write").output_parameters == {"msg": "hi there"}
    assert s.node("fail").phase == "Failed" and s.node("fail").exit_code == 3
    assert s.phase == "Failed"


def test_a_missing_program_names_the_image_and_program(tmp_path: Path) -> None:
    body = "    container: {image: 'example/tools:1', command: [kl-no-such-tool, --version]}"
    s = _run(tmp_path, body)
    [pod] = s.nodes
    assert pod.phase == "Error"
    assert "kl-no-such-tool" in pod.message and "example/tools:1" in pod.message
    assert "\n" not in pod.message


def test_a_program_missing_in_a_shell_script_is_named_with_the_image(tmp_path: Path) -> None:
    body = "    container: {image: alpine:3.23, command: [sh, -c], args: ['kl-no-such-tool x']}"
    s = _run(tmp_path, body)
    [pod] = s.nodes
    assert pod.phase == "Failed" and pod.exit_code == 127
    assert pod.message.startswith("Error (exit code 127): program 'kl-no-such-tool'")
    assert "alpine:3.23" in pod.message


def test_a_missing_init_container_program_names_its_image(tmp_path: Path) -> None:
    body = """\
    initContainers:
    - {name: setup, image: 'example/init:2', command: [kl-no-such-init]}
    container: {image: busybox, command: [echo, main]}"""
    s = _run(tmp_path, body)
    [pod] = s.nodes
    assert pod.phase == "Error"
    assert "kl-no-such-init" in pod.message and "example/init:2" in pod.message


@pytest.mark.skipif(shutil.which("cowsay", path="/usr/games") is None,
                    reason="Debian's cowsay is not installed (scripts/install-test-deps.sh)")
def test_argosay_v1_has_cowsay_on_its_path(tmp_path: Path) -> None:
    body = "    container: {image: argoproj/argosay:v1, command: [sh, -c], args: ['cowsay hello']}"
    s = _run(tmp_path, body)
    assert s.phase == "Succeeded", s.nodes[0].message
    assert "hello" in s.nodes[0].logs()


@pytest.mark.parametrize(
    ("container", "image", "argv"),
    [
        ({"command": ["sh", "-c"], "args": ["x"]}, "argoproj/argosay:v2", ["sh", "-c", "x"]),
        ({"args": ["echo", "a"]}, "argoproj/argosay:v2", ["argosay", "echo", "a"]),
        ({}, "argoproj/argosay:v1", ["cowsay"]),
        ({"args": ["echo", "a"]}, "busybox", ["echo", "a"]),
        ({}, "docker.io/library/busybox:1.36", ["sh"]),
        ({}, "example/unknown", []),
    ],
)
def test_container_argv_follows_kubernetes_entrypoint_rules(
    container: dict[str, object], image: str, argv: list[str]
) -> None:
    assert images.container_argv(container, image) == argv


@pytest.mark.parametrize(("image", "workdir"), [("python:alpine3.23", "/"), ("busybox", "/"),
                                               ("argoproj/argosay:v2", "")])
def test_a_public_image_outputs_at_top_level_of_its_workdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, image: str, workdir: str
) -> None:
    """A node whose outputs are entries of its image's WORKDIR (/result.txt, WORKDIR /) runs
    there, as in its image (a relative write lands in the output); an image whose WORKDIR is
    not known runs in the folder kubeline run started in. The top-level output path is
    private to the node (the host's / gets nothing), in a DAG where the next task may be
    warm-started."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    body = f"""\
    dag:
      tasks:
      - {{name: first, template: write}}
      - {{name: second, template: write, depends: first}}
  - name: write
    container:
      image: {image}
      command: [sh, -c, 'pwd > /where.txt && echo done > /result.txt']
    outputs:
      parameters:
      - {{name: where, valueFrom: {{path: /where.txt}}}}
      artifacts:
      - {{name: result, path: /result.txt}}"""
    s = _run(tmp_path / "state", body)
    assert s.phase == "Succeeded", [(n.display_name, n.message) for n in s.nodes]
    expected = workdir if workdir and s.sandbox == "bwrap" else str(work)
    assert s.node("second").output_parameters == {"where": expected}
    assert not Path("/result.txt").exists() and not Path("/where.txt").exists()


@pytest.mark.parametrize("image", ["python:3.11", "busybox"])
def test_nodes_whose_outputs_lie_elsewhere_run_in_the_run_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, image: str
) -> None:
    """Local files stay reachable by relative paths unless the outputs say the node writes
    into its image's working folder."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "local.txt").write_text("mine")
    monkeypatch.chdir(work)
    body = f"""    container:
      image: {image}
      command: [sh, -c, 'cat local.txt > /tmp/out.txt']
    outputs:
      parameters:
      - {{name: read, valueFrom: {{path: /tmp/out.txt}}}}"""
    s = _run(tmp_path / "state", body)
    assert s.phase == "Succeeded", [(n.display_name, n.message) for n in s.nodes]
    assert s.node(s.id).output_parameters == {"read": "mine"}


def test_a_relative_write_lands_in_a_top_level_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Argo's conditional-artifacts pattern: the script writes result.txt relative to the
    image's WORKDIR (/) and outputs /result.txt; nothing reaches the run folder."""
    if shutil.which("bwrap") is None:
        pytest.skip("needs bubblewrap's private root (without it the run folder is kept)")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    body = """    script:
      image: python:alpine3.23
      command: [python]
      source: |
        with open("result.txt", "w") as f:
          f.write("it was heads")
    outputs:
      artifacts:
      - {name: result, path: /result.txt, archive: {none: {}}}"""
    s = _run(tmp_path / "state", body)
    assert s.phase == "Succeeded", [(n.display_name, n.message) for n in s.nodes]
    [art] = s.node(s.id).output_artifacts
    assert Path(art["location"].removeprefix("file://")).read_text() == "it was heads"
    assert not (work / "result.txt").exists()
