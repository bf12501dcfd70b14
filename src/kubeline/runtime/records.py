"""Output commit and read: objects first, the completion record last.

An output exists for readers only once ``<name>.complete.json`` is there; it lists every
file with its size and sha256, and readers check the bytes they fetch against it. The record
is a conditional create: when two runs with the same key race, the first record wins and
both runs hand downstream steps the winner's output.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubeline.exceptions import DatastoreError, KubelineError
from kubeline.runtime.layout import completion_record, output_location
from kubeline.stores import Store

RECORD_VERSION = 1
_CHUNK = 1 << 20


class UpstreamError(KubelineError):
    """An input from another step that was never committed or does not match its record."""


@dataclass(frozen=True)
class OutputMeta:
    """Who produced an output (stored in its record, for history and debugging)."""

    key: str
    run_id: str
    step_id: str


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _local_files(path: Path) -> list[tuple[str, Path]]:
    """(relative posix path, absolute path) of every file under a folder, sorted."""
    found: list[tuple[str, Path]] = []
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            full = Path(dirpath) / name
            if full.is_file():
                found.append((full.relative_to(path).as_posix(), full))
    return sorted(found)


def read_record(store: Store, key: str, output: str) -> dict[str, Any] | None:
    """The completion record of an output, or None when it was never committed."""
    record_key = completion_record(key, output)
    if not store.exists(record_key):
        return None
    try:
        data: dict[str, Any] = json.loads(store.get_bytes(record_key))
    except ValueError as exc:
        raise UpstreamError(f"completion record {store.name}:{record_key} is not JSON",
                            "delete it and rerun the producing step") from exc
    return data


def commit(store: Store, meta: OutputMeta, output: str, local: Path) -> dict[str, Any]:
    """Upload an output (a file or a folder) and then its completion record; return the
    record in force (ours, or an earlier commit of the same key)."""
    existing = read_record(store, meta.key, output)
    if existing is not None:
        return existing
    location = output_location(meta.key, output)
    files: list[dict[str, Any]] = []
    if local.is_file():
        kind = "file"
        files.append({"path": "", "size": local.stat().st_size, "sha256": sha256_file(local)})
        store.put_file(local, location)
    else:
        kind = "dir"
        if not local.exists():
            print(f"kubeline: output '{output}' was not written by the step; committing it "
                  "as an empty folder", file=sys.stderr)
        for rel, full in _local_files(local) if local.is_dir() else []:
            files.append({"path": rel, "size": full.stat().st_size, "sha256": sha256_file(full)})
            store.put_file(full, f"{location}/{rel}")
    record = {
        "version": RECORD_VERSION, "output": output, "kind": kind, "key": meta.key,
        "datastore": store.name, "location": location, "files": files,
        "size": sum(f["size"] for f in files), "run_id": meta.run_id, "step_id": meta.step_id,
    }
    body = json.dumps(record, sort_keys=True, indent=1).encode("utf-8")
    if store.put_bytes(completion_record(meta.key, output), body, if_absent=True):
        return record
    won = read_record(store, meta.key, output)
    if won is None:
        raise DatastoreError(f"datastore '{store.name}': completion record of output "
                             f"'{output}' refused and then not found")
    return won


def fetch(store: Store, key: str, output: str, producer: str, dest: Path) -> dict[str, Any]:
    """Materialise a committed output at ``dest`` (a file or a folder) and verify it."""
    record = read_record(store, key, output)
    if record is None:
        raise UpstreamError(
            f"upstream output not committed: output '{output}' of step '{producer}' (key "
            f"{key[:12]}) has no completion record at {store.name}:"
            f"{completion_record(key, output)}",
            "the producing step did not finish successfully; rerun it")
    location = record["location"]
    if record["kind"] == "file":
        entry = record["files"][0]
        _get_checked(store, location, dest, entry, output, producer)
        return record
    dest.mkdir(parents=True, exist_ok=True)
    for entry in record["files"]:
        target = dest.joinpath(*entry["path"].split("/"))
        _get_checked(store, f"{location}/{entry['path']}", target, entry, output, producer)
    return record


def _get_checked(store: Store, key: str, target: Path, entry: dict[str, Any], output: str,
                 producer: str) -> None:
    store.get_file(key, target)
    if sha256_file(target) != entry["sha256"]:
        raise UpstreamError(
            f"output '{output}' of step '{producer}': {key} does not match its completion "
            "record (changed after commit)", "rerun the producing step with allow_reuse=False")
