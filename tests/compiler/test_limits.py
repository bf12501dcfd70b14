"""Argo's limits hold for any pipeline: name rules, 200 tasks per DAG, object sizes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.argo_schema import schema_errors
from tests.pipelines import chain, workspace

from kubeline import Pipeline, PythonScriptStep
from kubeline.compiler.api import render, write_output
from kubeline.compiler.argo.workflow import compile_graph
from kubeline.compiler.argo_lint import lint_offline
from kubeline.compiler.validate import validate_document
from kubeline.graph.names import ARGO_NAME, PARAM_NAME, dns_label

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _names(doc: dict) -> tuple[list[str], list[str]]:
    templates = doc["spec"]["templates"]
    tasks = [t["name"] for tpl in templates if "dag" in tpl for t in tpl["dag"]["tasks"]]
    return [t["name"] for t in templates], tasks


def test_ten_thousand_steps_fit_argo(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    graph = chain(ws, 10_000).graph()
    compiled = compile_graph(graph, ws.config)
    workflow = compiled.documents[-1]
    templates, tasks = _names(workflow)
    assert len(templates) <= 200
    for tpl in workflow["spec"]["templates"]:
        if "dag" in tpl:
            assert 1 <= len(tpl["dag"]["tasks"]) <= 200
    assert len(tasks) == 10_000 + 50  # every step, plus one task per 200-step chunk
    assert len(json.dumps(workflow, separators=(",", ":"))) < 1024 * 1024
    for cm in compiled.documents[:-1]:
        assert cm["kind"] == "ConfigMap"
        assert sum(len(k) + len(v) for k, v in cm["data"].items()) < 1024 * 1024
    assert schema_errors(workflow) == []
    assert validate_document(workflow, "big") == []
    # step 42 depends on step 41 inside its chunk; chunk 1 waits for chunk 0
    main = workflow["spec"]["templates"][0]["dag"]["tasks"]
    assert main[1] == {"name": "chunk-1", "template": "chunk-1", "depends": "chunk-0"}


def test_chunked_pipeline_passes_argo_lint(tmp_path: Path, argo_bin: Path) -> None:
    ws = workspace(tmp_path)
    compiled = compile_graph(chain(ws, 450).graph(), ws.config)
    write_output(render([compiled]), tmp_path / "out")
    result = lint_offline([tmp_path / "out" / f"{compiled.name}.yaml"])
    assert result.ok, result.messages


ODD = ["My Step!", "x" * 300, "_under_score_", "9lives", "Ünïcode", "a..b"]


@pytest.mark.parametrize("raw", ODD)
def test_odd_names_become_valid(raw: str, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    step = PythonScriptStep("step.py", name=raw, source_directory="scripts")
    pipeline = Pipeline(ws, steps=[step])
    pipeline._base_dir = ws.root
    pipeline.name = raw
    doc = compile_graph(pipeline.graph(), ws.config).documents[-1]
    templates, tasks = _names(doc)
    for name in templates + tasks:
        assert ARGO_NAME.match(name) and len(name) <= 128
    assert DNS_LABEL.match(doc["metadata"]["name"]) and len(doc["metadata"]["name"]) <= 63
    assert dns_label(raw) == dns_label(raw), "deterministic"
    if tasks[0] != raw:
        assert json.loads(doc["metadata"]["annotations"]["kubeline.io/step-names"]) == {
            tasks[0]: raw}


def test_parameter_names_are_valid(tmp_path: Path) -> None:
    from kubeline import PipelineParameter

    ws = workspace(tmp_path)
    param = PipelineParameter("learning rate/α", 0.1)
    step = PythonScriptStep("step.py", name="a", arguments=[param], source_directory="scripts")
    pipeline = Pipeline(ws, steps=[step])
    pipeline._base_dir = ws.root
    doc = compile_graph(pipeline.graph(), ws.config).documents[-1]
    arg = doc["spec"]["arguments"]["parameters"][0]
    assert PARAM_NAME.match(arg["name"]) and arg["value"] == "0.1"
