"""What a step leaves behind for Argo and the run history.

Datastore (default): ``kubeline/runs/<run>/steps/<step>/`` with ``stdout.txt``,
``stderr.txt``, ``metrics.json``, ``files/...`` and ``result.json`` (written last).
Container: ``<out dir>/key`` and ``<out dir>/metrics.json`` (Argo output parameters).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kubeline._json import compact
from kubeline.exceptions import KubelineError
from kubeline.runtime.layout import step_dir
from kubeline.stores import Store, put_dir

RESULT_VERSION = 1
to_json = compact  # the step result's JSON spelling: kubeline's one canonical form


def write_local(path: Path, text: str) -> None:
    """Write a small file atomically (Argo may read it while we are still running)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise KubelineError(f"cannot write {path}: {exc.strerror or exc}",
                            "mount a writable volume there or set KUBELINE_OUT_DIR") from exc


def output_summary(record: Mapping[str, Any]) -> dict[str, Any]:
    """An output as the run history shows it: where it is and what it holds."""
    return {"datastore": record["datastore"], "location": record["location"],
            "kind": record["kind"], "size": record["size"], "files": len(record["files"]),
            "run_id": record["run_id"], "step_id": record["step_id"]}


def publish(store: Store, run_id: str, step_id: str, result: Mapping[str, Any],
            workdir: Path | None) -> None:
    """Upload logs, metrics and files, then the result record (last, so a reader that finds
    result.json finds everything it names)."""
    base = step_dir(run_id, step_id)
    if workdir is not None:
        for name in ("stdout.txt", "stderr.txt"):
            log = workdir / "logs" / name
            if log.is_file():
                store.put_file(log, f"{base}/{name}")
        uploads = workdir / "uploads"
        if (uploads / "step").is_dir():
            put_dir(store, uploads / "step", f"{base}/files")
        if (uploads / "parent").is_dir():
            put_dir(store, uploads / "parent", f"kubeline/runs/{run_id}/files")
        outputs = workdir / "src" / "outputs"  # AML uploads ./outputs with the run
        if outputs.is_dir():
            put_dir(store, outputs, f"{base}/files/outputs")
    store.put_bytes(f"{base}/metrics.json", to_json(result.get("metrics", {})).encode())
    store.put_bytes(f"{base}/result.json",
                    json.dumps(dict(result), sort_keys=True, indent=1).encode("utf-8"))
