"""A step's logs, outputs and uploaded files, read from the run's datastores.

Every object the page serves is found from records, never from a path the browser sent:
the browser names an output (or an uploaded file) and a relative path inside it; the path
must be clean (no ``..``, no leading ``/``) and must be listed in the output's completion
record (or in the step's files listing), so a download cannot leave the datastore.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from kubeline.exceptions import KubelineError
from kubeline.history.db import RunRecord, StepRecord
from kubeline.runtime.datastores import Datastores
from kubeline.runtime.layout import RECORD_SUFFIX, step_dir
from kubeline.server.web.errors import WebError, bad_request, not_found
from kubeline.stores import Store
from kubeline.stores.keys import key_problem

LOG_LIMIT = 1024 * 1024  # the page shows at most the last MiB of a stream
STREAMS = ("stdout", "stderr")


def clean_relative(path: str) -> str:
    """A relative POSIX path inside an output; raises 400 for anything that could escape."""
    problem = key_problem(path) if path else None
    if problem:
        raise bad_request(f"path {path!r}: {problem}",
                          "use a path relative to the output, as listed by the page")
    return path


def datastores(run: RunRecord) -> Datastores:
    """The run's datastores as its runner recorded them (configs, default, workspace)."""
    props = run.properties
    configs = props.get("datastores")
    default = props.get("default_datastore")
    if not isinstance(configs, dict) or not default:
        raise WebError(409, f"run '{run.id}' has no kubeline datastores recorded",
                       "only runs of kubeline pipelines keep logs and outputs in a datastore")
    return Datastores(configs, str(default), Path(str(props.get("workspace") or ".")))


def _tail(data: bytes) -> dict[str, Any]:
    truncated = len(data) > LOG_LIMIT
    text = data[-LOG_LIMIT:].decode("utf-8", errors="replace")
    return {"text": text, "truncated": truncated}


def _read_file_tail(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - LOG_LIMIT - 1))
            return handle.read()
    except OSError:
        return None


def step_log(run: RunRecord, step: StepRecord, stream: str) -> dict[str, Any]:
    """A step's stdout or stderr: the datastore copy once the step ended (what a cluster
    keeps too), the executor's live log file while it runs."""
    if stream not in STREAMS:
        raise not_found(f"stream '{stream}'", "use stdout or stderr")
    source = "none"
    data: bytes | None = None
    if step.status not in ("Running", "NotStarted"):
        with contextlib.suppress(KubelineError, OSError):
            store = datastores(run).default
            key = f"{step_dir(run.id, step.step_id)}/{stream}.txt"
            if store.exists(key):
                data, source = store.get_bytes(key), "datastore"
    if data is None:
        candidates = [step.stdout_location if stream == "stdout" else step.stderr_location]
        if step.log_dir:
            candidates.append(str(Path(step.log_dir) / f"main.{stream}"))
        for candidate in candidates:
            if candidate:
                data = _read_file_tail(Path(candidate))
                if data is not None:
                    source = "executor"
                    break
    return {"stream": stream, "source": source, **_tail(data or b"")}


def _record(store: Store, location: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(store.get_bytes(location + RECORD_SUFFIX))
    except (KubelineError, OSError, ValueError):
        return None
    return data


def step_outputs(run: RunRecord, step: StepRecord) -> list[dict[str, Any]]:
    """Each output with its files (from the completion record), for download links."""
    out: list[dict[str, Any]] = []
    stores = datastores(run) if step.outputs else None
    for name, summary in sorted(step.outputs.items()):
        files: list[dict[str, Any]] = []
        committed = False
        if stores is not None:
            with contextlib.suppress(KubelineError):
                record = _record(stores.get(str(summary.get("datastore"))),
                                 str(summary.get("location")))
                if record is not None:
                    committed = True
                    files = [{"path": str(f.get("path", "")), "size": f.get("size")}
                             for f in record.get("files") or []]
        out.append({"name": name, "datastore": summary.get("datastore"),
                    "kind": summary.get("kind"), "size": summary.get("size"),
                    "committed": committed, "files": files})
    return out


def _files_prefix(run: RunRecord, step: StepRecord) -> str:
    return f"{step_dir(run.id, step.step_id)}/files/"


def step_files(run: RunRecord, step: StepRecord) -> list[dict[str, Any]]:
    """Files the step uploaded (``Run.upload_file``, ``./outputs``)."""
    try:
        store = datastores(run).default
        prefix = _files_prefix(run, step)
        return [{"path": info.key[len(prefix):], "size": info.size}
                for info in store.list(prefix)]
    except (KubelineError, OSError):
        return []


def _download(store: Store, key: str, filename: str) -> tuple[Path, str]:
    """Fetch one object to a temp file; the caller serves and deletes it."""
    handle, temp = tempfile.mkstemp(prefix="kubeline-web-")
    os.close(handle)
    try:
        store.get_file(key, Path(temp))
    except KubelineError as exc:
        Path(temp).unlink(missing_ok=True)
        raise not_found(f"object '{filename}'", str(exc)) from exc
    return Path(temp), filename


def output_download(run: RunRecord, step: StepRecord, output: str, path: str
                    ) -> tuple[Path, str]:
    """A file of a committed output, if the completion record lists ``path``."""
    relative = clean_relative(path)
    summary = step.outputs.get(output)
    if summary is None:
        raise not_found(f"output '{output}' of step '{step.step_id}'")
    stores = datastores(run)
    try:
        store = stores.get(str(summary.get("datastore")))
    except KubelineError as exc:
        raise WebError(409, str(exc)) from exc
    location = str(summary.get("location"))
    record = _record(store, location)
    if record is None:
        raise not_found(f"committed output '{output}'", "the step did not commit it")
    listed = {str(f.get("path", "")) for f in record.get("files") or []}
    if relative not in listed:
        raise not_found(f"file '{relative}' in output '{output}'",
                        "download one of the files the page lists")
    key = location if relative == "" else f"{location}/{relative}"
    name = relative.rsplit("/", 1)[-1] if relative else output
    return _download(store, key, name)


def file_download(run: RunRecord, step: StepRecord, path: str) -> tuple[Path, str]:
    """A file the step uploaded, if the step's files listing has it."""
    relative = clean_relative(path)
    if not relative:
        raise bad_request("path is empty", "name one of the step's files")
    listed = {f["path"] for f in step_files(run, step)}
    if relative not in listed:
        raise not_found(f"file '{relative}' of step '{step.step_id}'",
                        "download one of the files the page lists")
    store = datastores(run).default
    return _download(store, _files_prefix(run, step) + relative, relative.rsplit("/", 1)[-1])
