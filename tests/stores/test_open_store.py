"""open_store: picking the driver, local paths, and optional SDKs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kubeline.exceptions import DatastoreError
from kubeline.stores import open_store
from kubeline.stores.config import AzureBlobDatastore, LocalDatastore, S3Datastore
from kubeline.stores.local import LocalStore


def test_local_relative_path_is_under_the_workspace(tmp_path: Path) -> None:
    store = open_store("default", LocalDatastore(path=".kubeline/data"), tmp_path)
    assert isinstance(store, LocalStore)
    assert store.root == tmp_path / ".kubeline" / "data"
    store.put_bytes("a/b.txt", b"x")
    assert (tmp_path / ".kubeline" / "data" / "a" / "b.txt").read_bytes() == b"x"


def test_local_absolute_path_is_kept(tmp_path: Path) -> None:
    store = open_store("d", LocalDatastore(path=str(tmp_path / "abs")), tmp_path / "ws")
    assert isinstance(store, LocalStore) and store.root == tmp_path / "abs"


@pytest.mark.parametrize(
    ("config", "module", "package", "extra"),
    [
        (S3Datastore(bucket="b"), "boto3", "boto3", "s3"),
        (
            AzureBlobDatastore(account_name="a", container_name="c"),
            "azure.storage.blob",
            "azure-storage-blob",
            "azure",
        ),
    ],
)
def test_missing_sdk_names_the_extra(
    config: S3Datastore | AzureBlobDatastore,
    module: str,
    package: str,
    extra: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    monkeypatch.delitem(sys.modules, f"kubeline.stores.{extra}", raising=False)
    with pytest.raises(DatastoreError) as info:
        open_store("lake", config, tmp_path)
    assert str(info.value) == (
        f"datastore 'lake' needs the Python package {package}, which is not installed "
        f"(pip install 'kubeline[{extra}]')"
    )


def test_importing_stores_does_not_import_cloud_sdks() -> None:
    code = (
        "import sys, kubeline.stores\n"
        "print(sorted(m for m in ('boto3', 'botocore', 'azure.storage.blob') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
