"""Datastore drivers: local filesystem, S3 and Azure Blob behind one small contract.

``open_store`` imports a cloud SDK only when a datastore of that kind is opened, so
``import kubeline`` stays fast and boto3 / azure-storage-blob remain optional extras.
"""

from __future__ import annotations

from pathlib import Path

from kubeline.exceptions import DatastoreError
from kubeline.stores.base import ObjectInfo, Store
from kubeline.stores.config import (
    AzureBlobDatastore,
    DatastoreConfig,
    LocalDatastore,
    S3Datastore,
)
from kubeline.stores.dirs import get_dir, put_dir
from kubeline.stores.local import LocalStore
from kubeline.stores.objects import StoreObject

__all__ = [
    "ObjectInfo",
    "Store",
    "StoreObject",
    "get_dir",
    "local_root",
    "open_store",
    "put_dir",
]


def local_root(config: LocalDatastore, root: Path) -> Path:
    """A local datastore's folder: absolute as given, or relative to the workspace folder."""
    path = Path(config.path).expanduser()
    return path if path.is_absolute() else Path(root) / path


def open_store(name: str, config: DatastoreConfig, root: Path) -> Store:
    """The driver for one configured datastore; no network call happens until first use."""
    if isinstance(config, LocalDatastore):
        return LocalStore(name, local_root(config, root))
    if isinstance(config, S3Datastore):
        try:
            from kubeline.stores.s3 import S3Store
        except ImportError as exc:
            raise _missing_extra(name, "s3", "boto3") from exc
        return S3Store(name, config)
    if isinstance(config, AzureBlobDatastore):
        try:
            from kubeline.stores.azure import AzureBlobStore
        except ImportError as exc:
            raise _missing_extra(name, "azure", "azure-storage-blob") from exc
        return AzureBlobStore(name, config)
    raise DatastoreError(f"datastore '{name}': unknown kind {type(config).__name__}")


def _missing_extra(name: str, extra: str, package: str) -> DatastoreError:
    return DatastoreError(
        f"datastore '{name}' needs the Python package {package}, which is not installed",
        f"pip install 'kubeline[{extra}]'",
    )
