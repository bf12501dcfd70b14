"""Argo Workflows' Go module at the version kubeline pins (its examples folder, read-only).

The version is the one ``kubeline.compiler.argo_lint`` and scripts/build-argo.sh pin. The
module comes from the Go module cache, downloaded there by ``go mod download`` (the Go module
proxy) when it is absent; anything that stops that is an error, never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from kubeline.compiler.argo_lint import ARGO_VERSION

ARGO_MODULE = "github.com/argoproj/argo-workflows/v4"


class ArgoModuleError(Exception):
    """The pinned Argo module could not be found or downloaded."""


def _go() -> str:
    found = shutil.which("go") or ("/usr/local/go/bin/go"
                                   if os.access("/usr/local/go/bin/go", os.X_OK) else None)
    if found is None:
        raise ArgoModuleError("no Go toolchain (go) to download Argo's module with; install Go")
    return found


def argo_module_dir() -> Path:
    """The module's folder in the Go module cache (downloaded first if needed)."""
    with tempfile.TemporaryDirectory() as empty:  # no surrounding go.mod/go.work applies
        env = {**os.environ, "GOWORK": "off", "GOFLAGS": "-mod=mod"}
        done = subprocess.run(
            [_go(), "mod", "download", "-json", f"{ARGO_MODULE}@{ARGO_VERSION}"],
            cwd=empty, env=env, capture_output=True, text=True, timeout=600, check=False,
        )
    try:
        info = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        info = {}
    folder = Path(str(info.get("Dir") or ""))
    if done.returncode != 0 or not info.get("Dir") or not folder.is_dir():
        why = info.get("Error") or done.stderr.strip() or done.stdout.strip()
        raise ArgoModuleError(f"go mod download {ARGO_MODULE}@{ARGO_VERSION} failed: {why}")
    return folder


def argo_examples_dir() -> Path:
    return argo_module_dir() / "examples"
