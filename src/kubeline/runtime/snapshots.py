"""Source snapshots in the default datastore: published by the submitter, fetched by the shim.

The archive is content-addressed (``kubeline/snapshots/<hash>.tar.gz``), so publishing is a
conditional create: the first writer wins and everyone else finds it already there. Beside
it, ``<hash>.json`` lists every file with its sha256 (and the hash_paths files), so
``kubeline explain-reuse`` can name the files that differ between two snapshots.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from kubeline.exceptions import DatastoreError
from kubeline.runtime.layout import snapshot_key, snapshot_manifest_key
from kubeline.stores import Store


def publish(source_dir: Path, hash_paths: Sequence[str | Path], store: Store) -> str:
    """Upload the snapshot archive of ``source_dir`` unless present; return its hash.

    The hash is the one the compiler put in the step spec (same function, same hash_paths).
    """
    from kubeline.reuse.snapshot import fingerprint, write_archive

    snap = fingerprint(Path(source_dir), hash_paths, with_git=False)
    key = snapshot_key(snap.hash)
    manifest = snapshot_manifest_key(snap.hash)
    if not store.exists(manifest):  # the file list beside the archive (explain-reuse)
        body = json.dumps(snap.manifest(), sort_keys=True, indent=1).encode("utf-8")
        store.put_bytes(manifest, body, if_absent=True)
    if store.exists(key):
        return snap.hash
    with tempfile.TemporaryDirectory(prefix="kubeline-snapshot-") as tmp:
        archive = Path(tmp) / "snapshot.tar.gz"
        write_archive(Path(source_dir), snap, archive)
        store.put_file(archive, key, overwrite=False)
    return snap.hash


def fetch(store: Store, snapshot_hash: str, dest: Path, scratch: Path) -> None:
    """Download and extract a snapshot into ``dest`` (the step's working directory)."""
    from kubeline.reuse.snapshot import extract_archive

    key = snapshot_key(snapshot_hash)
    if not store.exists(key):
        raise DatastoreError(
            f"source snapshot {snapshot_hash[:12]} is not in datastore '{store.name}' at {key}",
            "submit the pipeline with kubeline (it publishes snapshots with "
            "kubeline.runtime.snapshots.publish) before running the workflow")
    archive = scratch / "snapshot.tar.gz"
    store.get_file(key, archive)
    try:
        extract_archive(archive, dest)
    finally:
        archive.unlink(missing_ok=True)
