"""Datastore settings as kept in kubeline.yaml: where the data lives and where its secrets are.

Secrets are never values here: only the name of a Kubernetes Secret and its keys. Locally a
Secret reference resolves from the environment (see ``secret_env_name``).

These are plain dataclasses so that the runtime shim, which imports them in every step,
does not pay for pydantic; kubeline.yaml is still validated strictly by pydantic (see
kubeline.workspace.config), which understands dataclasses and their ``__pydantic_config__``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from kubeline.exceptions import ConfigError

_STRICT: dict[str, Any] = {"extra": "forbid"}


@dataclass(frozen=True)
class SecretRef:
    """A key of a Kubernetes Secret (the same shape as Argo's SecretKeySelector)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _STRICT
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


@dataclass(frozen=True, kw_only=True)
class LocalDatastore:
    """A folder on this machine; relative paths are relative to the workspace folder."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _STRICT
    kind: Literal["local"] = "local"
    path: str


@dataclass(frozen=True, kw_only=True)
class S3Datastore:
    """An S3 (or S3-compatible) bucket, with an optional key prefix."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _STRICT
    kind: Literal["s3"] = "s3"
    bucket: str
    prefix: str = ""
    endpoint: str | None = None  # host[:port] or URL; None means AWS
    region: str | None = None
    insecure: bool = False  # plain http (loopback test servers, in-cluster MinIO)
    access_key_secret: SecretRef | None = None
    secret_key_secret: SecretRef | None = None


@dataclass(frozen=True, kw_only=True)
class AzureBlobDatastore:
    """An Azure Blob container, with an optional blob prefix."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _STRICT
    kind: Literal["azureblob"] = "azureblob"
    account_name: str
    container_name: str
    prefix: str = ""
    endpoint: str | None = None  # e.g. http://127.0.0.1:10000/devstoreaccount1 for Azurite
    account_key_secret: SecretRef | None = None
    sas_token_secret: SecretRef | None = None


DatastoreConfig = LocalDatastore | S3Datastore | AzureBlobDatastore
KINDS: dict[str, type[LocalDatastore] | type[S3Datastore] | type[AzureBlobDatastore]] = {
    "local": LocalDatastore, "s3": S3Datastore, "azureblob": AzureBlobDatastore}
_SECRET_FIELDS = ("access_key_secret", "secret_key_secret", "account_key_secret",
                  "sas_token_secret")


def datastore_to_dict(config: DatastoreConfig) -> dict[str, Any]:
    """Plain data without unset (None) fields: what kubeline.yaml and the step spec hold."""
    return {k: v for k, v in dataclasses.asdict(config).items() if v is not None}


def datastore_from_dict(name: str, raw: dict[str, Any]) -> DatastoreConfig:
    """Rebuild a config from datastore_to_dict's output; one-line errors naming the field."""
    model = KINDS.get(str(raw.get("kind", "")))
    if model is None:
        raise ConfigError(f"datastore '{name}': unknown kind {raw.get('kind')!r}",
                          "use local, s3 or azureblob")
    known = {f.name for f in dataclasses.fields(model)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"datastore '{name}': unknown field '{unknown[0]}'",
                          f"known fields: {', '.join(sorted(known))}")
    values = dict(raw)
    for key in _SECRET_FIELDS:
        if isinstance(values.get(key), dict):
            values[key] = SecretRef(**values[key])
    try:
        return model(**values)
    except TypeError as exc:
        raise ConfigError(f"datastore '{name}': {exc}", "fix kubeline.yaml") from None


__all__ = ["AzureBlobDatastore", "DatastoreConfig", "LocalDatastore", "S3Datastore",
           "SecretRef", "datastore_from_dict", "datastore_to_dict", "resolve_secret",
           "secret_env_name"]
