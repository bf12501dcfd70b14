"""REST round trips against a real ``kubeline serve`` on loopback, with a real HTTP client."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from kubeline import Experiment, PipelineRun
from kubeline.dsl.publish import PipelineEndpoint, PublishedPipeline
from kubeline.history.db import History
from tests.server.conftest import (
    Server,
    kubeline,
    make_workspace,
    publish,
    wait_for,
    write_step,
)

BODY = {"ExperimentName": "My_Pipeline", "ParameterAssignments": {"count": 20}}


def _stdout(run: PipelineRun) -> str:
    run.wait_for_completion(show_output=False, timeout_seconds=120)
    return run.find_step_run("echo")[0].get_stdout_log()


def _run_count(root: Path) -> int:
    with History(root / ".kubeline") as db:
        return len(db.list_runs())


@pytest.fixture
def published(tmp_path: Path, serve: Callable[..., Server]
              ) -> tuple[Server, PublishedPipeline, str]:
    ws = make_workspace(tmp_path / "ws")
    pub = publish(ws)
    token = kubeline("token", "create", "ci", cwd=ws.root).strip()
    return serve(ws.root), pub, token


def test_submit_returns_the_id_of_an_ordinary_run(
        published: tuple[Server, PublishedPipeline, str]) -> None:
    server, pub, token = published
    response = server.post(f"/pipelines/{pub.id}", BODY, token)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["PipelineVersion"] == pub.version and answer["PublishedPipelineId"] == pub.id
    run = PipelineRun(Experiment(pub.workspace, "My_Pipeline"), answer["Id"])
    assert "MARK v1 20 0.5 x" in _stdout(run)
    assert run.get_status() == "Finished"
    details = run.get_details()
    assert details["submittedBy"] == f"rest:{pub.id}"
    assert details["properties"]["token_name"] == "ci"
    assert token not in str(details)
    shown = kubeline("runs", "show", answer["Id"], cwd=server.root)
    assert f"rest:{pub.id}" in shown


def test_rejected_requests_start_nothing(
        published: tuple[Server, PublishedPipeline, str]) -> None:
    server, pub, token = published
    path = f"/pipelines/{pub.id}"
    cases: list[tuple[int, str, object, str | None]] = [
        (401, "Authorization", BODY, None),
        (401, "Authorization", BODY, "kl_000000000000_" + "x" * 43),
        (401, "Authorization", BODY, token[:-2] + "zz"),
        (400, "ParameterAssignments.nope", {"ExperimentName": "e",
                                            "ParameterAssignments": {"nope": 1}}, token),
        (400, "ParameterAssignments.count", {"ExperimentName": "e",
                                             "ParameterAssignments": {"count": "many"}}, token),
        (400, "ParameterAssignments.rate", {"ExperimentName": "e",
                                            "ParameterAssignments": {"rate": [1]}}, token),
        (400, "ExperimentName", {"ParameterAssignments": {"count": 1}}, token),
        (400, "ExperimentName", {"ExperimentName": "no spaces"}, token),
        (400, "Experimentname", {"Experimentname": "typo"}, token),
        (400, "body", [1, 2], token),
        (400, "DataPathAssignments.count", {"ExperimentName": "e", "DataPathAssignments": {
            "count": {"DataStoreName": "workspaceblobstore", "RelativePath": "x"}}}, token),
        (413, "body", {"ExperimentName": "e", "ParameterAssignments": {"name": "x" * 2_000_000}},
         token),
    ]
    for status, field, body, used in cases:
        response = server.post(path, body, used)
        assert response.status_code == status, (field, response.text)
        error = response.json()["error"]
        assert error["field"] == field, error
        assert "\n" not in error["message"]
        if status == 401:
            assert "kubeline token create" in error["message"]
            assert response.headers["WWW-Authenticate"] == "Bearer"
    assert server.post("/pipelines/no-such-id", BODY, token).status_code == 404
    pub.disable()
    disabled = server.post(path, BODY, token)
    assert disabled.status_code == 409 and disabled.json()["error"]["field"] == "status"
    assert _run_count(server.root) == 0
    pub.enable()
    assert server.post(path, BODY, token).status_code == 200
    assert _run_count(server.root) == 1
    kubeline("token", "revoke", "ci", cwd=server.root)
    assert server.post(path, BODY, token).status_code == 401
    assert _run_count(server.root) == 1


def test_token_is_hashed_and_never_logged(
        published: tuple[Server, PublishedPipeline, str]) -> None:
    server, pub, token = published
    assert server.post(f"/pipelines/{pub.id}", BODY, token).status_code == 200
    assert server.post(f"/pipelines/{pub.id}", BODY, token + "x").status_code == 401
    secret = token.split("_", 2)[2]
    db = sqlite3.connect(server.root / ".kubeline" / "serve.db")
    rows = db.execute("SELECT * FROM tokens").fetchall()
    db.close()
    assert rows and all(secret not in str(row) for row in rows)
    for path in server.root.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_published_pipeline_is_immutable_and_endpoint_routes_versions(
        tmp_path: Path, serve: Callable[..., Server]) -> None:
    ws = make_workspace(tmp_path / "ws", marker="old")
    first = publish(ws, "1")
    write_step(ws.root, "new")  # edit the source after publishing
    second = publish(ws, "2")
    endpoint = PipelineEndpoint.publish(ws, "echo-endpoint", "versions", first)
    assert endpoint.add_default(second) == "1"
    token = kubeline("token", "create", "ci", cwd=ws.root).strip()
    server = serve(ws.root)
    experiment = Experiment(ws, "Versions")

    def run_of(path: str, body: dict[str, object]) -> str:
        response = server.post(path, {"ExperimentName": "Versions", **body}, token)
        assert response.status_code == 200, response.text
        return _stdout(PipelineRun(experiment, response.json()["Id"]))

    # distinct counts: a step with unchanged inputs would be reused (and print nothing)
    assert "MARK old 1" in run_of(f"/pipelines/{first.id}", {})
    assert "MARK new 1" in run_of(f"/pipelines/{second.id}", {})
    assert "MARK new 5" in run_of("/pipelineEndpoints/echo-endpoint",
                                  {"ParameterAssignments": {"count": 5}})
    assert "MARK old 7" in run_of("/pipelineEndpoints/echo-endpoint",
                                  {"PipelineVersion": "0", "ParameterAssignments": {"count": 7}})
    missing = server.post("/pipelineEndpoints/echo-endpoint",
                          {"ExperimentName": "e", "PipelineVersion": "9"}, token)
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "PipelineVersion"
    listed = server.get("/api/pipeline-endpoints/echo-endpoint").json()
    assert listed["default_version"] == "1"
    assert [v["published_id"] for v in listed["versions"]] == [first.id, second.id]
    # the Python API takes the same routes
    run = endpoint.submit("Versions", pipeline_parameters={"count": 3}, pipeline_version="0")
    assert "MARK old 3" in _stdout(run)
    assert run.get_details()["submittedBy"] == "PipelineEndpoint.submit:echo-endpoint"
    endpoint.disable()
    assert server.post("/pipelineEndpoints/echo-endpoint", {"ExperimentName": "e"},
                       token).status_code == 409


def test_openapi_describes_what_is_served(
        published: tuple[Server, PublishedPipeline, str]) -> None:
    server, pub, _ = published
    spec = server.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/pipelines/{published_id}", "/pipelineEndpoints/{name}",
                 "/api/published-pipelines", "/api/pipeline-endpoints", "/api/schedules",
                 "/api/schedules/{schedule_id}"):
        assert path in paths, path
    submit = paths["/pipelines/{published_id}"]["post"]
    schema = submit["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == {"ExperimentName", "ParameterAssignments",
                                         "DataPathAssignments",
                                         "DataSetDefinitionValueAssignments", "Tags"}
    assert schema["required"] == ["ExperimentName"]
    assert {"400", "401", "404", "409", "413"} <= set(submit["responses"])
    assert submit["security"] == [{"bearer": []}]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    endpoint = paths["/pipelineEndpoints/{name}"]["post"]["requestBody"]["content"]
    assert "PipelineVersion" in endpoint["application/json"]["schema"]["properties"]
    # every documented read route answers
    listed = server.get("/api/published-pipelines").json()
    assert [p["id"] for p in listed] == [pub.id]
    assert listed[0]["endpoint"] == f"{server.url}/pipelines/{pub.id}"
    assert "Authorization: Bearer $KUBELINE_TOKEN" in listed[0]["curl"]


def test_curl_example_works_as_printed(
        published: tuple[Server, PublishedPipeline, str], tmp_path: Path) -> None:
    import os
    import shutil
    import subprocess

    if shutil.which("curl") is None:
        pytest.fail("curl is needed for this test (apt-get install curl)")
    server, pub, token = published
    command = server.get(f"/api/published-pipelines/{pub.id}").json()["curl"]
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "KUBELINE_TOKEN": token})
    assert done.returncode == 0, done.stderr
    assert '"Id"' in done.stdout
    wait_for(lambda: _run_count(server.root) == 1, "the curl run in the history")


def test_cors_allowlist(tmp_path: Path, serve: Callable[..., Server]) -> None:
    ws = make_workspace(tmp_path / "ws")
    pub = publish(ws)
    server = serve(ws.root, "--cors-origin", "https://ml.example.org")
    allowed = server.get("/api/published-pipelines",
                         headers={"Origin": "https://ml.example.org"})
    assert allowed.headers.get("access-control-allow-origin") == "https://ml.example.org"
    other = server.get("/api/published-pipelines", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = server.get(f"/pipelines/{pub.id}")  # GET is not a submit route
    assert preflight.status_code == 405
