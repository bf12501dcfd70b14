"""Azure Blob Storage datastore driver on azure-storage-blob.

Importing this module imports the Azure SDK; ``kubeline.stores.open_store`` imports it only
for Azure datastores, so the SDK stays the optional extra ``kubeline[azure]``.

Conditional creates use ``upload_blob(overwrite=False)``, which sends ``If-None-Match: *`` on
the single Put Blob or on the final Put Block List, so the service decides atomically.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.storage.blob import BlobClient, BlobServiceClient, ContainerClient, ExponentialRetry

from kubeline.exceptions import DatastoreError
from kubeline.stores.atomic import atomic_download
from kubeline.stores.base import open_upload
from kubeline.stores.config import AzureBlobDatastore, resolve_secret, secret_env_name
from kubeline.stores.dirs import DirTransfers
from kubeline.stores.keys import check_key, check_prefix, prefix_root
from kubeline.stores.objects import StoreObject

log = logging.getLogger(__name__)

_BLOCK = 4 * 1024 * 1024


def _client_options() -> dict[str, Any]:
    """SDK settings: stream in 4 MiB blocks both ways (not 64 MiB single shots), and retry
    briefly: the SDK's default backoff (15 s, then growing) makes a wrong endpoint hang for
    over a minute per call."""
    return {
        "max_single_put_size": _BLOCK,
        "max_block_size": _BLOCK,
        "max_single_get_size": _BLOCK,
        "max_chunk_get_size": _BLOCK,
        "retry_policy": ExponentialRetry(
            initial_backoff=1, increment_base=2, retry_total=2, random_jitter_range=1
        ),
        "connection_timeout": 20,
    }


def account_url(config: AzureBlobDatastore) -> str:
    """The blob endpoint: the configured one (Azurite, sovereign clouds) or public Azure."""
    if config.endpoint:
        return config.endpoint.rstrip("/")
    return f"https://{config.account_name}.blob.core.windows.net"


def service_client(config: AzureBlobDatastore) -> BlobServiceClient:
    """A client with the first credential found (see docs/decisions/0003-datastores.md).

    Order: the account key Secret, the SAS token Secret, AZURE_STORAGE_CONNECTION_STRING,
    AZURE_STORAGE_KEY, then anonymous access (public containers).
    """
    key = resolve_secret(config.account_key_secret)
    sas = resolve_secret(config.sas_token_secret)
    url = account_url(config)
    if key:
        return _with_key(url, config.account_name, key)
    if sas:
        return BlobServiceClient(url, credential=sas.lstrip("?"), **_client_options())
    connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if connection_string:
        return BlobServiceClient.from_connection_string(connection_string, **_client_options())
    env_key = os.environ.get("AZURE_STORAGE_KEY")
    if env_key:
        return _with_key(url, config.account_name, env_key)
    return BlobServiceClient(url, **_client_options())


def _with_key(url: str, account: str, key: str) -> BlobServiceClient:
    credential = {"account_name": account, "account_key": key}
    return BlobServiceClient(url, credential=credential, **_client_options())


class AzureBlobStore(DirTransfers):
    """A container plus optional blob prefix; keys are relative to that prefix."""

    def __init__(self, name: str, config: AzureBlobDatastore) -> None:
        self.name = name
        self.config = config
        self._root = prefix_root(name, config.prefix)

    def __repr__(self) -> str:
        return f"AzureBlobStore(name={self.name!r}, url={self._url('')!r})"

    @cached_property
    def _container(self) -> ContainerClient:
        return service_client(self.config).get_container_client(self.config.container_name)

    def _blob(self, key: str) -> BlobClient:
        return self._container.get_blob_client(self._root + check_key(self.name, key))

    def put_file(self, local_path: Path, key: str, *, overwrite: bool = True) -> bool:
        """Upload in 4 MiB blocks; overwrite=False is an atomic create."""
        blob = self._blob(key)
        with open_upload(self.name, local_path, key) as source:
            try:
                if not overwrite and blob.exists():
                    return False
                size = os.fstat(source.fileno()).st_size
                blob.upload_blob(source, length=size, overwrite=overwrite, max_concurrency=2)
            except ResourceExistsError:
                if overwrite:
                    raise
                return False
            except AzureError as exc:
                self._raise(exc, "upload", key)
        return True

    def get_file(self, key: str, local_path: Path) -> None:
        """Download in 4 MiB ranges into a temp file, then rename."""
        blob = self._blob(key)
        try:
            atomic_download(
                Path(local_path), lambda out: blob.download_blob(max_concurrency=2).readinto(out)
            )
        except AzureError as exc:
            self._raise(exc, "download", key)

    def put_bytes(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        """Put Blob; with if_absent it carries If-None-Match: * and reports the refusal."""
        try:
            self._blob(key).upload_blob(data, overwrite=not if_absent)
        except ResourceExistsError:
            if not if_absent:
                raise
            return False
        except AzureError as exc:
            self._raise(exc, "write", key)
        return True

    def get_bytes(self, key: str) -> bytes:
        """Get Blob, read whole (small records only)."""
        try:
            return self._blob(key).download_blob().readall()
        except AzureError as exc:
            self._raise(exc, "read", key)

    def exists(self, key: str) -> bool:
        """Blob properties answer."""
        try:
            return self._blob(key).exists()
        except AzureError as exc:
            self._raise(exc, "check", key)

    def list(self, prefix: str = "") -> Iterator[StoreObject]:
        """List Blobs under the prefix; the service returns names in lexicographic order."""
        check_prefix(self.name, prefix)
        try:
            for item in self._container.list_blobs(name_starts_with=self._root + prefix):
                yield StoreObject(
                    key=item.name[len(self._root) :],
                    size=int(item.size),
                    etag=str(item.etag).strip('"'),
                )
        except AzureError as exc:
            self._raise(exc, "list", prefix)

    def delete(self, key: str) -> None:
        """Delete Blob; deleting an absent blob is not an error (a missing container is)."""
        try:
            self._blob(key).delete_blob()
        except ResourceNotFoundError as exc:
            if _code(exc) == "ContainerNotFound":
                self._raise(exc, "delete", key)
        except AzureError as exc:
            self._raise(exc, "delete", key)

    def etag(self, key: str) -> str | None:
        """The blob's ETag without quotes; None if absent."""
        try:
            return str(self._blob(key).get_blob_properties().etag).strip('"')
        except ResourceNotFoundError as exc:
            if _code(exc) == "ContainerNotFound":
                self._raise(exc, "check", key)
            return None
        except AzureError as exc:
            self._raise(exc, "check", key)

    def _url(self, key: str) -> str:
        return f"{account_url(self.config)}/{self.config.container_name}/{self._root}{key}"

    def _container_exists(self) -> bool:
        try:
            return bool(self._container.exists())
        except AzureError:
            return False

    def _raise(self, exc: AzureError, op: str, key: str) -> NoReturn:
        """Turn an SDK error into one DatastoreError line naming datastore, container, key."""
        where = f"datastore '{self.name}'"
        if isinstance(exc, ServiceRequestError):
            raise DatastoreError(
                f"{where}: cannot reach Azure Blob endpoint {account_url(self.config)}",
                f"check datastores.{self.name}.endpoint and account_name",
            ) from exc
        code = _code(exc)
        if isinstance(exc, ResourceNotFoundError):
            if code == "ContainerNotFound" or not self._container_exists():
                raise DatastoreError(
                    f"{where}: container {self.config.container_name!r} does not exist in "
                    f"account {self.config.account_name!r}",
                    f"create it or fix datastores.{self.name}.container_name in kubeline.yaml",
                ) from exc
            raise DatastoreError(f"{where}: object {key!r} not found at {self._url(key)}") from exc
        if isinstance(exc, ClientAuthenticationError) or _status(exc) == 403:
            raise DatastoreError(
                f"{where}: access denied ({code or 403}) for {op} of {key!r} in container "
                f"{self.config.container_name!r}",
                self._secret_hint(),
            ) from exc
        raise DatastoreError(
            f"{where}: Azure Blob {op} of {key!r} failed: {code or type(exc).__name__}"
        ) from exc

    def _secret_hint(self) -> str:
        refs = [r for r in (self.config.account_key_secret, self.config.sas_token_secret) if r]
        names = " or ".join(secret_env_name(r) for r in refs)
        fallback = "AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_KEY"
        return f"set {names}, or {fallback}" if names else f"set {fallback}"


def _code(exc: AzureError) -> str:
    """The service's error code as sent ('BlobNotFound'), whether the SDK gives str or enum."""
    code = getattr(exc, "error_code", None) or ""
    return str(getattr(code, "value", code))


def _status(exc: AzureError) -> int | None:
    return exc.status_code if isinstance(exc, HttpResponseError) else None
