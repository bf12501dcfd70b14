"""Folder transfers built only on the ``Store`` contract, so every driver gets them alike."""

from __future__ import annotations

import os
from pathlib import Path

from kubeline.exceptions import DatastoreError
from kubeline.stores.base import Store
from kubeline.stores.keys import check_key, dir_prefix


def put_dir(store: Store, local_dir: Path, prefix: str, *, overwrite: bool = True) -> list[str]:
    """Upload every file under local_dir to prefix/<relative path>; return the keys written.

    Files are streamed one at a time. Symlinks to files are followed; empty folders are not
    represented (object stores have no folders).
    """
    local_dir = Path(local_dir)
    if not local_dir.is_dir():
        raise DatastoreError(
            f"datastore '{store.name}': cannot upload {str(local_dir)!r}: not a folder"
        )
    keys: list[str] = []
    for rel in sorted(_relative_files(local_dir)):
        key = dir_prefix(prefix) + rel
        if store.put_file(local_dir / rel, key, overwrite=overwrite):
            keys.append(key)
    return keys


def get_dir(store: Store, prefix: str, local_dir: Path) -> list[Path]:
    """Download every object under prefix/ into local_dir, keeping relative paths.

    Returns the written paths in key order (empty when nothing is under prefix: an empty
    output folder is legitimate, so the caller decides whether that is an error). Keys that
    would land outside local_dir (S3 allows '..' in keys) raise DatastoreError before any
    file is written.
    """
    folder = dir_prefix(prefix)
    local_dir = Path(local_dir)
    planned = [(obj.key, check_key(store.name, obj.key[len(folder) :]))
               for obj in store.list(folder)]  # every key checked before anything is written
    written: list[Path] = []
    for key, rel in planned:
        target = local_dir.joinpath(*rel.split("/"))
        store.get_file(key, target)
        written.append(target)
    return written


def _relative_files(local_dir: Path) -> list[str]:
    found: list[str] = []
    for dirpath, _dirnames, filenames in os.walk(local_dir, followlinks=False):
        base = Path(dirpath)
        for filename in filenames:
            path = base / filename
            if path.is_file():
                found.append(path.relative_to(local_dir).as_posix())
    return found


class DirTransfers:
    """Mixin giving a driver ``put_dir``/``get_dir`` methods over its own Store methods."""

    def put_dir(self: Store, local_dir: Path, prefix: str, *, overwrite: bool = True) -> list[str]:
        """Upload a folder tree under prefix (see ``dirs.put_dir``)."""
        return put_dir(self, local_dir, prefix, overwrite=overwrite)

    def get_dir(self: Store, prefix: str, local_dir: Path) -> list[Path]:
        """Download everything under prefix into local_dir (see ``dirs.get_dir``)."""
        return get_dir(self, prefix, local_dir)
