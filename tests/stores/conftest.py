"""Fixtures giving each test a fresh datastore of each kind, backed by a real server.

The S3 and Azure stores read their credentials through Secret references resolved from the
environment (as a pod would), not by passing keys in, so that path is exercised too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kubeline.stores import Store, open_store
from kubeline.stores.config import (
    AzureBlobDatastore,
    DatastoreConfig,
    LocalDatastore,
    S3Datastore,
    SecretRef,
)

KINDS = ["local", "s3", "azure"]

S3_ACCESS = SecretRef(name="kl-test-s3", key="accessKey")
S3_SECRET = SecretRef(name="kl-test-s3", key="secretKey")
AZ_KEY = SecretRef(name="kl-test-az", key="accountKey")

StoreFactory = Callable[..., Store]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_config(
    kind: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., DatastoreConfig]:
    """Build a datastore config of this test's kind; servers start only when needed."""

    def make(prefix: str = "team/exp", *, create: bool = True) -> DatastoreConfig:
        if kind == "local":
            return LocalDatastore(path="data/store")
        if kind == "s3":
            server = request.getfixturevalue("s3_server")
            monkeypatch.setenv("KL_TEST_S3_ACCESSKEY", server.access_key)
            monkeypatch.setenv("KL_TEST_S3_SECRETKEY", server.secret_key)
            bucket = server.create_bucket() if create else "kl-no-such-bucket"
            return S3Datastore(
                bucket=bucket,
                prefix=prefix,
                endpoint=server.endpoint_url.removeprefix("http://"),
                insecure=True,
                region="us-east-1",
                access_key_secret=S3_ACCESS,
                secret_key_secret=S3_SECRET,
            )
        server = request.getfixturevalue("azurite")
        monkeypatch.setenv("KL_TEST_AZ_ACCOUNTKEY", server.account_key)
        container = server.create_container() if create else "kl-no-such-container"
        return AzureBlobDatastore(
            account_name=server.account_name,
            container_name=container,
            prefix=prefix,
            endpoint=server.endpoint_url,
            account_key_secret=AZ_KEY,
        )

    return make


@pytest.fixture
def make_store(make_config: Callable[..., DatastoreConfig], tmp_path: Path) -> StoreFactory:
    def make(prefix: str = "team/exp", *, create: bool = True) -> Store:
        workspace = tmp_path / "workspace"
        workspace.mkdir(exist_ok=True)
        return open_store("main", make_config(prefix, create=create), workspace)

    return make


@pytest.fixture
def store(make_store: StoreFactory) -> Store:
    return make_store()
