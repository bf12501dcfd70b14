"""The cluster side of publishing: every object validated strictly against ../shared schemas
(Argo Workflows and Argo Events) and by ``argo lint``, with fixed names, in kustomization."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from kubeline.compiler.argo.events import CRON_NAME_MAX, EVENT_SOURCE, TOKEN_SECRET
from kubeline.compiler.argo_lint import lint_offline
from kubeline.dsl.publish import PipelineEndpoint
from kubeline.dsl.schedule import Schedule, ScheduleRecurrence
from kubeline.server.watch import look
from kubeline.stores.local import LocalStore
from tests.argo_events_schema import events_schema_errors
from tests.argo_schema import schema_errors
from tests.server.conftest import kubeline, make_workspace, publish, write_step


def _compiled(tmp_path: Path) -> tuple[Path, dict[str, list[dict[str, Any]]], Path]:
    ws = make_workspace(tmp_path / "ws", marker="one")
    first = publish(ws, "1.0")
    write_step(ws.root, "two")
    second = publish(ws, "2.0")
    endpoint = PipelineEndpoint.publish(ws, "scoring", "d", first)
    endpoint.add_default(second)
    Schedule.create(ws, "a-very-long-schedule-name-that-goes-on-and-on-past-the-limit",
                    second.id, "Nightly",
                    recurrence=ScheduleRecurrence("Day", 1, hours=[2], minutes=[30],
                                                  time_zone="Europe/Berlin"))
    Schedule.create(ws, "on-data", first.id, "Watched", datastore=ws.get_default_datastore(),
                    path_on_datastore="incoming", polling_interval=5)
    out = tmp_path / "out"
    pipeline_file = ws.root / "pipeline.py"
    pipeline_file.write_text(
        "from kubeline import Pipeline, PythonScriptStep, Workspace\n"
        "ws = Workspace()\n"
        "pipeline = Pipeline(ws, steps=[PythonScriptStep('step.py', name='echo', "
        "source_directory='src')])\n", encoding="utf-8")
    kubeline("compile", "pipeline.py", "-o", str(out), "--no-publish", cwd=ws.root)
    kubeline("published", "compile", "-o", str(out), cwd=ws.root)
    files = {f.name: [d for d in yaml.safe_load_all(f.read_text(encoding="utf-8")) if d]
             for f in sorted(out.glob("*.yaml"))}
    return out, files, ws.root


def test_compiled_objects_validate_and_land_in_kustomization(tmp_path: Path,
                                                             argo_bin: Path) -> None:
    out, files, _ = _compiled(tmp_path)
    kustomization = files.pop("kustomization.yaml")[0]
    assert sorted(kustomization["resources"]) == sorted(files)
    assert "ws.yaml" in files  # kubeline compile's own file (named after the folder) stays
    kinds: dict[str, list[dict[str, Any]]] = {}
    for docs in files.values():
        for doc in docs:
            kinds.setdefault(str(doc["kind"]), []).append(doc)
            meta = doc["metadata"]
            assert isinstance(meta, dict) and "name" in meta and "generateName" not in meta
            assert schema_errors(doc) == [] and events_schema_errors(doc) == []
    assert len(kinds["WorkflowTemplate"]) == 2
    assert {t["metadata"]["name"] for t in kinds["WorkflowTemplate"]} == {
        "echo-v1-0", "echo-v2-0"}
    assert len(kinds["EventSource"]) == 1 and len(kinds["Sensor"]) == 3
    crons = kinds["CronWorkflow"]
    assert all(len(str(c["metadata"]["name"])) <= CRON_NAME_MAX for c in crons)
    assert {c["spec"]["concurrencyPolicy"] for c in crons} == {"Forbid"}
    assert "Europe/Berlin" in {c["spec"]["timezone"] for c in crons}
    result = lint_offline(sorted(out.glob("*.yaml")), argo_bin)
    assert result.ok, result.messages


def test_webhook_checks_the_token_secret_and_maps_parameters(tmp_path: Path) -> None:
    _, files, root = _compiled(tmp_path)
    source = files["endpoints.yaml"][0]
    hooks = source["spec"]["webhook"]
    assert source["metadata"]["name"] == EVENT_SOURCE
    assert {h["authSecret"]["name"] for h in hooks.values()} == {TOKEN_SECRET}
    assert "/pipelineEndpoints/scoring" in {h["endpoint"] for h in hooks.values()}
    sensor = files["published-echo-v1-0.yaml"][-1]
    trigger = sensor["spec"]["triggers"][0]["template"]["argoWorkflow"]
    workflow = trigger["source"]["resource"]
    assert workflow["spec"]["workflowTemplateRef"]["name"] == "echo-v1-0"
    names = [p["name"] for p in workflow["spec"]["arguments"]["parameters"]]
    mapped = {p["dest"]: p["src"].get("dataKey") for p in trigger["parameters"]}
    for index, name in enumerate(names):
        assert mapped[f"spec.arguments.parameters.{index}.value"] == \
            f"body.ParameterAssignments.{name}"
    text = "".join(f.read_text() for f in (tmp_path / "out").glob("*.yaml"))
    assert "kl_" not in text  # no token anywhere; the Secret is made by the platform team
    # each version keeps its own snapshot: the edit after the first publish is not in v1

    def snapshots(name: str) -> list[str]:
        data = files[name][0]["data"]
        return [json.loads(v)["snapshot"] for k, v in data.items() if k.startswith("step.")]

    assert snapshots("published-echo-v1-0.yaml") != snapshots("published-echo-v2-0.yaml")
    assert root.exists()


def test_cluster_watch_is_debounced(tmp_path: Path) -> None:
    store = LocalStore("s", tmp_path / "store")
    key = "kubeline/watch/x.json"
    assert look(store, "in", key, 60, 1000.0)[0] is False  # baseline
    for i in range(50):
        store.put_bytes(f"in/f{i}", b"1")
    fired, saw = look(store, "in", key, 60, 1060.0)
    assert fired is False and saw["settling"] is True  # changed since the last look: wait
    fired, saw = look(store, "in", key, 60, 1120.0)
    assert fired is True and saw["added"] == 50
    assert look(store, "in", key, 60, 1180.0)[0] is False
