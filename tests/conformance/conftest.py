"""Locate ../shared/argo-examples; required under CI, skipped with a reason otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = (REPO_ROOT / ".." / "shared" / "argo-examples").resolve()


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    if not EXAMPLES.is_dir():
        reason = f"Argo examples not found at {EXAMPLES} (../shared is absent)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        print(reason)
        pytest.skip(reason)
    return EXAMPLES
