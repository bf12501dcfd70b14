"""The local executor's artifact repository (where local datastores live) refuses keys that
leave it, instead of clamping them, and never follows a link leading out of a datastore; and
`kubeline run -p` refuses a DataPath value leaving its datastore before anything starts."""


from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from tests.pipelines import kubeline, workspace

from .conftest import run_yaml

WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{generateName: escape-}}
spec:
  entrypoint: main
  templates:
  - name: main
"""

READ = WORKFLOW + """\
    inputs:
      artifacts:
      - name: data
        path: /in/data
        s3: {{key: {key}}}
        archive: {{none: {{}}}}
    container:
      image: busybox
      command: [sh, -c, "cat /in/data > /tmp/seen; echo ran"]
"""

WRITE = WORKFLOW + """\
    container:
      image: busybox
      command: [sh, -c, "echo written > /tmp/out.txt"]
    outputs:
      artifacts:
      - name: result
        path: /tmp/out.txt
        s3: {{key: {key}}}
        archive: {{none: {{}}}}
"""


def _state(tmp_path: Path) -> tuple[Path, Path]:
    """The state folder with datastore 'ws' holding one file, and a folder beside it."""
    state = tmp_path / "state"
    (state / "datastores" / "ws").mkdir(parents=True)
    (state / "datastores" / "ws" / "real.txt").write_text("inside")
    (state / "datastores" / "other").mkdir()
    (state / "datastores" / "other" / "secret.txt").write_text("other datastore")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside")
    return state, outside


@pytest.mark.parametrize("key", ["../../outside/secret.txt", "ws/../../../outside/secret.txt",
                                 "ws/../other/secret.txt", "/etc/hostname",
                                 "'ws\\..\\other\\secret.txt'", "''"])
def test_input_key_leaving_the_repository_is_refused(tmp_path: Path, key: str) -> None:
    state, _ = _state(tmp_path)
    summary = run_yaml(READ.format(key=key), state)
    assert summary.phase == "Error", summary.phase
    node = summary.nodes[0]
    assert node.message.startswith("artifact key ") and "\n" not in node.message, node.message
    assert node.attempts == 0  # refused before the container started


@pytest.mark.parametrize("key", ["../escape.txt", "ws/../../escape.txt", "/tmp/escape.txt"])
def test_output_key_leaving_the_repository_is_refused(tmp_path: Path, key: str) -> None:
    state, _ = _state(tmp_path)
    summary = run_yaml(WRITE.format(key=key), state)
    assert summary.phase in ("Error", "Failed"), summary.phase
    assert "artifact key" in summary.nodes[0].message
    assert not (tmp_path / "escape.txt").exists() and not (state / "escape.txt").exists()


def test_links_in_a_local_datastore_are_not_followed_out(tmp_path: Path) -> None:
    state, outside = _state(tmp_path)
    store = state / "datastores" / "ws"
    os.symlink(outside / "secret.txt", store / "leak.txt")
    os.symlink(outside, store / "leak-dir")
    os.symlink(state / "datastores" / "other", store / "to-other")  # another datastore
    os.symlink("real.txt", store / "alias.txt")  # stays inside: fine
    for key in ("ws/leak.txt", "ws/leak-dir/secret.txt", "ws/to-other/secret.txt"):
        summary = run_yaml(READ.format(key=key), state)
        assert summary.phase == "Error" and summary.nodes[0].attempts == 0, key
        assert "symbolic link" in summary.nodes[0].message, summary.nodes[0].message
    assert run_yaml(READ.format(key="ws/alias.txt"), state).phase == "Succeeded"
    summary = run_yaml(WRITE.format(key="ws/leak-dir/new.txt"), state)
    assert summary.phase in ("Error", "Failed") and not (outside / "new.txt").exists()


def test_a_datastore_folder_that_is_a_link_is_its_root(tmp_path: Path) -> None:
    state, outside = _state(tmp_path)
    os.symlink(outside, state / "datastores" / "mounted")
    assert run_yaml(READ.format(key="mounted/secret.txt"), state).phase == "Succeeded"


PIPELINE = """
    from kubeline import (DataPath, DataPathComputeBinding, Pipeline, PipelineParameter,
                          PythonScriptStep, Workspace)
    ws = Workspace.from_config()
    path = PipelineParameter("input_path", default_value=DataPath(ws.get_default_datastore(),
                                                                  "data"))
    step = PythonScriptStep("step.py", arguments=["--in", path],
                            inputs=[(path, DataPathComputeBinding(mode="download"))],
                            source_directory="scripts")
    pipeline = Pipeline(ws, steps=[step])
"""


@pytest.mark.parametrize("path", ["../../outside", "/etc", "data/../../x", "data\\..\\x"])
def test_run_refuses_a_datapath_value_leaving_the_datastore(tmp_path: Path, path: str) -> None:
    ws = workspace(tmp_path / "ws")
    (ws.root / "pipeline.py").write_text(textwrap.dedent(PIPELINE), encoding="utf-8")
    value = json.dumps({"datastore": "workspaceblobstore", "path": path})
    done = kubeline("run", "pipeline.py", "-p", f"input_path={value}", cwd=ws.root,
                    check=False)
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("kubeline: error: parameter 'input_path': path "
                                f"{path!r}"), done.stderr
    assert "could leave datastore 'workspaceblobstore'" in lines[-1]
    assert "Traceback" not in done.stderr
    assert not (ws.root / ".kubeline" / "history.db").exists()  # no run started
    assert not (ws.root / ".kubeline" / "datastores").exists()  # nor a snapshot uploaded
