"""S3 (and S3-compatible: MinIO, moto) datastore driver on boto3.

Importing this module imports boto3; ``kubeline.stores.open_store`` imports it only for S3
datastores, so boto3 stays the optional extra ``kubeline[s3]``.

Conditional creates use ``If-None-Match: *`` on PutObject and CompleteMultipartUpload, which
S3 evaluates atomically. boto3's ``upload_file`` does not accept that argument, so uploads that
must not overwrite go through a second client that adds it to both calls.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)

from kubeline.exceptions import DatastoreError
from kubeline.stores.atomic import atomic_download
from kubeline.stores.config import S3Datastore, resolve_secret, secret_env_name
from kubeline.stores.dirs import DirTransfers
from kubeline.stores.keys import check_key, check_prefix, prefix_root
from kubeline.stores.objects import StoreObject

log = logging.getLogger(__name__)

_TRANSFER = TransferConfig(
    multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, max_concurrency=4
)
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_DENIED = {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden"}


def endpoint_url(config: S3Datastore) -> str | None:
    """The endpoint as a URL: a bare host[:port] gets http when insecure, else https.

    KUBELINE_S3_ENDPOINT_OVERRIDE replaces it for this process: how a laptop reaches an
    in-cluster S3 (say MinIO through ``kubectl port-forward``) whose configured endpoint is
    the cluster-internal address the step pods use.
    """
    override = os.environ.get("KUBELINE_S3_ENDPOINT_OVERRIDE")
    if override:
        return override
    if not config.endpoint:
        return None
    if "://" in config.endpoint:
        return config.endpoint
    return ("http://" if config.insecure else "https://") + config.endpoint


def credentials(config: S3Datastore) -> dict[str, str]:
    """Keys from the config's Secret references; empty means boto3's default chain decides."""
    access = resolve_secret(config.access_key_secret)
    secret = resolve_secret(config.secret_key_secret)
    if access and secret:
        return {"aws_access_key_id": access, "aws_secret_access_key": secret}
    return {}


class S3Store(DirTransfers):
    """A bucket plus optional key prefix; keys are relative to that prefix."""

    def __init__(self, name: str, config: S3Datastore) -> None:
        self.name = name
        self.config = config
        self._root = prefix_root(name, config.prefix)

    def __repr__(self) -> str:
        return f"S3Store(name={self.name!r}, url={self._url('')!r})"

    @cached_property
    def _client(self) -> Any:
        return self._make_client()

    @cached_property
    def _create_only_client(self) -> Any:
        """A client whose object writes carry If-None-Match: * (for overwrite=False uploads)."""
        client = self._make_client()

        def add_condition(params: dict[str, Any], **_: Any) -> None:
            params["IfNoneMatch"] = "*"

        for op in ("PutObject", "CompleteMultipartUpload"):
            client.meta.events.register(f"before-parameter-build.s3.{op}", add_condition)
        return client

    def _make_client(self) -> Any:
        session = boto3.session.Session(**credentials(self.config))
        region = self.config.region or session.region_name or "us-east-1"
        url = endpoint_url(self.config)
        config = Config(
            region_name=region,
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path"} if url else {},
        )
        return session.client("s3", endpoint_url=url, config=config)

    def put_file(self, local_path: Path, key: str, *, overwrite: bool = True) -> bool:
        """Upload a file (multipart above 8 MiB); overwrite=False is an atomic create."""
        full = self._full(key)
        if not Path(local_path).is_file():
            raise DatastoreError(
                f"datastore '{self.name}': cannot upload {str(local_path)!r} as {key!r}: "
                "no such file"
            )
        if not overwrite and self._head(key) is not None:
            return False
        client = self._client if overwrite else self._create_only_client
        try:
            client.upload_file(str(local_path), self.config.bucket, full, Config=_TRANSFER)
        except S3UploadFailedError as exc:
            cause = exc.__context__
            if isinstance(cause, ClientError):
                if _code(cause) in ("PreconditionFailed", "412"):
                    return False
                self._raise(cause, "upload", key)
            raise DatastoreError(f"datastore '{self.name}': upload of {key!r} failed") from exc
        except (ClientError, BotoCoreError) as exc:
            self._raise(exc, "upload", key)
        return True

    def get_file(self, key: str, local_path: Path) -> None:
        """Download (ranged, in parallel for big objects) into a temp file, then rename."""
        full = self._full(key)
        try:
            atomic_download(
                Path(local_path),
                lambda out: self._client.download_fileobj(
                    self.config.bucket, full, out, Config=_TRANSFER
                ),
            )
        except (ClientError, BotoCoreError) as exc:
            self._raise(exc, "download", key)

    def put_bytes(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        """PutObject; with if_absent the create is conditional (If-None-Match: *)."""
        extra = {"IfNoneMatch": "*"} if if_absent else {}
        for _attempt in range(3):
            try:
                self._client.put_object(
                    Bucket=self.config.bucket, Key=self._full(key), Body=data, **extra
                )
                return True
            except ClientError as exc:
                code = _code(exc)
                if if_absent and code in ("PreconditionFailed", "412"):
                    return False
                if if_absent and code == "ConditionalRequestConflict":
                    continue  # a racing conditional write is in flight: ask again
                self._raise(exc, "write", key)
            except BotoCoreError as exc:
                self._raise(exc, "write", key)
        raise DatastoreError(
            f"datastore '{self.name}': conditional create of {key!r} kept conflicting"
        )

    def get_bytes(self, key: str) -> bytes:
        """GetObject, read whole (small records only)."""
        try:
            response = self._client.get_object(Bucket=self.config.bucket, Key=self._full(key))
            body: bytes = response["Body"].read()
            return body
        except (ClientError, BotoCoreError) as exc:
            self._raise(exc, "read", key)

    def exists(self, key: str) -> bool:
        """HeadObject answers."""
        return self._head(key) is not None

    def list(self, prefix: str = "") -> Iterator[StoreObject]:
        """ListObjectsV2 under the prefix; S3 returns keys in UTF-8 byte order (= str order)."""
        check_prefix(self.name, prefix)
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.config.bucket, Prefix=self._root + prefix):
                for item in page.get("Contents", []):
                    yield StoreObject(
                        key=item["Key"][len(self._root) :],
                        size=int(item["Size"]),
                        etag=str(item["ETag"]).strip('"'),
                    )
        except (ClientError, BotoCoreError) as exc:
            self._raise(exc, "list", prefix)

    def delete(self, key: str) -> None:
        """DeleteObject; deleting an absent key is not an error (as in S3)."""
        try:
            self._client.delete_object(Bucket=self.config.bucket, Key=self._full(key))
        except (ClientError, BotoCoreError) as exc:
            self._raise(exc, "delete", key)

    def etag(self, key: str) -> str | None:
        """The S3 ETag without quotes (an MD5 only for single-part uploads)."""
        head = self._head(key)
        return None if head is None else str(head["ETag"]).strip('"')

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self._client.head_object(
                Bucket=self.config.bucket, Key=self._full(key)
            )
            return head
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                return None
            self._raise(exc, "check", key)
        except BotoCoreError as exc:
            self._raise(exc, "check", key)

    def _full(self, key: str) -> str:
        return self._root + check_key(self.name, key)

    def _url(self, key: str) -> str:
        return f"s3://{self.config.bucket}/{self._root}{key}"

    def _bucket_exists(self) -> bool:
        with contextlib.suppress(ClientError, BotoCoreError):
            self._client.head_bucket(Bucket=self.config.bucket)
            return True
        return False

    def _raise(self, exc: ClientError | BotoCoreError, op: str, key: str) -> NoReturn:
        """Turn a boto error into one DatastoreError line naming datastore, bucket and key."""
        where = f"datastore '{self.name}'"
        if isinstance(exc, NoCredentialsError):
            raise DatastoreError(
                f"{where}: no S3 credentials found for {op} of {key!r}", self._secret_hint()
            ) from exc
        if isinstance(exc, EndpointConnectionError):
            raise DatastoreError(
                f"{where}: cannot reach S3 endpoint {endpoint_url(self.config) or 'AWS'}",
                f"check datastores.{self.name}.endpoint",
            ) from exc
        if isinstance(exc, BotoCoreError):
            raise DatastoreError(f"{where}: S3 {op} of {key!r} failed: {exc}") from exc
        code = _code(exc)
        if code == "NoSuchBucket" or (code in _NOT_FOUND and not self._bucket_exists()):
            raise DatastoreError(
                f"{where}: bucket {self.config.bucket!r} does not exist",
                f"create it or fix datastores.{self.name}.bucket in kubeline.yaml",
            ) from exc
        if code in _NOT_FOUND:
            raise DatastoreError(f"{where}: object {key!r} not found at {self._url(key)}") from exc
        if code in _DENIED:
            raise DatastoreError(
                f"{where}: access denied ({code}) for {op} of {key!r} in bucket "
                f"{self.config.bucket!r}",
                self._secret_hint(),
            ) from exc
        message = exc.response.get("Error", {}).get("Message", "")
        raise DatastoreError(f"{where}: S3 {op} of {key!r} failed: {code} {message}") from exc

    def _secret_hint(self) -> str:
        refs = [r for r in (self.config.access_key_secret, self.config.secret_key_secret) if r]
        names = " and ".join(secret_env_name(r) for r in refs)
        if names:
            return f"set {names}, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        return (
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or set "
            f"datastores.{self.name}.access_key_secret and secret_key_secret"
        )


def _code(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    code = error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(code)
