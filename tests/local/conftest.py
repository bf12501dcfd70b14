"""Helpers for the local executor tests: run a manifest given as YAML text."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeline.local import RunSummary, run_manifest

HAS_BWRAP = shutil.which("bwrap") is not None
SANDBOX_MODES = [
    "none",
    pytest.param(
        "bwrap", marks=pytest.mark.skipif(not HAS_BWRAP, reason="bubblewrap is not installed")
    ),
]


def run_yaml(text: str, state: Path, **kw: Any) -> RunSummary:
    docs = [d for d in yaml.safe_load_all(text) if d]
    params = kw.pop("parameters", {})
    return run_manifest(docs, parameters=params, state_dir=state, **kw)
