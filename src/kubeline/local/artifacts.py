"""Artifacts: raw, the local artifact repository, S3 and Azure Blob; Argo's archive rules.

* Outputs are tar.gz by default (a file becomes one entry named after it, a directory is
  tarred under its own basename), ``archive: {none: {}}`` uploads as is.
* Inputs are unpacked when they are a gzip'd tar (auto-detected unless ``archive.none``);
  a single top-level entry becomes the destination path itself, otherwise the extracted
  directory does (Argo's executor unpack rule).
* A location with only a key (``s3: {key: ...}``) and outputs without any location live in
  the local artifact repository ``<state_dir>/datastores`` (where kubeline keeps its local
  datastores); Argo's default key is ``<workflow>/<pod>/<artifact>.tgz``.
* Everything is published by writing a temporary file and renaming it, so a killed node
  never leaves a complete-looking partial object.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from kubeline.datapaths import DatastorePathError, contained, safe_path
from kubeline.stores.dirs import get_dir, put_dir


class ArtifactError(Exception):
    """An artifact cannot be loaded or saved (the node errors with this message)."""


LOCATIONS = ("raw", "s3", "azure")


def has_location(art: dict[str, Any]) -> bool:
    return any(k in art for k in LOCATIONS)


def _secret(ref: dict[str, Any] | None) -> Any:
    if not ref:
        return None
    from kubeline.stores.config import SecretRef

    return SecretRef(name=str(ref["name"]), key=str(ref["key"]))


class Repository:
    """The local artifact repository plus access to remote stores."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # --- locations ----------------------------------------------------------------------

    def is_local(self, art: dict[str, Any]) -> bool:
        s3 = art.get("s3")
        return isinstance(s3, dict) and not s3.get("bucket") and "key" in s3

    def local_path(self, key: str) -> Path:
        """A key of the local repository as a path under it. A key that could leave the
        repository ('..', absolute, ...) is refused, not clamped, and so is a symbolic link
        in it that leads out of its first folder (a local datastore)."""
        try:
            parts = safe_path(key, "artifact key").split("/")
            if parts == [""]:
                raise ArtifactError(f"artifact key {key!r} names the whole repository")
            top = parts[:1] if len(parts) > 1 else []
            contained(self.root.joinpath(*top), parts[len(top):], "local artifact repository")
        except DatastorePathError as exc:
            raise ArtifactError(str(exc)) from None
        return self.root.joinpath(*parts)

    def describe(self, art: dict[str, Any]) -> str:
        """A URL-like location for reports: file://..., s3://bucket/key, azure://..."""
        if self.is_local(art):
            return self.local_path(str(art["s3"]["key"])).as_uri()
        if "s3" in art:
            return f"s3://{art['s3'].get('bucket')}/{art['s3'].get('key', '')}"
        if "azure" in art:
            return f"azure://{art['azure'].get('container')}/{art['azure'].get('blob', '')}"
        if "raw" in art:
            return "raw"
        return ""

    def _remote(self, art: dict[str, Any]) -> tuple[Any, str]:
        """(store, key) for a remote location, through kubeline.stores."""
        from kubeline.stores import open_store
        from kubeline.stores.config import AzureBlobDatastore, S3Datastore

        if "s3" in art:
            s3 = art["s3"]
            endpoint = s3.get("endpoint")
            cfg: Any = S3Datastore(
                bucket=str(s3["bucket"]),
                endpoint=str(endpoint) if endpoint else None,
                region=s3.get("region"),
                insecure=bool(s3.get("insecure", False)),
                access_key_secret=_secret(s3.get("accessKeySecret")),
                secret_key_secret=_secret(s3.get("secretKeySecret")),
            )
            key = str(s3.get("key", ""))
        else:
            az = art["azure"]
            endpoint = str(az.get("endpoint", ""))
            cfg = AzureBlobDatastore(
                account_name=_account_name(endpoint),
                container_name=str(az["container"]),
                endpoint=endpoint or None,
                account_key_secret=_secret(az.get("accountKeySecret")),
            )
            key = str(az.get("blob", ""))
        return open_store("artifact-repository", cfg, Path.cwd()), key

    # --- inputs -------------------------------------------------------------------------

    def load(self, art: dict[str, Any], dest: Path) -> None:
        """Place an input artifact at dest (a host path), unpacking tarballs."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        _remove(tmp)
        if "raw" in art:
            tmp.write_text(str(art["raw"].get("data", "")))
        elif self.is_local(art):
            src = self.local_path(str(art["s3"]["key"]))
            if src.is_dir():
                shutil.copytree(src, tmp)
            elif src.is_file():
                shutil.copyfile(src, tmp)
            else:
                raise ArtifactError(f"artifact '{art.get('name')}' not found at {src}")
        elif "s3" in art or "azure" in art:
            store, key = self._remote(art)
            if _is_dir_key(store, key):
                get_dir(store, key.rstrip("/"), tmp)
            else:
                store.get_file(key, tmp)
        else:
            raise ArtifactError(f"artifact '{art.get('name')}' has no location")
        archive = art.get("archive") or {}
        if "none" not in archive and tmp.is_file() and _is_tarball(tmp):
            _untar(tmp, dest)
            tmp.unlink()
        else:
            _remove(dest)
            os.replace(tmp, dest)
        mode = art.get("mode")
        if mode is not None:
            _chmod(dest, int(mode), bool(art.get("recurseMode")))

    # --- outputs ------------------------------------------------------------------------

    def save(self, art: dict[str, Any], src: Path, default_key: str, work: Path) -> dict[str, Any]:
        """Publish an output from src (a host path); returns the artifact with its location."""
        archive = art.get("archive") or {}
        plain = "none" in archive
        out = {k: v for k, v in art.items() if k not in ("archive", "optional", "from")}
        level = (
            int((archive.get("tar") or {}).get("compressionLevel", 6)) if "tar" in archive else 6
        )
        if "s3" in art or "azure" in art:
            located = dict(out)
        else:
            located = {**out, "s3": {"key": default_key}}
        if plain:
            payload = src
        else:
            work.mkdir(parents=True, exist_ok=True)
            payload = work / f".{art['name']}-{uuid.uuid4().hex}.tgz"
            _tar(src, payload, level)
        try:
            if self.is_local(located):
                self._publish_local(payload, self.local_path(str(located["s3"]["key"])))
            else:
                store, key = self._remote(located)
                if payload.is_dir():
                    put_dir(store, payload, key.rstrip("/"))
                else:
                    store.put_file(payload, key)
        finally:
            if payload != src:
                _remove(payload)
        return located

    @staticmethod
    def _publish_local(payload: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex}")
        if payload.is_dir():
            shutil.copytree(payload, tmp)
            old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
            if target.exists():
                os.replace(target, old)
            os.replace(tmp, target)
            _remove(old)
        else:
            shutil.copyfile(payload, tmp)
            os.replace(tmp, target)


def default_key(workflow_name: str, pod: str, art: dict[str, Any], container_path: str) -> str:
    """Argo's default repository key: ``<wf>/<pod>/<name>.tgz`` (or basename for none)."""
    if "none" in (art.get("archive") or {}):
        return f"{workflow_name}/{pod}/{os.path.basename(container_path.rstrip('/'))}"
    return f"{workflow_name}/{pod}/{art['name']}.tgz"


def _account_name(endpoint: str) -> str:
    if not endpoint:
        raise ArtifactError("azure artifacts need an endpoint")
    u = urlparse(endpoint)
    host = u.hostname or ""
    if host.endswith(".blob.core.windows.net"):
        return host.split(".", 1)[0]
    parts = [p for p in u.path.split("/") if p]
    if parts:
        return parts[0]
    raise ArtifactError(f"cannot tell the storage account from endpoint {endpoint}")


def _is_dir_key(store: Any, key: str) -> bool:
    if key.endswith("/"):
        return True
    if store.exists(key):
        return False
    return any(True for _ in store.list(key.rstrip("/") + "/"))


def _is_tarball(path: Path) -> bool:
    """Argo's auto-detection: a gzip stream whose content starts with a tar header."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            return tar.next() is not None
    except (tarfile.TarError, OSError, EOFError):
        return False


def _tar(src: Path, dest: Path, level: int) -> None:
    tmp = dest.with_name(dest.name + ".part")
    with tarfile.open(tmp, "w:gz", compresslevel=max(1, min(9, level)) if level else 1) as tar:
        tar.add(src, arcname=src.name)
    os.replace(tmp, dest)


def _untar(archive: Path, dest: Path) -> None:
    tmpdir = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.tmpdir-"))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            _safe_extract(tar, tmpdir)
        entries = list(tmpdir.iterdir())
        _remove(dest)
        if len(entries) == 1:
            os.replace(entries[0], dest)
        else:
            os.replace(tmpdir, dest)
    finally:
        _remove(tmpdir)


def _safe_extract(tar: tarfile.TarFile, dest: Path) -> None:
    """Extract rejecting entries that escape dest (zip-slip), on every supported Python."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, filter="data")
        return
    root = dest.resolve()
    for member in tar.getmembers():
        target = (dest / member.name).resolve()
        if root != target and root not in target.parents:
            raise ArtifactError(f"archive entry {member.name!r} escapes the destination")
        if member.issym() or member.islnk():
            link = (target.parent / member.linkname).resolve()
            if root != link and root not in link.parents:
                raise ArtifactError(f"archive link {member.name!r} escapes the destination")
    tar.extractall(dest)  # members checked above


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _chmod(path: Path, mode: int, recurse: bool) -> None:
    os.chmod(path, mode)
    if recurse and path.is_dir():
        for p in path.rglob("*"):
            os.chmod(p, mode)
