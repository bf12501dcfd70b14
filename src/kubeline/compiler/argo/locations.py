"""Datastore paths as Argo artifact locations; credentials only as Secret references."""

from __future__ import annotations

from hera.workflows.models import AzureArtifact, S3Artifact, SecretKeySelector

from kubeline.stores.config import AzureBlobDatastore, DatastoreConfig, S3Datastore, SecretRef


def _secret(ref: SecretRef | None) -> SecretKeySelector | None:
    return SecretKeySelector(name=ref.name, key=ref.key) if ref is not None else None


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def artifact_location(datastore: str, config: DatastoreConfig, path: str
                      ) -> dict[str, S3Artifact | AzureArtifact]:
    """The location fields of an Argo artifact for datastore/path.

    A local datastore has no cluster address: it becomes a key-only S3 artifact
    ``<datastore>/<path>``, resolved by the namespace's artifact repository (and by the
    local executor against .kubeline/datastores).
    """
    if isinstance(config, S3Datastore):
        return {"s3": S3Artifact(
            endpoint=_endpoint_host(config.endpoint) if config.endpoint else "s3.amazonaws.com",
            bucket=config.bucket, key=_join(config.prefix, path), region=config.region,
            insecure=config.insecure or None,
            access_key_secret=_secret(config.access_key_secret),
            secret_key_secret=_secret(config.secret_key_secret))}
    if isinstance(config, AzureBlobDatastore):
        endpoint = config.endpoint or f"https://{config.account_name}.blob.core.windows.net"
        return {"azure": AzureArtifact(
            endpoint=endpoint, container=config.container_name,
            blob=_join(config.prefix, path),
            account_key_secret=_secret(config.account_key_secret))}
    return {"s3": S3Artifact(key=_join(datastore, path))}


def _endpoint_host(endpoint: str) -> str:
    """Argo wants host[:port] for S3 endpoints, without the scheme."""
    return endpoint.split("://", 1)[-1].rstrip("/")
