"""Output paths do not exist when main starts (as in a pod, where nothing mounts them).

A script that creates its output folder itself (``os.mkdir``, ``mkdir`` without ``-p``) must
succeed, for every kind of output path: output artifacts (file or folder), output
parameters' ``valueFrom.path``, and their parents; in both sandbox modes.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from kubeline.local.summary import RunSummary
from tests.local.conftest import SANDBOX_MODES, run_yaml

WF = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: outpaths}}
spec:
  entrypoint: main
  templates:
  - name: main
    script:
      image: python:alpine3.6
      command: [python]
      source: |
        import os
        for p in {probe!r}:
            assert not os.path.exists(p), p + " exists before main writes it"
{body}
    outputs:
{outputs}
"""


@pytest.fixture(params=SANDBOX_MODES)
def sandbox(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs once per sandbox mode (KUBELINE_SANDBOX)."""
    mode = str(request.param)
    monkeypatch.setenv("KUBELINE_SANDBOX", mode)
    return mode


def _run(tmp_path: Path, probe: list[str], body: str, outputs: str) -> RunSummary:
    text = WF.format(probe=probe, body=body, outputs=outputs)
    return run_yaml(text, tmp_path / "state")


def _assert_succeeded(summary: RunSummary) -> None:
    assert summary.phase == "Succeeded", [(n.display_name, n.message, n.logs())
                                          for n in summary.nodes]


@pytest.mark.usefixtures("sandbox")
def test_output_artifact_folder_created_by_the_script(
    tmp_path: Path
) -> None:
    body = """\
        os.mkdir("/tmp/outputs")
        os.mkdir("/tmp/outputs/model")
        open("/tmp/outputs/model/weights.txt", "w").write("w=1")
"""
    outputs = """\
      artifacts:
      - {name: model, path: /tmp/outputs/model}
"""
    s = _run(tmp_path, ["/tmp/outputs", "/tmp/outputs/model"], body, outputs)
    _assert_succeeded(s)
    [pod] = s.nodes
    [art] = pod.output_artifacts
    with tarfile.open(art["location"].removeprefix("file://"), "r:gz") as tar:
        assert "model/weights.txt" in tar.getnames()


@pytest.mark.usefixtures("sandbox")
def test_output_parameter_parent_created_by_the_script(
    tmp_path: Path
) -> None:
    body = """\
        os.mkdir("/tmp/params")
        open("/tmp/params/answer", "w").write("42\\n")
"""
    outputs = """\
      parameters:
      - name: answer
        valueFrom: {path: /tmp/params/answer}
"""
    s = _run(tmp_path, ["/tmp/params", "/tmp/params/answer"], body, outputs)
    _assert_succeeded(s)
    assert s.nodes[0].output_parameters == {"answer": "42"}


@pytest.mark.usefixtures("sandbox")
def test_output_file_artifact_with_deep_parents(
    tmp_path: Path
) -> None:
    body = """\
        os.makedirs("/tmp/a/b/c")
        open("/tmp/a/b/c/report.txt", "w").write("ok")
"""
    outputs = """\
      artifacts:
      - {name: report, path: /tmp/a/b/c/report.txt, archive: {none: {}}}
"""
    s = _run(tmp_path, ["/tmp/a"], body, outputs)
    _assert_succeeded(s)
    [art] = s.nodes[0].output_artifacts
    assert Path(art["location"].removeprefix("file://")).read_text() == "ok"


@pytest.mark.usefixtures("sandbox")
def test_missing_output_folder_is_an_error_as_in_argo(
    tmp_path: Path
) -> None:
    """Writing into a folder nobody created fails, as it does in a pod."""
    body = """\
        open("/tmp/nowhere/answer", "w").write("42")
"""
    outputs = """\
      parameters:
      - name: answer
        valueFrom: {path: /tmp/nowhere/answer}
"""
    s = _run(tmp_path, ["/tmp/nowhere"], body, outputs)
    assert s.phase == "Failed"
    [pod] = s.nodes
    assert "No such file or directory" in pod.logs()


@pytest.mark.usefixtures("sandbox")
def test_output_under_an_input_artifact_or_volume_exists_because_mounted(
    tmp_path: Path
) -> None:
    """What a pod mounts (an emptyDir volume, an input artifact's folder) does exist."""
    text = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: mounted}
spec:
  entrypoint: main
  volumes:
  - {name: work, emptyDir: {}}
  templates:
  - name: main
    inputs:
      artifacts:
      - {name: seed, path: /tmp/seed/input.txt, raw: {data: "seed"}}
    script:
      image: python:alpine3.6
      command: [python]
      volumeMounts:
      - {name: work, mountPath: /data}
      source: |
        import os
        assert os.path.isdir("/data") and os.path.isdir("/tmp/seed")
        open("/data/out.txt", "w").write("from volume")
        open("/tmp/seed/out.txt", "w").write("next to input")
    outputs:
      parameters:
      - {name: v, valueFrom: {path: /data/out.txt}}
      - {name: s, valueFrom: {path: /tmp/seed/out.txt}}
"""
    s = run_yaml(text, tmp_path / "state")
    _assert_succeeded(s)
    assert s.nodes[0].output_parameters == {"v": "from volume", "s": "next to input"}


@pytest.mark.usefixtures("sandbox")
def test_output_folder_outside_tmp_in_an_existing_host_folder(
    tmp_path: Path
) -> None:
    """Argo's map-reduce example: os.mkdir("/mnt/out") for outputs under /mnt (a folder the
    host has): /mnt/out does not exist first, what the script writes stays private to the
    node (the host's /mnt gets nothing) and the host's own /mnt entries stay visible."""
    host_entries = sorted(os.listdir("/mnt"))
    assert not os.path.lexists("/mnt/kl-out")
    text = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: mntout}
spec:
  entrypoint: main
  templates:
  - name: main
    inputs:
      artifacts:
      - {name: part, path: /mnt/kl-in/part.json, raw: {data: '{"n": 2}'}}
    script:
      image: python:alpine3.23
      command: [python]
      source: |
        import json, os
        assert not os.path.exists("/mnt/kl-out")
        assert set(HOST_ENTRIES) <= set(os.listdir("/mnt")), os.listdir("/mnt")
        os.mkdir("/mnt/kl-out")
        n = json.load(open("/mnt/kl-in/part.json"))["n"]
        json.dump({"n": n * 2}, open("/mnt/kl-out/part.json", "w"))
    outputs:
      artifacts:
      - {name: part, path: /mnt/kl-out/part.json, archive: {none: {}}}
""".replace("HOST_ENTRIES", repr(host_entries))
    s = run_yaml(text, tmp_path / "state")
    _assert_succeeded(s)
    [art] = s.nodes[0].output_artifacts
    assert Path(art["location"].removeprefix("file://")).read_text() == '{"n": 4}'
    assert sorted(os.listdir("/mnt")) == host_entries


@pytest.mark.usefixtures("sandbox")
@pytest.mark.parametrize("kind", ["file", "folder"])
def test_top_level_output_path_does_not_exist_first(
    tmp_path: Path, kind: str
) -> None:
    """Argo's argosay examples write /output, /file...: a top-level entry the host lacks
    does not exist until the program makes it (a file or a folder), and stays private."""
    assert not os.path.lexists("/kl-result")
    make = ('open("/kl-result", "w").write("42")' if kind == "file" else
            'os.mkdir("/kl-result"); open("/kl-result/v", "w").write("42")')
    read = "/kl-result" if kind == "file" else "/kl-result/v"
    text = f"""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: toplevel}}
spec:
  entrypoint: main
  templates:
  - name: main
    script:
      image: python:alpine3.23
      command: [python]
      source: |
        import os
        assert not os.path.lexists("/kl-result")
        {make}
    outputs:
      parameters:
      - {{name: v, valueFrom: {{path: {read}}}}}
      artifacts:
      - {{name: a, path: /kl-result}}
"""
    s = run_yaml(text, tmp_path / "state")
    _assert_succeeded(s)
    assert s.nodes[0].output_parameters == {"v": "42"}
    assert not os.path.lexists("/kl-result")
