"""Where each driver finds its credentials, and that secrets never reach errors or logs."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
from azure.storage.blob import ContainerSasPermissions, generate_container_sas

from kubeline.exceptions import DatastoreError
from kubeline.stores import open_store
from kubeline.stores.config import AzureBlobDatastore, S3Datastore, SecretRef
from kubeline.stores.s3 import credentials, endpoint_url
from tests.servers import AzuriteServer, S3Server

ACCESS = SecretRef(name="kl-cred", key="access-key")
SECRET = SecretRef(name="kl-cred", key="secret-key")
SAS = SecretRef(name="kl-az", key="sas")
KEY = SecretRef(name="kl-az", key="key")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> pytest.MonkeyPatch:
    """No ambient AWS/Azure credentials, and no instance-metadata lookups off the machine."""
    for name in (
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE", "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_KEY",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    return monkeypatch


def s3_config(server: S3Server, bucket: str, **refs: SecretRef) -> S3Datastore:
    return S3Datastore(bucket=bucket, endpoint=server.endpoint_url, region="us-east-1", **refs)


def test_s3_endpoint_url_forms() -> None:
    assert endpoint_url(S3Datastore(bucket="b")) is None
    assert endpoint_url(S3Datastore(bucket="b", endpoint="minio:9000")) == "https://minio:9000"
    assert (
        endpoint_url(S3Datastore(bucket="b", endpoint="minio:9000", insecure=True))
        == "http://minio:9000"
    )
    assert endpoint_url(S3Datastore(bucket="b", endpoint="http://x:1")) == "http://x:1"


def test_s3_credentials_come_from_secret_refs_then_default_chain(
    clean_env: pytest.MonkeyPatch,
) -> None:
    config = S3Datastore(bucket="b", access_key_secret=ACCESS, secret_key_secret=SECRET)
    assert credentials(config) == {}  # unresolved: boto3's default chain decides
    clean_env.setenv("KL_CRED_ACCESS_KEY", "AKIAFROMSECRET")
    clean_env.setenv("KL_CRED_SECRET_KEY", "s3cr3t")
    assert credentials(config) == {
        "aws_access_key_id": "AKIAFROMSECRET",
        "aws_secret_access_key": "s3cr3t",
    }


def test_s3_falls_back_to_aws_env(
    s3_server: S3Server, clean_env: pytest.MonkeyPatch, tmp_path: object
) -> None:
    for name, value in s3_server.env().items():
        clean_env.setenv(name, value)
    store = open_store("lake", s3_config(s3_server, s3_server.create_bucket()), tmp_path)  # type: ignore[arg-type]
    assert store.put_bytes("k", b"v", if_absent=True) is True
    assert store.get_bytes("k") == b"v"


def test_s3_without_any_credentials_says_where_to_put_them(
    s3_server: S3Server, clean_env: pytest.MonkeyPatch, tmp_path: object
) -> None:
    config = s3_config(s3_server, "any-bucket", access_key_secret=ACCESS, secret_key_secret=SECRET)
    store = open_store("lake", config, tmp_path)  # type: ignore[arg-type]
    with pytest.raises(DatastoreError) as info:
        store.get_bytes("k")
    assert str(info.value) == (
        "datastore 'lake': no S3 credentials found for read of 'k' "
        "(set KL_CRED_ACCESS_KEY and KL_CRED_SECRET_KEY, "
        "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
    )


def az_config(server: AzuriteServer, container: str, **refs: SecretRef) -> AzureBlobDatastore:
    return AzureBlobDatastore(
        account_name=server.account_name,
        container_name=container,
        endpoint=server.endpoint_url,
        **refs,
    )


def test_azure_wrong_account_key_is_access_denied_without_leaking_it(
    azurite: AzuriteServer, clean_env: pytest.MonkeyPatch, tmp_path: object
) -> None:
    wrong = "d3Jvbmcta2V5LW5vdC10aGUtcmVhbC1vbmUtYXQtYWxsLWZvci10ZXN0aW5nLW9ubHk="
    clean_env.setenv("KL_AZ_KEY", wrong)
    store = open_store(
        "blob",
        az_config(azurite, azurite.create_container(), account_key_secret=KEY),
        tmp_path,  # type: ignore[arg-type]
    )
    with pytest.raises(DatastoreError, match=r"datastore 'blob': access denied") as info:
        store.put_bytes("k", b"v")
    assert "KL_AZ_KEY" in str(info.value)
    assert wrong not in str(info.value)


def test_azure_sas_token_secret_grants_exactly_its_permissions(
    azurite: AzuriteServer, clean_env: pytest.MonkeyPatch, tmp_path: object
) -> None:
    container = azurite.create_container()
    azurite.service_client().get_container_client(container).upload_blob("seed", b"seeded")

    def sas(permission: ContainerSasPermissions) -> str:
        return generate_container_sas(
            azurite.account_name,
            container,
            account_key=azurite.account_key,
            permission=permission,
            expiry=datetime.now(timezone.utc) + timedelta(hours=1),
        )

    config = az_config(azurite, container, sas_token_secret=SAS)
    clean_env.setenv("KL_AZ_SAS", "?" + sas(ContainerSasPermissions(read=True, list=True)))
    reader = open_store("blob", config, tmp_path)  # type: ignore[arg-type]
    assert reader.get_bytes("seed") == b"seeded"
    with pytest.raises(DatastoreError, match=r"access denied .* for write of 'new'"):
        reader.put_bytes("new", b"x")

    clean_env.setenv("KL_AZ_SAS", sas(ContainerSasPermissions(read=True, write=True, create=True)))
    writer = open_store("blob", config, tmp_path)  # type: ignore[arg-type]
    assert writer.put_bytes("new", b"x", if_absent=True) is True


@pytest.mark.parametrize("variable", ["AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_KEY"])
def test_azure_falls_back_to_environment(
    azurite: AzuriteServer, clean_env: pytest.MonkeyPatch, tmp_path: object, variable: str
) -> None:
    value = azurite.connection_string if variable.endswith("STRING") else azurite.account_key
    clean_env.setenv(variable, value)
    store = open_store("blob", az_config(azurite, azurite.create_container()), tmp_path)  # type: ignore[arg-type]
    assert store.put_bytes("k", b"v") is True
    assert [o.key for o in store.list()] == ["k"]


def test_azure_anonymous_access_to_a_private_container_fails_clearly(
    azurite: AzuriteServer, clean_env: pytest.MonkeyPatch, tmp_path: object
) -> None:
    store = open_store("blob", az_config(azurite, azurite.create_container()), tmp_path)  # type: ignore[arg-type]
    with pytest.raises(DatastoreError, match=r"^datastore 'blob': "):
        store.put_bytes("k", b"v")


def test_secrets_never_reach_logs(
    s3_server: S3Server,
    azurite: AzuriteServer,
    clean_env: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: object,
) -> None:
    clean_env.setenv("KL_CRED_ACCESS_KEY", s3_server.access_key)
    clean_env.setenv("KL_CRED_SECRET_KEY", s3_server.secret_key)
    clean_env.setenv("KL_AZ_KEY", azurite.account_key)
    s3 = s3_config(
        s3_server, s3_server.create_bucket(), access_key_secret=ACCESS, secret_key_secret=SECRET
    )
    az = az_config(azurite, azurite.create_container(), account_key_secret=KEY)
    caplog.set_level(logging.DEBUG)
    for config in (s3, az):
        store = open_store("x", config, tmp_path)  # type: ignore[arg-type]
        store.put_bytes("a", b"1", if_absent=True)
        store.put_bytes("a", b"1", if_absent=True)
        list(store.list())
        with pytest.raises(DatastoreError):
            store.get_bytes("missing")
    assert caplog.records, "expected the SDKs to log at DEBUG"
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert s3_server.secret_key not in text
    assert azurite.account_key not in text
