"""Where the shim reads and writes in a datastore: every key the runtime uses, in one place.

All keys live under ``kubeline/`` in the datastore they belong to. docs/runtime.md lists them
with the JSON records' fields. Keys are plain POSIX keys as the store drivers take them.
"""

from __future__ import annotations

ROOT = "kubeline"
RECORD_SUFFIX = ".complete.json"


def snapshot_key(snapshot_hash: str) -> str:
    """The source archive of a step (default datastore)."""
    return f"{ROOT}/snapshots/{snapshot_hash}.tar.gz"


def snapshot_manifest_key(snapshot_hash: str) -> str:
    """The file list (path -> sha256) of a snapshot, beside its archive (default datastore)."""
    return f"{ROOT}/snapshots/{snapshot_hash}.json"


def output_location(key: str, output: str) -> str:
    """An output's objects: the object itself (a file) or a prefix (a folder)."""
    return f"{ROOT}/outputs/{key}/{output}"


def completion_record(key: str, output: str) -> str:
    """Written last, only on success: an output without it does not exist for readers."""
    return f"{ROOT}/outputs/{key}/{output}{RECORD_SUFFIX}"


def cache_index(key: str) -> str:
    """The reuse index record of a step key (default datastore), written after every output."""
    return f"{ROOT}/cache/{key}.json"


def run_key_record(run_id: str, step_id: str) -> str:
    """A step's cache key in this run (default datastore); compact mode reads upstream keys here."""
    return f"{ROOT}/runs/{run_id}/keys/{step_id}"


def step_dir(run_id: str, step_id: str) -> str:
    """A step's logs, metrics, uploaded files and result (default datastore)."""
    return f"{ROOT}/runs/{run_id}/steps/{step_id}"
