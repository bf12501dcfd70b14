"""Manifests using what the executor does not implement are refused before anything runs."""

# ruff: noqa: E501  (embedded manifests keep their natural line length)
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kubeline.exceptions import UnsupportedManifestError, ValidationError

from .conftest import run_yaml

BASE = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{generateName: refuse-}}
spec:
  entrypoint: main
  templates:
  - name: main
{body}
"""


def _wf(body: str) -> str:
    return BASE.format(body=body)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (
            "    container: {image: x, command: [echo], envFrom: [{configMapRef: {name: c}}]}",
            "spec.templates[0].container.envFrom",
        ),
        ("    resource: {action: create, manifest: 'kind: Job'}", "spec.templates[0].resource"),
        (
            "    container: {image: x, command: [echo]}\n    sidecars: [{name: s, image: y}]",
            "spec.templates[0].sidecars",
        ),
        (
            "    container: {image: x, command: [echo], mystery: 1}",
            "spec.templates[0].container.mystery",
        ),
        (
            "    inputs: {artifacts: [{name: a, path: /a, git: {repo: 'https://x'}}]}\n    container: {image: x, command: [echo]}",
            "spec.templates[0].inputs.artifacts[0].git",
        ),
        (
            "    container: {image: x, command: [echo, '{{=filter([1,2], {now() > #})}}']}",
            "spec.templates[0].container.command[1]",
        ),
        (
            "    container: {image: x, command: [echo, '{{=sprig.randAlpha(4)}}']}",
            "spec.templates[0].container.command[1]",
        ),
    ],
)
def test_refused_with_field_path(tmp_path: Path, body: str, path: str) -> None:
    with pytest.raises(UnsupportedManifestError) as info:
        run_yaml(_wf(body), tmp_path)
    message = str(info.value)
    assert message.startswith(path)
    assert "\n" not in message
    assert not (tmp_path / "runs").exists()  # refused before any run was created


def test_unknown_template_reference_is_a_validation_error(tmp_path: Path) -> None:
    body = "    dag:\n      tasks:\n      - {name: a, template: nowhere}"
    with pytest.raises(ValidationError) as info:
        run_yaml(_wf(body), tmp_path)
    assert "spec.templates[0].dag.tasks[0].template: template 'nowhere' is not defined" in str(
        info.value
    )


def test_cli_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    wf = tmp_path / "wf.yaml"
    wf.write_text(_wf("    container: {image: x, command: [echo], lifecycle: {}}"))
    done = subprocess.run(
        [sys.executable, "-m", "kubeline.cli.run", str(wf), "--state-dir", str(tmp_path / "s")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "kubeline: error: spec.templates[0].container.lifecycle is not supported by the local executor"
    )
    assert "Traceback" not in done.stderr


def test_missing_parameter_value_is_a_usage_error(tmp_path: Path) -> None:
    text = """
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: needs-param}
spec:
  entrypoint: main
  arguments: {parameters: [{name: msg}]}
  templates:
  - name: main
    container: {image: x, command: [echo, "{{workflow.parameters.msg}}"]}
"""
    with pytest.raises(ValidationError) as info:
        run_yaml(text, tmp_path)
    assert str(info.value) == "spec.arguments.parameters.msg has no value (pass -p msg=...)"
    s = run_yaml(text, tmp_path, parameters={"msg": "given"})
    assert s.phase == "Succeeded"
    assert s.id.startswith("needs-param-")
    [pod] = [n for n in s.nodes if n.type == "Pod"]
    assert pod.logs() == "given\n"


def test_misspelt_parameter_suggests_the_close_one(tmp_path: Path) -> None:
    (tmp_path / "wf.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: p}\nspec:\n"
        "  entrypoint: main\n  arguments:\n    parameters:\n    - {name: message, value: hi}\n"
        "  templates:\n  - name: main\n    container: {image: x, command: [echo, hi]}\n",
        encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "kubeline.cli", "run", "wf.yaml", "-p",
                           "mesage=yo"], cwd=tmp_path, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2
    assert done.stderr == ("kubeline: error: parameter 'mesage' is not a parameter of this "
                           "workflow (did you mean 'message'? known: message)\n")


def test_parameter_value_of_the_wrong_type_starts_nothing(tmp_path: Path) -> None:
    from tests.pipelines import copy_example

    pipeline = copy_example("data_dependency", tmp_path)
    done = subprocess.run([sys.executable, "-m", "kubeline.cli", "run", "pipeline.py", "-p",
                           "top=three"], cwd=pipeline.parent, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == ("kubeline: error: parameter 'top' is int: 'three' "
                                            "is not a whole number (fix the -p value)")
    assert not (pipeline.parent / ".kubeline" / "runs").exists(), "nothing may start"


def test_datapath_on_a_datastore_the_pipeline_does_not_use_starts_nothing(
        tmp_path: Path) -> None:
    from tests.pipelines import copy_example

    pipeline = copy_example("data_dependency", tmp_path)
    done = subprocess.run([sys.executable, "-m", "kubeline.cli", "run", "pipeline.py", "-p",
                           'raw_data={"datastore": "nope", "path": "sales/2026"}'],
                          cwd=pipeline.parent, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "kubeline: error: parameter 'raw_data': datastore 'nope' is not one this pipeline uses "
        "(known: workspaceblobstore) (fix the -p value)")
    assert not (pipeline.parent / ".kubeline" / "runs").exists(), "nothing may start"
