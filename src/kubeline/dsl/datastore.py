"""Datastore: a named storage location of the workspace (local folder, S3, Azure Blob)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.datapaths import DatastorePathError, path_problem, safe_path
from kubeline.dsl.unsupported import refused_call
from kubeline.exceptions import DatastoreError, DatastoreNotFoundError
from kubeline.stores.config import (
    AzureBlobDatastore,
    DatastoreConfig,
    LocalDatastore,
    S3Datastore,
    SecretRef,
    secret_env_name,
)
from kubeline.stores.keys import check_key

if TYPE_CHECKING:
    from kubeline.dsl.data import DataReference
    from kubeline.dsl.workspace import Workspace
    from kubeline.stores.base import Store


@aml_surface(surface("Datastore"))
class Datastore:
    """A registered datastore, looked up by name (``Datastore(ws, "workspaceblobstore")``)."""

    def __init__(self, workspace: Workspace, name: str | None = None) -> None:
        name = name or workspace.config.default_datastore
        if name not in workspace.config.datastores:
            known = ", ".join(sorted(workspace.config.datastores))
            raise DatastoreNotFoundError(
                f"datastore '{name}' is not registered in workspace '{workspace.name}'",
                f"known datastores: {known}; register it with Datastore.register_*",
            )
        self.workspace = workspace
        self.name = name

    @staticmethod
    def get(workspace: Workspace, datastore_name: str) -> Datastore:
        return Datastore(workspace, datastore_name)

    @staticmethod
    def get_default(workspace: Workspace) -> Datastore:
        return workspace.get_default_datastore()

    @property
    def config(self) -> DatastoreConfig:
        return self.workspace.config.datastores[self.name]

    @property
    def datastore_type(self) -> str:
        return {"local": "LocalFileSystem", "s3": "S3", "azureblob": "AzureBlob"}[self.config.kind]

    # -- registration ---------------------------------------------------------------------------
    @staticmethod
    def register_local(workspace: Workspace, datastore_name: str, path: str,
                       overwrite: bool = False) -> Datastore:
        """A folder on this machine (kubeline addition; relative to the workspace folder)."""
        return _register(workspace, datastore_name, LocalDatastore(path=path), overwrite)

    @staticmethod
    def register_s3(
        workspace: Workspace,
        datastore_name: str,
        bucket_name: str,
        prefix: str = "",
        endpoint: str | None = None,
        region: str | None = None,
        insecure: bool = False,
        credentials_secret: str | None = None,
        overwrite: bool = False,
    ) -> Datastore:
        """An S3 bucket (kubeline addition). Keys come from Secret ``credentials_secret``
        (keys ``accessKey`` / ``secretKey``; locally from the environment), else AWS_* env."""
        access = secret = None
        if credentials_secret:
            access = SecretRef(name=credentials_secret, key="accessKey")
            secret = SecretRef(name=credentials_secret, key="secretKey")
        config = S3Datastore(bucket=bucket_name, prefix=prefix, endpoint=endpoint, region=region,
                             insecure=insecure, access_key_secret=access, secret_key_secret=secret)
        return _register(workspace, datastore_name, config, overwrite)

    @staticmethod
    def register_azure_blob_container(
        workspace: Workspace,
        datastore_name: str,
        container_name: str,
        account_name: str,
        sas_token: str | None = None,
        account_key: str | None = None,
        protocol: str | None = None,
        endpoint: str | None = None,
        overwrite: bool = False,
        create_if_not_exists: bool = False,
        **_aml_only: Any,
    ) -> Datastore:
        """The SDK's call. A key given in code is used by this process only and never saved:
        kubeline.yaml keeps a Secret reference (see docs/workspace.md)."""
        secret_name = _credentials_secret(datastore_name)
        key_ref = SecretRef(name=secret_name, key="accountKey")
        sas_ref = SecretRef(name=secret_name, key="sasToken")
        for ref, value in ((key_ref, account_key), (sas_ref, sas_token)):
            if value:
                os.environ.setdefault(secret_env_name(ref), value)
                warnings.warn(
                    f"datastore '{datastore_name}': the credential passed in code is used by this "
                    f"process only; set {secret_env_name(ref)} or Secret '{secret_name}' instead",
                    stacklevel=2,
                )
        endpoint = _blob_endpoint(workspace, datastore_name, account_name, container_name,
                                  endpoint, protocol)
        config = AzureBlobDatastore(
            account_name=account_name,
            container_name=container_name,
            endpoint=endpoint,
            account_key_secret=key_ref if account_key or not sas_token else None,
            sas_token_secret=sas_ref if sas_token else None,
        )
        store = _register(workspace, datastore_name, config, overwrite)
        if create_if_not_exists:
            store._store().exists("")
        return store

    @staticmethod
    def register_azure_data_lake_gen2(
        workspace: Workspace,
        datastore_name: str,
        filesystem: str,
        account_name: str,
        tenant_id: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        resource_url: str | None = None,
        authority_url: str | None = None,
        protocol: str | None = None,
        endpoint: str | None = None,
        overwrite: bool = False,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        grant_workspace_access: bool = False,
    ) -> Datastore:
        """An ADLS Gen2 filesystem, served through the Blob API it also speaks (the filesystem
        is the container). A service principal cannot sign in here (no Azure AD): its
        tenant/client/secret are not used nor saved, and the account key comes from Secret
        '<name>-credentials' key accountKey (locally its environment variable), as for a blob
        container; kubeline.yaml's datastores.<name>.endpoint says where the account is served."""
        secret_name = _credentials_secret(datastore_name)
        key_ref = SecretRef(name=secret_name, key="accountKey")
        if client_secret or client_id or tenant_id:
            warnings.warn(
                f"datastore '{datastore_name}': service principal sign-in is not available in "
                f"kubeline (no Azure AD); the account key is read from {secret_env_name(key_ref)} "
                f"or Secret '{secret_name}' (key accountKey); the principal is ignored",
                stacklevel=2,
            )
        endpoint = _blob_endpoint(workspace, datastore_name, account_name, filesystem,
                                  endpoint, protocol)
        config = AzureBlobDatastore(account_name=account_name, container_name=filesystem,
                                    endpoint=endpoint, account_key_secret=key_ref)
        return _register(workspace, datastore_name, config, overwrite)

    def set_as_default(self) -> None:
        """Make this the workspace's default datastore (kept in kubeline.yaml)."""
        self.workspace.set_default_datastore(self.name)

    def unregister(self) -> None:
        """Remove the datastore from kubeline.yaml; its data is left where it is."""
        if self.name == self.workspace.config.default_datastore:
            raise DatastoreError(f"datastore '{self.name}' is the workspace's default",
                                 "make another one the default first (set_as_default)")
        stores = dict(self.workspace.config.datastores)
        stores.pop(self.name, None)
        self.workspace._update(datastores=stores)

    # -- Azure-only kinds: refused where they are registered ---------------------------------
    register_azure_data_lake = staticmethod(refused_call(
        "Datastore.register_azure_data_lake", "AzureDataLakeDatastore"))
    register_azure_sql_database = staticmethod(refused_call(
        "Datastore.register_azure_sql_database", "AzureSqlDatabaseDatastore"))
    register_azure_postgre_sql = staticmethod(refused_call(
        "Datastore.register_azure_postgre_sql", "AzurePostgreSqlDatastore"))
    register_azure_my_sql = staticmethod(refused_call(
        "Datastore.register_azure_my_sql", "AzureMySqlDatastore"))
    register_dbfs = staticmethod(refused_call("Datastore.register_dbfs", "DBFSDatastore"))
    register_azure_file_share = staticmethod(refused_call(
        "Datastore.register_azure_file_share", "AzureFileDatastore"))

    # -- data movement ----------------------------------------------------------------------------
    def _store(self) -> Store:
        from kubeline.stores import open_store

        return open_store(self.name, self.config, self.workspace.root)

    def upload_files(self, files: Iterable[str], relative_root: str | None = None,
                     target_path: str | None = None, overwrite: bool = False,
                     show_progress: bool = True) -> DataReference:
        """Upload files; each lands at target_path/<path relative to relative_root or its name>.

        Every file and its key are checked first, so a bad one uploads nothing."""
        target = safe_path(target_path, "upload_files: target_path", store=self.name)
        planned: list[tuple[str, str]] = []
        for file in files:
            local = Path(file)
            if not local.is_file():
                raise DatastoreError(f"upload_files: '{file}' is not a file")
            rel = (os.path.relpath(local, relative_root) if relative_root else local.name)
            rel = Path(rel).as_posix()
            problem = path_problem(rel)
            if problem:
                raise DatastorePathError(
                    f"upload_files: '{file}' would be stored as {rel!r}, which {problem} "
                    "(it could leave target_path); refused",
                    "pass files inside relative_root, or another relative_root")
            planned.append((file, _join(target, rel)))
        store = self._store()
        for file, key in planned:
            if store.put_file(Path(file), key, overwrite=overwrite) and show_progress:
                print(f"Uploaded {file} to {self.name}/{key}")
        return self.path(target)

    def upload(self, src_dir: str, target_path: str | None = None, overwrite: bool = False,
               show_progress: bool = True) -> DataReference:
        """Upload a folder recursively under target_path."""
        target = safe_path(target_path, "upload: target_path", store=self.name)
        root = Path(src_dir)
        if not root.is_dir():
            raise DatastoreError(f"upload: '{src_dir}' is not a folder")
        files = sorted(p for p in root.rglob("*") if p.is_file())
        return self.upload_files([str(p) for p in files], relative_root=str(root),
                                 target_path=target, overwrite=overwrite,
                                 show_progress=show_progress)

    def download(self, target_path: str, prefix: str | None = None, overwrite: bool = False,
                 show_progress: bool = True) -> int:
        """Download objects under prefix into target_path; returns how many were written.

        Every key is checked before anything is written: a stored key that would land
        outside target_path (S3 allows '..' in keys) refuses the whole download."""
        where = safe_path(prefix, "download: prefix", store=self.name, keep_trailing_slash=True)
        store = self._store()
        found = list(store.list(where))
        for info in found:
            check_key(self.name, info.key)
        count = 0
        for info in found:
            dest = Path(target_path).joinpath(*info.key.split("/"))
            if dest.exists() and not overwrite:
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            store.get_file(info.key, dest)
            count += 1
            if show_progress:
                print(f"Downloaded {self.name}/{info.key} to {dest}")
        return count

    def path(self, path: str | None = None, data_reference_name: str | None = None
             ) -> DataReference:
        from kubeline.dsl.data import DataReference

        return DataReference(self, data_reference_name=data_reference_name, path_on_datastore=path)

    def as_mount(self) -> DataReference:
        return self.path("").as_mount()

    def as_download(self, path_on_compute: str | None = None) -> DataReference:
        return self.path("").as_download(path_on_compute)

    def __repr__(self) -> str:
        return f"Datastore(name={self.name!r}, type={self.datastore_type!r})"


def configured_endpoint(workspace: Workspace, name: str, account_name: str,
                        container_name: str) -> str | None:
    """The endpoint kubeline.yaml gives this datastore, when code re-registers the same
    account and container without one: kubeline.yaml says where the account is served on
    this installation (an emulator, a sovereign cloud) without editing the code."""
    existing = workspace.config.datastores.get(name)
    if isinstance(existing, AzureBlobDatastore) and existing.account_name == account_name \
            and existing.container_name == container_name:
        return existing.endpoint
    return None


def _register(workspace: Workspace, name: str, config: DatastoreConfig,
              overwrite: bool) -> Datastore:
    existing = workspace.config.datastores.get(name)
    if existing is not None and existing != config and not overwrite:
        raise DatastoreError(
            f"datastore '{name}' is already registered with other settings",
            "pass overwrite=True to replace it",
        )
    stores = dict(workspace.config.datastores)
    stores[name] = config
    workspace._update(datastores=stores)
    return Datastore(workspace, name)


def _join(prefix: str, rel: str) -> str:
    return f"{prefix}/{rel}" if prefix else rel


def _credentials_secret(datastore_name: str) -> str:
    """The Kubernetes Secret an Azure datastore's key or SAS token is read from."""
    return f"{datastore_name}-credentials".replace("_", "-").lower()


def _blob_endpoint(workspace: Workspace, datastore_name: str, account_name: str,
                   container: str, endpoint: str | None, protocol: str | None) -> str | None:
    """The SDK's endpoint suffix ("core.windows.net") made a URL, else kubeline.yaml's."""
    if endpoint and "://" not in endpoint:
        return f"{protocol or 'https'}://{account_name}.blob.{endpoint}"
    return endpoint or configured_endpoint(workspace, datastore_name, account_name, container)
