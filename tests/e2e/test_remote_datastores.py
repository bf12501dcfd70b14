"""Pipelines whose default datastore is S3 (moto's server) or Azure Blob (Azurite) run end
to end: inputs fetched, outputs committed, step results and the history written, outputs
downloaded through PortDataReference; no credential lands in any file kubeline writes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubeline import Datastore, Experiment, PipelineRun, Workspace
from kubeline.stores.config import SecretRef, secret_env_name
from tests.e2e.conftest import python, show_json, words_workspace
from tests.servers import AzuriteServer, S3Server


def _files_containing(root: Path, secret: str) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and secret.encode() in path.read_bytes():
            found.append(path)
    return found


def _check_run(folder: Path, env: dict[str, str], datastore: str) -> dict[str, Any]:
    done = python(folder / "pipeline.py", cwd=folder, env=env)
    assert "PipelineRun Status: Finished" in done.stdout, done.stdout
    run_id = done.stdout.split("PipelineRunId: ", 1)[1].split()[0]
    shown = show_json(run_id, folder, env=env)
    assert shown["status"] == "Finished"
    assert shown["properties"]["default_datastore"] == datastore
    steps = {s["name"]: s for s in shown["steps"]}
    assert steps["count"]["metrics"] == {"words": 8, "distinct": 5}
    assert steps["top"]["metrics"] == {"top_count": 3}
    assert steps["count"]["outputs"]["counted"]["datastore"] == datastore
    assert shown["metrics"] == {"input_words": 8}
    return shown


@pytest.fixture
def restore_env() -> Iterator[None]:
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def _download(folder: Path, run_id: str, dest: Path) -> dict[str, Any]:
    ws = Workspace.from_config(str(folder))
    run = PipelineRun(Experiment(ws, "words"), run_id)
    ref = run.find_step_run("top")[0].get_output_data("report")
    path = Path(ref.download(dest, show_progress=False))
    data: dict[str, Any] = json.loads((path / "top.json").read_text())
    return data


def test_s3_default_datastore(s3_server: S3Server, tmp_path: Path, restore_env: None) -> None:
    folder = words_workspace(tmp_path / "ws")
    ws = Workspace.from_config(str(folder))
    bucket = s3_server.create_bucket()
    Datastore.register_s3(ws, "lake", bucket, prefix="team", endpoint=s3_server.endpoint_url,
                          region=s3_server.region, insecure=True, credentials_secret="lake-creds")
    ws.set_default_datastore("lake")
    env = {secret_env_name(SecretRef(name="lake-creds", key="accessKey")): s3_server.access_key,
           secret_env_name(SecretRef(name="lake-creds", key="secretKey")): s3_server.secret_key}
    shown = _check_run(folder, env, "lake")
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(
        Bucket=bucket, Prefix="team/kubeline/")["Contents"]]
    location = shown["steps"][1]["outputs"]["report"]["location"]
    assert f"team/{location}/top.json" in keys
    assert f"team/{location}.complete.json" in keys
    assert f"team/kubeline/runs/{shown['id']}/steps/count/result.json" in keys
    assert not (folder / ".kubeline" / "datastores" / "lake").exists()
    os.environ.update(env)
    assert _download(folder, shown["id"], tmp_path / "dl") == {"word": "the", "count": 3}
    assert _files_containing(folder, s3_server.secret_key) == []


def test_azure_default_datastore(azurite: AzuriteServer, tmp_path: Path,
                                 restore_env: None) -> None:
    folder = words_workspace(tmp_path / "ws")
    ws = Workspace.from_config(str(folder))
    container = azurite.create_container()
    env = {"BLOBS_CREDENTIALS_ACCOUNTKEY": azurite.account_key}
    os.environ.update(env)
    Datastore.register_azure_blob_container(ws, "blobs", container, azurite.account_name,
                                            endpoint=azurite.endpoint_url)
    ws.set_default_datastore("blobs")
    shown = _check_run(folder, env, "blobs")
    names = {b.name for b in azurite.service_client().get_container_client(container)
             .list_blobs(name_starts_with="kubeline/")}
    location = shown["steps"][1]["outputs"]["report"]["location"]
    assert {f"{location}/top.json", f"{location}.complete.json",
            f"kubeline/runs/{shown['id']}/steps/top/result.json"} <= names
    assert _download(folder, shown["id"], tmp_path / "dl") == {"word": "the", "count": 3}
    assert _files_containing(folder, azurite.account_key) == []
