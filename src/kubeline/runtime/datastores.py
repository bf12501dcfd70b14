"""The pipeline's datastores, opened on first use from pipeline.json's configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubeline.datapaths import contained, safe_path
from kubeline.exceptions import DatastoreError
from kubeline.stores import Store, local_root, open_store
from kubeline.stores.config import (
    AzureBlobDatastore,
    LocalDatastore,
    S3Datastore,
    datastore_from_dict,
)


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


class Datastores:
    """Store drivers by name; local datastores' relative paths resolve against ``workspace``."""

    def __init__(self, configs: dict[str, dict[str, Any]], default: str, workspace: Path) -> None:
        self._raw = configs
        self.default_name = default
        self.workspace = workspace
        self._open: dict[str, Store] = {}

    def config(self, name: str) -> LocalDatastore | S3Datastore | AzureBlobDatastore:
        raw = self._raw.get(name)
        if raw is None:
            known = ", ".join(sorted(self._raw)) or "none"
            raise DatastoreError(f"datastore '{name}' is not in the pipeline spec (known: "
                                 f"{known})", "register it in kubeline.yaml and recompile")
        return datastore_from_dict(name, raw)

    def get(self, name: str) -> Store:
        if name not in self._open:
            self._open[name] = open_store(name, self.config(name), self.workspace)
        return self._open[name]

    @property
    def default(self) -> Store:
        return self.get(self.default_name)

    def uri(self, name: str, path: str) -> str:
        """Direct mode: the datastore address a script opens itself (s3://, https://, a path),
        never one outside the datastore."""
        config = self.config(name)
        path = safe_path(path, f"direct input on datastore '{name}': path", store=name)
        if isinstance(config, S3Datastore):
            return f"s3://{config.bucket}/{_join(config.prefix, path)}"
        if isinstance(config, AzureBlobDatastore):
            base = (config.endpoint or f"https://{config.account_name}.blob.core.windows.net")
            return f"{base.rstrip('/')}/{config.container_name}/{_join(config.prefix, path)}"
        root = local_root(config, self.workspace).absolute()
        return str(contained(root, path.split("/") if path else [], f"datastore '{name}'"))
