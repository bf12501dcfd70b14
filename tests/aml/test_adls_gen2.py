"""ADLS Gen2 datastores through the Blob API, on Azurite: the data-transfer notebook's
registration (a service principal) and a DataTransferStep copy out of the filesystem."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from kubeline.azureml.core import Datastore, Experiment, Workspace
from kubeline.azureml.data.data_reference import DataReference
from kubeline.azureml.pipeline.core import Pipeline
from kubeline.azureml.pipeline.steps import DataTransferStep
from tests.servers import AzuriteServer


def _workspace(root: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    root.mkdir(parents=True)
    (root / "kubeline.yaml").write_text("name: gen2\n", encoding="utf-8")
    monkeypatch.chdir(root)
    return Workspace.from_config()


def test_gen2_registration_copies_with_a_data_transfer_step(
        azurite: AzuriteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _workspace(tmp_path / "ws", monkeypatch)
    filesystem = azurite.create_container()
    azurite.service_client().get_container_client(filesystem).upload_blob(
        "testdata/rows.csv", b"a,b\n1,2\n")
    monkeypatch.setenv("MYADLSGEN2DATASTORE_CREDENTIALS_ACCOUNTKEY", azurite.account_key)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gen2 = Datastore.register_azure_data_lake_gen2(
            workspace=ws, datastore_name="myadlsgen2datastore", filesystem=filesystem,
            account_name=azurite.account_name, tenant_id="t", client_id="c",
            client_secret="sp-secret-value", endpoint=azurite.endpoint_url)
    assert [str(w.message) for w in caught] == [
        "datastore 'myadlsgen2datastore': service principal sign-in is not available in "
        "kubeline (no Azure AD); the account key is read from "
        "MYADLSGEN2DATASTORE_CREDENTIALS_ACCOUNTKEY or Secret "
        "'myadlsgen2datastore-credentials' (key accountKey); the principal is ignored"]
    source = DataReference(datastore=gen2, data_reference_name="adlsgen2_test_data",
                           path_on_datastore="testdata")
    target = DataReference(datastore=ws.get_default_datastore(),
                           data_reference_name="copied", path_on_datastore="copied")
    step = DataTransferStep(name="transfer_adlsgen2_to_local",
                            source_data_reference=source, destination_data_reference=target)
    run = Experiment(ws, "gen2").submit(Pipeline(ws, steps=[step]))
    run.wait_for_completion(show_output=False)
    assert run.get_status() == "Finished"
    copied = ws.root / ".kubeline/datastores/workspaceblobstore/copied/rows.csv"
    assert copied.read_bytes() == b"a,b\n1,2\n"
    config = (ws.root / "kubeline.yaml").read_text(encoding="utf-8")
    assert "sp-secret-value" not in config and azurite.account_key not in config
    assert f"container_name: {filesystem}" in config


def test_gen2_without_a_key_reads_a_public_filesystem_and_fails_clearly_otherwise(
        azurite: AzuriteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No key in the environment: anonymous access, which a private filesystem refuses with
    one line naming the datastore."""
    from kubeline.exceptions import DatastoreError

    ws = _workspace(tmp_path / "ws", monkeypatch)
    filesystem = azurite.create_container()
    azurite.service_client().get_container_client(filesystem).upload_blob("x.txt", b"x")
    monkeypatch.delenv("AZURE_STORAGE_KEY", raising=False)
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    gen2 = Datastore.register_azure_data_lake_gen2(
        ws, "lake", filesystem, azurite.account_name, endpoint=azurite.endpoint_url)
    with pytest.raises(DatastoreError, match="datastore 'lake'"):
        gen2.download(str(tmp_path / "out"), show_progress=False)
