"""Datastore settings as kept in kubeline.yaml: where the data lives and where its secrets are.

Secrets are never values here: only the name of a Kubernetes Secret and its keys. Locally a
Secret reference resolves from the environment (see ``secret_env_name``).
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class SecretRef(BaseModel):
    """A key of a Kubernetes Secret (the same shape as Argo's SecretKeySelector)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    key: str


def secret_env_name(ref: SecretRef) -> str:
    """The environment variable that holds a Secret key's value on this machine.

    ``{name: kubeline-s3, key: accessKey}`` -> ``KUBELINE_S3_ACCESSKEY``.
    """
    return re.sub(r"[^A-Za-z0-9]", "_", f"{ref.name}_{ref.key}").upper()


def resolve_secret(ref: SecretRef | None) -> str | None:
    """The value of a Secret reference from the environment, or None when unset."""
    if ref is None:
        return None
    return os.environ.get(secret_env_name(ref))


class LocalDatastore(BaseModel):
    """A folder on this machine; relative paths are relative to the workspace folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["local"] = "local"
    path: str


class S3Datastore(BaseModel):
    """An S3 (or S3-compatible) bucket, with an optional key prefix."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["s3"] = "s3"
    bucket: str
    prefix: str = ""
    endpoint: str | None = None  # host[:port] or URL; None means AWS
    region: str | None = None
    insecure: bool = False  # plain http (loopback test servers, in-cluster MinIO)
    access_key_secret: SecretRef | None = None
    secret_key_secret: SecretRef | None = None


class AzureBlobDatastore(BaseModel):
    """An Azure Blob container, with an optional blob prefix."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["azureblob"] = "azureblob"
    account_name: str
    container_name: str
    prefix: str = ""
    endpoint: str | None = None  # e.g. http://127.0.0.1:10000/devstoreaccount1 for Azurite
    account_key_secret: SecretRef | None = None
    sas_token_secret: SecretRef | None = None


DatastoreConfig = Annotated[
    LocalDatastore | S3Datastore | AzureBlobDatastore, Field(discriminator="kind")
]
