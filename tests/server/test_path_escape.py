"""REST submissions (a real ``kubeline serve``) and PublishedPipeline.submit refuse a DataPath
whose path leaves its datastore: 400 naming the field, one line, no run started."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from kubeline import (
    DataPath,
    DataPathComputeBinding,
    Pipeline,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)
from kubeline.datapaths import DatastorePathError
from kubeline.dsl.publish import PipelineEndpoint, PublishedPipeline
from kubeline.exceptions import KubelineError
from kubeline.history.db import History
from tests.server.conftest import Server, kubeline, make_workspace

ESCAPING = ["../../outside", "/etc/passwd", "data/../../x", "..\\..\\x", "a\x00b",
            "C:/x", "s3://bucket/x"]


def _publish(ws: Workspace) -> PublishedPipeline:
    path = PipelineParameter("input_path",
                             default_value=DataPath(ws.get_default_datastore(), "data"))
    step = PythonScriptStep("step.py", name="echo", source_directory="src",
                            arguments=["--name", "x"],
                            inputs=[(path, DataPathComputeBinding(mode="download"))])
    pipeline = Pipeline(ws, steps=[step])
    pipeline.name = "reader"
    pipeline._base_dir = ws.root
    return pipeline.publish(name="Reader", description="reads a DataPath", version="1")


def _runs(root: Path) -> int:
    with History(root / ".kubeline") as db:
        return len(db.list_runs())


def test_rest_refuses_paths_leaving_the_datastore(tmp_path: Path,
                                                  serve: Callable[..., Server]) -> None:
    ws = make_workspace(tmp_path / "ws")
    pub = _publish(ws)
    PipelineEndpoint.publish(ws, "reader-endpoint", "the reader", pub)
    token = kubeline("token", "create", "ci", cwd=ws.root).strip()
    server = serve(ws.root)
    urls = [f"/pipelines/{pub.id}", "/pipelineEndpoints/reader-endpoint"]
    for bad in ESCAPING:
        bodies = [
            ("DataPathAssignments.input_path.RelativePath",
             {"ExperimentName": "e", "DataPathAssignments": {"input_path": {
                 "DataStoreName": "workspaceblobstore", "RelativePath": bad}}}),
            ("ParameterAssignments.input_path.path",
             {"ExperimentName": "e", "ParameterAssignments": {"input_path": {
                 "datastore": "workspaceblobstore", "path": bad}}}),
        ]
        for (field, body), url in itertools.product(bodies, urls):
            response = server.post(url, body, token)
            assert response.status_code == 400, (bad, url, response.text)
            error = response.json()["error"]
            assert error["field"] == field, error
            assert "\n" not in error["message"] and repr(bad) in error["message"], error
            assert "could leave datastore 'workspaceblobstore'" in error["message"], error
    assert _runs(ws.root) == 0
    good = {"ExperimentName": "e", "DataPathAssignments": {"input_path": {
        "DataStoreName": "workspaceblobstore", "RelativePath": "./data//v2/"}}}
    response = server.post(f"/pipelines/{pub.id}", good, token)
    assert response.status_code == 200, response.text
    assert _runs(ws.root) == 1


@pytest.mark.parametrize("bad", ["../x", "/abs", "a/../../b"])
def test_published_submit_refuses_before_starting(tmp_path: Path, bad: str) -> None:
    ws = make_workspace(tmp_path / "ws")
    pub = _publish(ws)
    with pytest.raises(DatastorePathError):
        pub.submit(ws, "e", pipeline_parameters={
            "input_path": DataPath(ws.get_default_datastore(), bad)})
    with pytest.raises(KubelineError) as info:
        pub.submit(ws, "e", pipeline_parameters={
            "input_path": {"datastore": "workspaceblobstore", "path": bad}})
    assert repr(bad) in str(info.value) and "\n" not in str(info.value)
    assert not (ws.root / ".kubeline" / "history.db").exists() or _runs(ws.root) == 0
