"""Shared helpers for tests/spark and tests/compute: copy an example, run kubeline for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def example(name: str, dest: Path) -> Path:
    """A fresh copy of examples/<name> without state from earlier runs."""
    target = dest / name
    shutil.copytree(EXAMPLES / name, target,
                    ignore=shutil.ignore_patterns(".kubeline", "out", "__pycache__"))
    return target


def kubeline(*args: str, cwd: Path, env: dict[str, str] | None = None,
             check: bool = True) -> subprocess.CompletedProcess[str]:
    """The real ``kubeline`` command in a subprocess."""
    done = subprocess.run([sys.executable, "-m", "kubeline.cli", *args], cwd=cwd, text=True,
                          capture_output=True, env={**os.environ, **(env or {})}, timeout=900,
                          check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"kubeline {' '.join(args)} exited {done.returncode}\n"
                             f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return done


def edit_config(folder: Path, **changes: object) -> None:
    """Change top-level sections of an example's kubeline.yaml (deep-merged one level)."""
    path = folder / "kubeline.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def documents(folder: Path, out: Path) -> list[dict[str, Any]]:
    """Compile the example in folder into out and return every object."""
    kubeline("compile", "pipeline.py", "-o", str(out), "--no-publish", cwd=folder)
    return [d for f in sorted(out.glob("*.yaml")) if f.name != "kustomization.yaml"
            for d in yaml.safe_load_all(f.read_text(encoding="utf-8")) if d]
