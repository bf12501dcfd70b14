"""Datastore.register_* / upload_files / upload / download against real servers on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.pipelines import workspace
from tests.servers import AzuriteServer, S3Server

from kubeline import Datastore, Workspace
from kubeline.stores.config import SecretRef, secret_env_name


def _tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "a.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    (root / "sub" / "b.bin").write_bytes(bytes(range(256)) * 1000)
    return root


def _round_trip(store: Datastore, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src")
    store.upload(str(src), target_path="data/v1", show_progress=False)
    store.upload_files([str(src / "a.csv")], target_path="single", show_progress=False)
    out = tmp_path / "out"
    assert store.download(str(out), prefix="data", show_progress=False) == 2
    assert (out / "data/v1/sub/b.bin").read_bytes() == (src / "sub" / "b.bin").read_bytes()
    assert store.download(str(out), prefix="single", show_progress=False) == 1
    # overwrite=False keeps what is there and downloads nothing again
    assert store.download(str(out), prefix="data", show_progress=False) == 0


def register_lake(ws: Workspace, s3_server: S3Server, bucket: str,
                  monkeypatch: pytest.MonkeyPatch) -> Datastore:
    """Datastore 'lake': the bucket under prefix 'team', keys from Secret 'lake-creds'."""
    store = Datastore.register_s3(ws, "lake", bucket, prefix="team",
                                  endpoint=s3_server.endpoint_url, region=s3_server.region,
                                  insecure=True, credentials_secret="lake-creds")
    for key, value in (("accessKey", s3_server.access_key), ("secretKey", s3_server.secret_key)):
        monkeypatch.setenv(secret_env_name(SecretRef(name="lake-creds", key=key)), value)
    return store


def test_s3_datastore(s3_server: S3Server, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    ws = workspace(tmp_path / "ws")
    bucket = s3_server.create_bucket()
    store = register_lake(ws, s3_server, bucket, monkeypatch)
    _round_trip(store, tmp_path)
    keys = sorted(o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["team/data/v1/a.csv", "team/data/v1/sub/b.bin", "team/single/a.csv"]
    saved = (ws.root / "kubeline.yaml").read_text(encoding="utf-8")
    assert s3_server.secret_key not in saved and "lake-creds" in saved


def test_azure_blob_datastore(azurite: AzuriteServer, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    ws = workspace(tmp_path / "ws")
    container = azurite.create_container()
    monkeypatch.setenv("BLOBS_CREDENTIALS_ACCOUNTKEY", azurite.account_key)
    store = Datastore.register_azure_blob_container(
        ws, "blobs", container, azurite.account_name, endpoint=azurite.endpoint_url)
    _round_trip(store, tmp_path)
    names = sorted(b.name for b in azurite.service_client().get_container_client(container)
                   .list_blobs())
    assert names == ["data/v1/a.csv", "data/v1/sub/b.bin", "single/a.csv"]
    reopened = Workspace(_root=ws.root)
    assert reopened.datastores["blobs"].datastore_type == "AzureBlob"
    assert azurite.account_key not in (ws.root / "kubeline.yaml").read_text(encoding="utf-8")
