"""Curated environments by AML's image names, and registrations in code that keep the
endpoint kubeline.yaml gives a datastore (decision 0034)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubeline.azureml.core import Datastore, Environment, Workspace
from kubeline.dsl.runconfig import EnvironmentDefError
from kubeline.stores.config import AzureBlobDatastore

MIRROR = "http://127.0.0.1:10000/devstoreaccount1"


def _workspace(root: Path, stores: dict[str, dict[str, str]] | None = None) -> Workspace:
    root.mkdir(parents=True)
    config = {"name": "reg", "datastores": stores or {}}
    (root / "kubeline.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return Workspace.from_config(str(root))


def test_curated_tensorflow_environment_has_amls_image_name(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    env = Environment.get(ws, name="AzureML-tensorflow-2.16-cuda12")
    assert env.docker.base_image == \
        "mcr.microsoft.com/azureml/curated/tensorflow-2.16-cuda12:latest"
    assert env.python.user_managed_dependencies
    with pytest.raises(EnvironmentDefError, match=r"AzureML-tensorflow-2\.16-cuda12"):
        Environment.get(ws, name="AzureML-tensorflow-9.9-cuda99")  # listed in the hint


def _endpoint(ws: Workspace, name: str) -> str | None:
    config = Workspace.from_config(str(ws.root)).config.datastores[name]
    assert isinstance(config, AzureBlobDatastore)
    return config.endpoint


def test_registration_keeps_the_configured_endpoint_of_the_same_container(
        tmp_path: Path) -> None:
    stores = {"data": {"kind": "azureblob", "account_name": "pipelinedata",
                       "container_name": "sampledata", "endpoint": MIRROR}}
    ws = _workspace(tmp_path / "ws", stores)
    Datastore.register_azure_blob_container(ws, "data", "sampledata", "pipelinedata",
                                            overwrite=True)
    assert _endpoint(ws, "data") == MIRROR
    # another container is another place: the configured endpoint no longer applies
    Datastore.register_azure_blob_container(ws, "data", "other", "pipelinedata",
                                            overwrite=True)
    assert _endpoint(ws, "data") is None
    # an endpoint in code wins over kubeline.yaml's
    Datastore.register_azure_blob_container(ws, "data", "other", "pipelinedata",
                                            endpoint="core.chinacloudapi.cn", overwrite=True)
    assert _endpoint(ws, "data") == "https://pipelinedata.blob.core.chinacloudapi.cn"


def test_gen2_registration_is_a_blob_datastore_with_a_secret_reference(
        tmp_path: Path) -> None:
    stores = {"lake": {"kind": "azureblob", "account_name": "gen2", "container_name": "fs",
                       "endpoint": MIRROR}}
    ws = _workspace(tmp_path / "ws", stores)
    with pytest.warns(UserWarning, match="service principal sign-in is not available"):
        Datastore.register_azure_data_lake_gen2(ws, "lake", "fs", "gen2", tenant_id="t",
                                                client_id="c", client_secret="s3cr3t",
                                                overwrite=True)
    text = (ws.root / "kubeline.yaml").read_text(encoding="utf-8")
    saved = yaml.safe_load(text)["datastores"]["lake"]
    assert saved == {"kind": "azureblob", "account_name": "gen2", "container_name": "fs",
                     "prefix": "",
                     "endpoint": MIRROR,
                     "account_key_secret": {"name": "lake-credentials", "key": "accountKey"}}
    assert "s3cr3t" not in text
