"""Content digests of files, remembered per tree so an unchanged file is never read twice.

A file's sha256 is trusted from the cache while its (size, mtime_ns, inode) are unchanged,
the same bet git's index makes. Two guards keep the bet safe:

* an entry whose mtime is within ``RACY_NS`` of the scan start is not stored: a write in the
  same timestamp tick as our read could otherwise go unseen (git's "racily clean" case);
* the cache is one JSON file written to a temp file then renamed, so a crash or a concurrent
  writer leaves either the old or the new cache, never half of one. An unreadable cache is
  treated as empty.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path

CACHE_VERSION = 1
RACY_NS = 2_000_000_000  # 2 s: covers the coarsest common mtime resolution (FAT)
_CHUNK = 1 << 20
_log = logging.getLogger(__name__)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 hex of a file's bytes, read in 1 MiB chunks (no whole-file reads)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def cache_file_for(cache_dir: Path, tree: Path) -> Path:
    """One cache file per tree, named by the sha256 of the tree's absolute path."""
    key = hashlib.sha256(str(tree.absolute()).encode("utf-8", "surrogateescape")).hexdigest()
    return cache_dir / f"{key}.json"


class FingerprintCache:
    """(key, size, mtime_ns, inode) -> sha256, loaded from and saved to one JSON file.

    ``path=None`` disables the cache: every digest reads the file. Keys are the paths the
    caller chooses (relative for snapshot files, absolute for hash_paths outside the tree).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._started_ns = time.time_ns()
        self._old: dict[str, list[int | str]] = self._load() if path is not None else {}
        self._new: dict[str, list[int | str]] = {}

    def _load(self) -> dict[str, list[int | str]]:
        assert self.path is not None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def digest(self, key: str, path: str, st: os.stat_result) -> str:
        """The sha256 of ``path`` whose stat is ``st``; read only when the cache cannot say."""
        stamp: list[int | str] = [st.st_size, st.st_mtime_ns, st.st_ino]
        old = self._old.get(key)
        if old is not None and len(old) == 4 and old[:3] == stamp and isinstance(old[3], str):
            sha = old[3]
        else:
            sha = file_sha256(path)
        if st.st_mtime_ns < self._started_ns - RACY_NS:
            self._new[key] = [*stamp, sha]
        return sha

    def save(self) -> None:
        """Write the entries seen in this scan (dropping vanished files), if anything changed."""
        if self.path is None or self._new == self._old:
            return
        body = json.dumps({"version": CACHE_VERSION, "entries": self._new}, sort_keys=True)
        tmp: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".fp.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
            os.replace(tmp, self.path)
        except OSError as exc:  # a cache is an optimisation: never fail a fingerprint for it
            _log.warning("fingerprint cache %s not written: %s", self.path, exc)
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
