"""The page's JSON routes over real HTTP against ``kubeline serve``: run details and edges,
one-line 4xx answers, logs from the datastore, download headers, nothing started by a
refused rerun."""

from __future__ import annotations

import json
import os
import runpy
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import (
    XSS_STEP,
    Server,
    gate_workspace,
    open_gate,
    start_server,
    stop_server,
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, str]]:
    """A workspace with one finished run, served; yields (server, run id, gate step id)."""
    from kubeline import Experiment

    root = tmp_path_factory.mktemp("web-api")
    workspace = gate_workspace(root / "ws")
    old = Path.cwd()
    os.chdir(workspace)
    try:
        ns = runpy.run_path(str(workspace / "pipeline.py"), run_name="web_api_pipeline")
        run = Experiment(ns["ws"], "web-api").submit(ns["pipeline"])
        open_gate(workspace, run.id)
        assert run.wait_for_completion(show_output=False) == "Finished"
    finally:
        os.chdir(old)
    server = start_server(workspace, root / "server.log")
    try:
        detail = _json(server, f"/ui/api/runs/{run.id}")
        gate = next(s["id"] for s in detail["steps"] if s["name"] == XSS_STEP)
        yield server, str(run.id), str(gate)
    finally:
        stop_server(server)


def server_workspace(server: Server) -> Path:
    return server.log.parent / "ws"


def _json(server: Server, path: str, status: int = 200) -> Any:
    got, body = server.get(path)
    assert got == status, (path, got, body[:300])
    return json.loads(body)


def _post(server: Server, path: str, body: Any) -> tuple[int, Any]:
    request = urllib.request.Request(server.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"},
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_run_detail_has_steps_edges_and_who_started_it(served: tuple[Server, str, str]) -> None:
    server, run_id, gate = served
    detail = _json(server, f"/ui/api/runs/{run_id}")
    assert detail["status"] == "Finished" and detail["started_by"] == "Experiment.submit"
    assert sorted(s["id"] for s in detail["steps"]) == sorted([gate, "prep", "after"])
    assert sorted(map(tuple, detail["edges"])) == sorted([(gate, "after"), ("prep", "after")])
    assert detail["can_rerun"] is True and detail["duration"] is not None
    listing = _json(server, "/ui/api/runs?experiment=web-api")
    assert listing["experiments"] == ["web-api"]
    # the module's fixture is shared: other tests may have added runs (reruns) after it
    assert run_id in [r["id"] for r in listing["runs"]]
    assert all(r["experiment"] == "web-api" for r in listing["runs"])
    assert "logs" not in detail["steps"][0]  # server-side log paths are not exposed


def test_logs_come_from_the_datastore_once_a_step_ended(served: tuple[Server, str, str]
                                                       ) -> None:
    server, run_id, gate = served
    log = _json(server, f"/ui/api/runs/{run_id}/steps/{gate}/logs/stdout")
    assert log["source"] == "datastore" and not log["truncated"]
    assert "hello <script>" in log["text"]
    assert "<b>bold</b>" in _json(server, f"/ui/api/runs/{run_id}/steps/{gate}/logs/stderr")["text"]


def test_refusals_are_one_line_4xx(served: tuple[Server, str, str]) -> None:
    server, run_id, gate = served
    cases = [
        ("/ui/api/runs/no-such-run", 404, "not in the history"),
        (f"/ui/api/runs/{run_id}/steps/nope/artifacts", 404, "step 'nope'"),
        (f"/ui/api/runs/{run_id}/steps/{gate}/logs/journal", 404, "use stdout or stderr"),
        (f"/ui/api/runs/{run_id}/steps/{gate}/files?path=", 400, "path is empty"),
        (f"/ui/api/runs/{run_id}/steps/{gate}/files?path=notes/missing.txt", 404,
         "download one of the files the page lists"),
    ]
    for path, status, words in cases:
        error = _json(server, path, status)["error"]
        assert words in error and "\n" not in error, (path, error)


def test_a_refused_rerun_starts_nothing(served: tuple[Server, str, str]) -> None:
    server, run_id, _ = served
    before = len(_json(server, "/ui/api/runs")["runs"])
    for body, words in [
        ({"ParameterAssignments": {"nope": 1}}, "unknown parameter(s) nope"),
        ({"ParameterAssignments": ["label"]}, "ParameterAssignments must be an object"),
        ({"ParameterAssignments": {"label": {"a": 1}}}, "ParameterAssignments.label"),
        ({"RegenerateOutputs": "yes"}, "RegenerateOutputs must be true or false"),
    ]:
        status, answer = _post(server, f"/ui/api/runs/{run_id}/rerun", body)
        assert status == 400 and words in answer["error"], (body, answer)
    status, answer = _post(server, "/ui/api/runs/no-such-run/rerun", {})
    assert status == 404
    assert len(_json(server, "/ui/api/runs")["runs"]) == before


def test_headers_of_the_page_and_of_downloads(served: tuple[Server, str, str]) -> None:
    server, run_id, gate = served
    with urllib.request.urlopen(server.url + "/", timeout=30) as response:  # redirected
        assert response.url == server.url + "/ui/"
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert b'<script src="/ui/static/app.js"' in response.read()
    base = f"{server.url}/ui/api/runs/{run_id}/steps/{gate}"
    for url, kind, disposition in [
        (f"{base}/outputs/result?path=result.txt", "application/octet-stream", "attachment"),
        (f"{base}/files?path=notes/report.txt&inline=1", "application/octet-stream",
         "attachment"),
        (f"{base}/files?path=images/chart.png", "application/octet-stream", "attachment"),
        (f"{base}/files?path=images/chart.png&inline=1", "image/png", "inline"),
    ]:
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.headers["Content-Type"] == kind, url
            assert response.headers["Content-Disposition"].startswith(disposition), url
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in response.headers["Content-Security-Policy"]


def test_a_failed_step_over_a_rerun(served: tuple[Server, str, str]) -> None:
    """Rerun with label=fail: the run and the gate step show Failed with the exit code and
    the end of stderr; nothing is committed; the step after it does not finish."""
    server, run_id, gate = served
    status, answer = _post(server, f"/ui/api/runs/{run_id}/rerun",
                           {"ParameterAssignments": {"label": "fail"}})
    assert status == 200, answer
    failed = answer["Id"]
    open_gate(server_workspace(server), failed)
    deadline = time.monotonic() + 120
    while (detail := _json(server, f"/ui/api/runs/{failed}"))["status"] == "Running":
        assert time.monotonic() < deadline, "the rerun did not end"
        time.sleep(0.2)
    assert detail["status"] == "Failed"
    assert detail["started_by"] == f"web page: rerun of {run_id}"
    assert detail["parameters"] == {"label": "fail"}
    steps = {s["id"]: s for s in detail["steps"]}
    assert steps[gate]["status"] == "Failed" and steps[gate]["exit_code"] == 1
    assert "failing on purpose <script>" in steps[gate]["stderr_tail"]
    assert steps["after"]["status"] != "Finished"
    outputs = _json(server, f"/ui/api/runs/{failed}/steps/{gate}/artifacts")["outputs"]
    assert outputs == []  # a failed step commits nothing
    stderr = _json(server, f"/ui/api/runs/{failed}/steps/{gate}/logs/stderr")
    assert "failing on purpose" in stderr["text"]
