"""The datastore driver contract shared by the DSL, the runtime shim and the local executor.

A driver addresses objects by POSIX-style keys relative to the datastore root
("a/b/c.txt"). Directories are key prefixes. Drivers stream files; nothing is read whole
into memory except small records (``get_bytes``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from kubeline.exceptions import DatastoreError


class ObjectInfo(Protocol):
    key: str
    size: int
    etag: str


class Store(Protocol):
    """One datastore: local directory, S3 bucket (+prefix) or Azure Blob container (+prefix)."""

    name: str

    def put_file(self, local_path: Path, key: str, *, overwrite: bool = True) -> bool:
        """Upload one file; return False (and write nothing) if it exists and not overwrite."""
        ...

    def get_file(self, key: str, local_path: Path) -> None:
        """Download one object to local_path, writing a temp file then renaming it."""
        ...

    def put_bytes(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        """Write a small object; with if_absent, create only if missing (atomic) and say so."""
        ...

    def get_bytes(self, key: str) -> bytes:
        """Read a small object; raises DatastoreError if absent."""
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects under prefix, sorted by key."""
        ...

    def delete(self, key: str) -> None: ...

    def etag(self, key: str) -> str | None:
        """A version identifier of the object (ETag or content hash); None if absent."""
        ...


def open_upload(store: str, local_path: Path, key: str) -> BinaryIO:
    """A local file opened for upload to ``key``; a one-line DatastoreError if it cannot be."""
    try:
        return open(local_path, "rb")
    except OSError as exc:
        raise DatastoreError(f"datastore '{store}': cannot read {str(local_path)!r} to upload "
                             f"as {key!r}: {exc.strerror}") from exc
