"""Imports go one way (pyproject.toml's import-linter contract, decision 0033): the source
keeps the contract, and a module importing a layer above it fails naming the import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT = ("import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(no_cache=True))")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter on the package under root/src, with root's pyproject.toml."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(root / "src"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    return subprocess.run([sys.executable, "-c", LINT], cwd=root, env=env, text=True,
                          capture_output=True, timeout=300, check=False)


def test_the_source_keeps_the_layers() -> None:
    done = _lint(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 1 kept, 0 broken." in done.stdout


def test_an_import_from_below_fails_naming_it(tmp_path: Path) -> None:
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(REPO / "src" / "kubeline", tmp_path / "src" / "kubeline",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "src" / "kubeline" / "runtime" / "shortcut.py").write_text(
        '"""A runtime module that reaches up into the user API."""\n\n'
        "from kubeline.dsl.workspace import Workspace\n\n__all__ = [\"Workspace\"]\n",
        encoding="utf-8")
    done = _lint(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "kubeline.runtime is not allowed to import kubeline.dsl" in done.stdout
    assert "kubeline.runtime.shortcut -> kubeline.dsl.workspace (l.3)" in done.stdout
