"""Published pipelines on the box. ``kubeline serve`` with ``cluster.submit: true``: a
published pipeline's REST endpoint, a pipeline endpoint's non-default version and a time
schedule each create a Workflow that runs to Succeeded and is recorded with who started it;
``kubeline published apply`` puts the WorkflowTemplates there, and a Workflow by reference
to one (what a Sensor submits) runs. One workspace, four runs side by side: the box runs
them at once, so the test costs about one run."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.box import Box
from tests.cluster.submitting import workflows
from tests.pipelines import kubeline as pipelines_kubeline
from tests.server.conftest import Server, publish, start_server, wait_for, write_step
from tests.server.conftest import kubeline as server_kubeline

pytestmark = pytest.mark.cluster


@pytest.fixture
def served() -> Iterator[list[Server]]:
    """The kubeline serve processes a test starts, stopped afterwards."""
    servers: list[Server] = []
    yield servers
    for server in servers:
        server.stop()


def _finished(run: Any) -> str:
    """The echo step's stdout once the run has finished (fetched from the datastore)."""
    assert run.wait_for_completion(show_output=False, timeout_seconds=600) == "Finished", \
        run.get_details()
    return str(run.find_step_run("echo")[0].get_stdout_log())


def _templates(box: Box, namespace: str) -> list[dict[str, Any]]:
    listed = box.custom.list_namespaced_custom_object(
        "argoproj.io", "v1alpha1", namespace, "workflowtemplates")
    return list(listed["items"])


def _apply_templates(box: Box, root: Path, env: dict[str, str], namespace: str) -> str:
    """``kubeline published apply``: refused in one line on a box without Argo Events,
    then ``--no-events``, idempotent; returns the Workflow a Sensor would create from the
    newest version's template (started, not awaited)."""
    # the box has no Argo Events: one line naming what is missing, nothing applied
    refused = pipelines_kubeline("published", "apply", cwd=root, env=env, check=False)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "EventSource" in refused.stderr \
        and "Sensor" in refused.stderr and "--no-events" in refused.stderr, refused.stderr
    assert _templates(box, namespace) == []
    done = pipelines_kubeline("published", "apply", "--no-events", cwd=root, env=env)
    assert "applied WorkflowTemplate/" in done.stdout
    names = {t["metadata"]["name"] for t in _templates(box, namespace)}
    assert names == {"echo-v1", "echo-v2"}, names  # <name>-v<version>, one per version
    again = pipelines_kubeline("published", "apply", "--no-events", cwd=root, env=env)
    assert again.stdout == done.stdout  # applying again changes nothing, fails on nothing
    return box.create_workflow({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"generateName": "by-ref-"},
        "spec": {"workflowTemplateRef": {"name": "echo-v2"},
                 "arguments": {"parameters": [{"name": "count", "value": "3"}]}}}, namespace)


def test_published_pipelines_start_cluster_runs(
        box: Box, cluster_env: dict[str, str], namespace: str, served: list[Server]) -> None:
    from kubeline import Experiment, PipelineEndpoint, PipelineRun, Workspace
    from kubeline.dsl.schedule import Schedule, ScheduleRecurrence

    root = Path(cluster_env["KUBELINE_CONFIG"]).parent
    (root / "src").mkdir()
    salt = uuid.uuid4().hex[:8]  # this test's step keys: nothing of another test is reused
    ws = Workspace(_root=root)
    write_step(root, f"old-{salt}")
    old = publish(ws, "1")
    write_step(root, f"new-{salt}")  # the source changes after the first version
    new = publish(ws, "2")
    endpoint = PipelineEndpoint.publish(ws, "echo-on-box", "two versions", old)
    assert endpoint.add_default(new) == "1"
    by_ref = _apply_templates(box, root, cluster_env, namespace)
    # no start time: the schedule fires as soon as the server looks (then in an hour)
    schedule = Schedule.create_for_pipeline_endpoint(
        ws, "hourly-on-box", endpoint.id, "Scheduled_On_Box",
        recurrence=ScheduleRecurrence("Hour", 1), pipeline_parameters={"count": 9})
    token = server_kubeline("token", "create", "ci", cwd=root).strip()
    server = start_server(root, env=cluster_env)
    served.append(server)

    # distinct code or counts: each run computes its step (none is a reuse of another)
    rest = server.post(f"/pipelines/{new.id}", {
        "ExperimentName": "Rest_On_Box", "ParameterAssignments": {"count": 7}}, token)
    assert rest.status_code == 200, rest.text
    by_version = server.post("/pipelineEndpoints/echo-on-box", {
        "ExperimentName": "Rest_On_Box", "PipelineVersion": "0",
        "ParameterAssignments": {"count": 8}}, token)
    assert by_version.status_code == 200, by_version.text
    assert by_version.json()["PipelineVersion"] == "0"
    fired = wait_for(lambda: server.get(f"/api/schedules/{schedule.id}").json()["last_trigger"],
                     "the schedule's first fire", timeout=300)
    assert fired["run_id"] and fired["message"] == f"started run {fired['run_id']}", fired

    # three Workflows on the box, their uids the ids the server answered with
    ids = {rest.json()["Id"], by_version.json()["Id"], fired["run_id"]}
    assert {w["metadata"]["uid"] for w in workflows(box, namespace)
            if w["metadata"]["name"] != by_ref} == ids

    run = PipelineRun(Experiment(ws, "Rest_On_Box"), rest.json()["Id"])
    assert f"MARK new-{salt} 7 0.5 x" in _finished(run)
    details = run.get_details()
    assert details["submittedBy"] == f"rest:{new.id}"
    assert details["properties"]["backend"] == "cluster"
    assert details["properties"]["published_pipeline_id"] == new.id

    run = PipelineRun(Experiment(ws, "Rest_On_Box"), by_version.json()["Id"])
    assert f"MARK old-{salt} 8 0.5 x" in _finished(run)  # version 0's code, not the default's
    properties = run.get_details()["properties"]
    assert properties["pipeline_endpoint"] == "echo-on-box"
    assert properties["pipeline_version"] == "0"
    assert properties["published_pipeline_id"] == old.id

    scheduled = schedule.get_last_pipeline_run()
    assert scheduled is not None and scheduled.id == fired["run_id"]
    assert f"MARK new-{salt} 9 0.5 x" in _finished(scheduled)  # the default version
    details = scheduled.get_details()
    assert details["submittedBy"] == f"schedule:{schedule.id}"
    assert details["properties"]["backend"] == "cluster"
    assert details["properties"]["schedule_id"] == schedule.id

    done = {w["metadata"]["uid"]: w["status"]["phase"] for w in workflows(box, namespace)
            if w["metadata"]["name"] != by_ref}
    assert done == dict.fromkeys(ids, "Succeeded")
    wf = box.wait_workflow(by_ref, namespace)
    assert wf["status"]["phase"] == "Succeeded", box.describe(by_ref, namespace)
