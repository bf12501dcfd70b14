"""A datastore that is a folder on this machine (the local executor's default store).

Keys cannot leave the folder: besides the key check every driver makes, a symbolic link in
the folder that leads outside it is never followed (``kubeline.datapaths.contained``):
reading, writing or deleting through one is refused, and listings leave such links out.

Every write goes to a temp file in the destination folder and is then renamed or hard-linked
into place, so readers never see half-written objects, and ``if_absent`` creates are atomic
across processes: ``os.link`` fails if the name exists, unlike a rename.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import stat as stat_mode
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from kubeline.datapaths import DatastorePathError, contained
from kubeline.exceptions import DatastoreError
from kubeline.stores.atomic import TEMP_PREFIX, atomic_download
from kubeline.stores.base import open_upload
from kubeline.stores.dirs import DirTransfers
from kubeline.stores.keys import check_key, check_prefix
from kubeline.stores.objects import StoreObject

log = logging.getLogger(__name__)

_CHUNK = 1024 * 1024


class LocalStore(DirTransfers):
    """A datastore rooted at a local folder; keys map to relative file paths."""

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = Path(root)
        self._etags: dict[str, tuple[int, int, int, str]] = {}
        self._plain_dirs: set[str] = set()  # folders found not to be links (see _path)

    def __repr__(self) -> str:
        return f"LocalStore(name={self.name!r}, root={str(self.root)!r})"

    def put_file(self, local_path: Path, key: str, *, overwrite: bool = True) -> bool:
        """Copy a file in (streamed); with overwrite=False an existing key is left untouched."""
        dest = self._path(key)
        if not overwrite and dest.exists():
            return False
        with open_upload(self.name, local_path, key) as source:
            return self._write(
                key,
                dest,
                lambda out: shutil.copyfileobj(source, out, _CHUNK),
                exclusive=not overwrite,
            )

    def get_file(self, key: str, local_path: Path) -> None:
        """Copy an object out through a temp file beside local_path, then rename it."""
        src = self._path(key)
        try:
            source = open(src, "rb")  # noqa: SIM115 - closed by the with below
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise self._missing(key) from exc
        with source:
            atomic_download(Path(local_path), lambda out: shutil.copyfileobj(source, out, _CHUNK))

    def put_bytes(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        """Write a small object; with if_absent the create is atomic (hard link, not rename)."""
        dest = self._path(key)
        if if_absent and dest.exists():
            return False
        return self._write(key, dest, lambda out: out.write(data), exclusive=if_absent)

    def get_bytes(self, key: str) -> bytes:
        """Read a small object whole."""
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise self._missing(key) from exc

    def exists(self, key: str) -> bool:
        """True if key names a file (folders are prefixes, not objects)."""
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[StoreObject]:
        """Files whose key starts with prefix (a plain string prefix, as in S3), sorted."""
        check_prefix(self.name, prefix)
        folder = prefix.split("/")[:-1]
        try:
            start = contained(self.root, folder, f"datastore '{self.name}'")
        except DatastorePathError as exc:
            log.warning("%s", exc)
            return
        keys: list[str] = []
        for dirpath, _dirnames, filenames in os.walk(start):  # never descends into links
            base = Path(dirpath)
            for filename in filenames:
                if filename.startswith(TEMP_PREFIX):
                    continue
                key = (base / filename).relative_to(self.root).as_posix()
                if key.startswith(prefix) and self._listable(key, base / filename):
                    keys.append(key)
        for key in sorted(keys):
            stat = self._stat(key)
            if stat is not None:  # a concurrent delete may have removed it
                yield StoreObject(key=key, size=stat.st_size, etag=self._etag(key, stat))

    def delete(self, key: str) -> None:
        """Remove an object (no error if absent) and any folders it leaves empty."""
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self._etags.pop(key, None)
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def etag(self, key: str) -> str | None:
        """sha256 of the content, cached while size, mtime and inode stay the same."""
        stat = self._stat(key)
        return None if stat is None else self._etag(key, stat)

    def _path(self, key: str) -> Path:
        """The file of a key; refused when a symbolic link would lead it out of the folder."""
        return contained(self.root, check_key(self.name, key).split("/"),
                         f"datastore '{self.name}'", self._plain_dirs)

    def _listable(self, key: str, path: Path) -> bool:
        """A regular file, or a link to one inside the folder; a link leading out is left
        out of listings with a warning (reading it by key is refused)."""
        if not path.is_symlink():
            return path.is_file()
        try:
            return self._path(key).is_file()
        except DatastorePathError as exc:
            log.warning("%s", exc)
            return False

    def _stat(self, key: str) -> os.stat_result | None:
        try:
            stat = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return None if stat_mode.S_ISDIR(stat.st_mode) else stat

    def _etag(self, key: str, stat: os.stat_result) -> str:
        cached = self._etags.get(key)
        if cached and cached[:3] == (stat.st_size, stat.st_mtime_ns, stat.st_ino):
            return cached[3]
        digest = hashlib.sha256()
        with open(self._path(key), "rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
        etag = digest.hexdigest()
        self._etags[key] = (stat.st_size, stat.st_mtime_ns, stat.st_ino, etag)
        return etag

    def _write(
        self, key: str, dest: Path, fill: Callable[[BinaryIO], object], *, exclusive: bool
    ) -> bool:
        """Fill a temp file beside dest, then link (exclusive) or rename it into place."""
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=dest.parent)
        except OSError as exc:
            raise self._write_error(key, exc) from exc
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                fill(out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            if exclusive:
                try:
                    os.link(tmp, dest)
                except FileExistsError:
                    return False
            else:
                os.replace(tmp, dest)
        except OSError as exc:
            raise self._write_error(key, exc) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        log.debug("datastore %s: wrote %s", self.name, key)
        return True

    def _missing(self, key: str) -> DatastoreError:
        return DatastoreError(
            f"datastore '{self.name}': object {key!r} not found in {str(self.root)!r}"
        )

    def _write_error(self, key: str, exc: OSError) -> DatastoreError:
        return DatastoreError(
            f"datastore '{self.name}': cannot write {key!r} under {str(self.root)!r}: "
            f"{exc.strerror or exc}"
        )
