"""AML's DataSetDefinitionValueAssignments through a real ``kubeline serve`` on loopback: a
published pipeline's dataset parameter replaced by a registered dataset (by id, by name and
version) or a datastore path, and every malformed or unknown assignment refused with a 400
naming the field before anything starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubeline import (
    Dataset,
    DatasetConsumptionConfig,
    Experiment,
    Pipeline,
    PipelineParameter,
    PipelineRun,
    PythonScriptStep,
)
from kubeline.dsl.publish import PublishedPipeline
from kubeline.history.db import History
from tests.server.conftest import Server, kubeline, make_workspace

SHOW = ("import sys\nfrom azureml.core import Run\n"
        "ds = Run.get_context().input_datasets['text']\n"
        "print('SHOW', open(sys.argv[1]).read(), ds == sys.argv[1])\n")
FIELD = "DataSetDefinitionValueAssignments"


@pytest.fixture
def served(tmp_path: Path, serve: Callable[..., Server]
           ) -> tuple[Server, PublishedPipeline, str, dict[str, Any]]:
    """A published pipeline whose step prints the file of its dataset parameter 'text_param'
    (default: one.txt), datasets 'greeting' (versions 1: two.txt, 2: three.txt) and 'table'
    registered, and a token."""
    ws = make_workspace(tmp_path / "ws")
    (ws.root / "src" / "show.py").write_text(SHOW, encoding="utf-8")
    store = ws.get_default_datastore()
    data = ws.root / "data"
    data.mkdir()
    for name, text in (("one.txt", "hello"), ("two.txt", "bye"), ("three.txt", "again"),
                       ("four.txt", "literal"), ("t.csv", "a,b\n1,2\n")):
        (data / name).write_text(text, encoding="utf-8")
    store.upload(str(data), target_path="data", overwrite=True, show_progress=False)
    registered = {
        "v1": Dataset.File.from_files((store, "data/two.txt")).register(ws, "greeting"),
        "v2": Dataset.File.from_files((store, "data/three.txt")).register(
            ws, "greeting", create_new_version=True),
        "table": Dataset.Tabular.from_delimited_files((store, "data/t.csv")).register(
            ws, "table"),
    }
    param = PipelineParameter("text_param",
                              default_value=Dataset.File.from_files((store, "data/one.txt")))
    step = PythonScriptStep("show.py", name="show", source_directory="src",
                            arguments=[DatasetConsumptionConfig("text", param).as_download(),
                                       PipelineParameter("count", default_value=1)])
    pipeline = Pipeline(ws, steps=[step])
    pipeline._base_dir = ws.root
    published = pipeline.publish(name="show-text")
    token = kubeline("token", "create", "ci", cwd=ws.root).strip()
    return serve(ws.root), published, token, registered


def _step(pub: PublishedPipeline, answer: dict[str, Any]) -> Any:
    run = PipelineRun(Experiment(pub.workspace, answer["ExperimentName"]), answer["Id"])
    assert run.wait_for_completion(show_output=False, timeout_seconds=180) == "Finished"
    return run.find_step_run("show")[0]


def _shown(pub: PublishedPipeline, answer: dict[str, Any]) -> str:
    log = str(_step(pub, answer).get_stdout_log())
    return next(line for line in log.splitlines() if line.startswith("SHOW"))


def test_registered_datasets_and_paths_replace_the_parameter(
        served: tuple[Server, PublishedPipeline, str, dict[str, Any]]) -> None:
    server, pub, token, registered = served
    path = f"/pipelines/{pub.id}"
    bodies = [  # (assignment, what the step prints)
        ({"SavedDataSetReference": {"Id": registered["v1"].id}}, "SHOW bye True"),
        # AML's camelCase spelling, a registered name without a version: the latest
        ({"dataSetReference": {"name": "greeting"}}, "SHOW again True"),
        ({"LiteralValue": {"DataStoreName": "workspaceblobstore",
                           "RelativePath": "data/four.txt"}}, "SHOW literal True"),
    ]
    for assignment, expected in bodies:
        response = server.post(path, {"ExperimentName": "assign",
                                      FIELD: {"text_param": assignment}}, token)
        assert response.status_code == 200, response.text
        assert _shown(pub, response.json()) == expected
    # the same through a pipeline endpoint, with a version given in DataSetReference
    from kubeline.dsl.publish import PipelineEndpoint

    endpoint = PipelineEndpoint.publish(pub.workspace, name="texts", pipeline=pub,
                                        description="texts")
    response = server.post("/pipelineEndpoints/texts", {
        "ExperimentName": "assign", FIELD: {"text_param": {"DataSetReference": {
            "Name": "greeting", "Version": 1}}}}, token)
    assert response.status_code == 200, response.text
    assert response.json()["PipelineVersion"] == endpoint.default_version
    # greeting version 1 again: the first run's key, so its outputs are reused
    assert _step(pub, response.json()).reused


def test_wrong_assignments_are_one_line_400s_and_start_nothing(
        served: tuple[Server, PublishedPipeline, str, dict[str, Any]]) -> None:
    server, pub, token, registered = served
    path = f"/pipelines/{pub.id}"
    base = f"{FIELD}.text_param"
    cases: list[tuple[str, Any, str]] = [
        (FIELD, [1], "must be a JSON object"),
        (base, {"SavedDataSetReference": {"Id": "greeting:1"},
                "LiteralValue": {"DataStoreName": "workspaceblobstore"}}, "exactly one of"),
        (f"{base}.Saved", {"Saved": {"Id": "x"}}, "the fields are SavedDataSetReference"),
        (f"{base}.SavedDataSetReference.Id", {"SavedDataSetReference": {}}, "is missing"),
        (f"{base}.SavedDataSetReference.Id", {"SavedDataSetReference": {"Id": "greeting:9"}},
         "dataset 'greeting' version 9 is not registered"),
        (f"{base}.SavedDataSetReference.Id", {"SavedDataSetReference": {"Id": "a-guid"}},
         "is not a kubeline dataset id"),
        (f"{base}.DataSetReference.Name", {"DataSetReference": {"Name": "nope"}},
         "dataset 'nope' is not registered"),
        (f"{base}.DataSetReference.Version", {"DataSetReference": {
            "Name": "greeting", "Version": "newest"}}, "is not a version number"),
        (f"{base}.SavedDataSetReference", {"SavedDataSetReference": {
            "Id": registered["table"].id}}, "is a tabular dataset; parameter 'text_param' "
         "takes a file dataset"),
        (f"{base}.LiteralValue.DataStoreName", {"LiteralValue": {
            "DataStoreName": "elsewhere", "RelativePath": "x"}}, "unknown datastore"),
        (f"{base}.LiteralValue.RelativePath", {"LiteralValue": {
            "DataStoreName": "workspaceblobstore", "RelativePath": "../../etc/passwd"}}, ".."),
    ]
    for field, value, words in cases:
        body = {"ExperimentName": "e", FIELD: value if field == FIELD else {"text_param": value}}
        response = server.post(path, body, token)
        assert response.status_code == 400, (field, response.text)
        error = response.json()["error"]
        assert error["field"] == field and words in error["message"], (field, error)
        assert "\n" not in error["message"]
    not_dataset = server.post(path, {"ExperimentName": "e", FIELD: {"count": {
        "SavedDataSetReference": {"Id": "greeting:1"}}}}, token)
    assert not_dataset.status_code == 400
    assert not_dataset.json()["error"]["message"] == (
        f"'count' is not a dataset parameter of published pipeline '{pub.name}' "
        "(its dataset parameters are: text_param)")
    twice = server.post(path, {"ExperimentName": "e",
                               "ParameterAssignments": {"text_param": "{}"},
                               FIELD: {"text_param": {"DataSetReference": {"Name": "greeting"}}}},
                        token)
    assert twice.status_code == 400 and twice.json()["error"]["field"] == f"{FIELD}.text_param"
    with History(server.root / ".kubeline") as db:
        assert db.list_runs() == []
    schema = server.get("/openapi.json").json()
    body = schema["paths"]["/pipelines/{published_id}"]["post"]["requestBody"]
    props = body["content"]["application/json"]["schema"]["properties"]
    assert set(props[FIELD]["additionalProperties"]["properties"]) == {
        "SavedDataSetReference", "DataSetReference", "LiteralValue"}
