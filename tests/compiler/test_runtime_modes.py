"""cluster.runtime: installed (default) runs the shim from the image; inject copies it in."""

from __future__ import annotations

from pathlib import Path

from tests.argo_schema import schema_errors
from tests.pipelines import chain, workspace

from kubeline.compiler.api import render, write_output
from kubeline.compiler.argo.workflow import compile_graph
from kubeline.compiler.argo_lint import lint_offline
from kubeline.compiler.validate import validate_document


def _step_template(doc: dict) -> dict:
    return next(t for t in doc["spec"]["templates"] if "container" in t)


def test_installed_is_the_default(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    doc = compile_graph(chain(ws, 2).graph(), ws.config).documents[-1]
    template = _step_template(doc)
    assert template["container"]["command"] == ["python3", "-m", "kubeline.runtime"]
    assert "initContainers" not in template


def test_inject_adds_the_runtime_init_container(tmp_path: Path, argo_bin: Path) -> None:
    ws = workspace(tmp_path, "name: t\ncluster:\n  runtime: inject\n"
                             "  runtime_image: registry.example/kubeline-runtime:1\n")
    compiled = compile_graph(chain(ws, 2).graph(), ws.config)
    doc = compiled.documents[-1]
    template = _step_template(doc)
    assert template["container"]["command"] == ["python3", "/kubeline/runtime/boot.py"]
    (init,) = template["initContainers"]
    assert init["image"] == "registry.example/kubeline-runtime:1"
    assert init["command"] == ["cp", "-R", "/opt/kubeline/.", "/kubeline/runtime/"]
    mounts = {m["name"]: m["mountPath"] for m in template["container"]["volumeMounts"]}
    assert mounts["kubeline-runtime"] == "/kubeline/runtime"
    assert {"name": "kubeline-runtime", "emptyDir": {}} in doc["spec"]["volumes"]
    assert schema_errors(doc) == [] and validate_document(doc, "x") == []
    write_output(render([compiled]), tmp_path / "out")
    assert lint_offline([tmp_path / "out" / f"{compiled.name}.yaml"]).ok
