"""Shared test setup: real servers on loopback (tests/servers.py) and ../shared lookup."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["tests.servers"]

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()


def require_shared(*parts: str) -> Path:
    """A path under ../shared; fails under CI when absent, else skips with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"{path} is missing: these tests read Argo's files from ../shared"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def argo_bin() -> Path:
    """Argo's CLI, found the way kubeline finds it; built by `make install-test`, never here."""
    from kubeline.compiler.argo_lint import cached_argo_path, find_argo

    argo = find_argo()
    if argo is None:
        reason = (f"argo CLI not found (KUBELINE_ARGO, {cached_argo_path()}, PATH); "
                  "run scripts/build-argo.sh first")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return argo


@pytest.fixture
def in_folder() -> Iterator[Any]:
    """chdir into a folder for in-process pipeline building; restores cwd and sys.path."""
    old_cwd, old_path = Path.cwd(), list(sys.path)

    def enter(folder: Path) -> None:
        os.chdir(folder)
        sys.path.insert(0, str(folder))

    yield enter
    os.chdir(old_cwd)
    sys.path[:] = old_path
