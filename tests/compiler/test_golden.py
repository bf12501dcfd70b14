"""Compiled examples match their golden files byte for byte, wherever they are compiled.

Refresh after an intended change: `make golden` (KUBELINE_REGENERATE=1); CI never sets it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.pipelines import EXAMPLES, copy_example

from kubeline.compiler.api import compile_to_files

GOLDEN = Path(__file__).parent / "golden"
NAMES = sorted(p.parent.name for p in EXAMPLES.glob("*/pipeline.py"))


CASES = [(name, kind, False) for name in NAMES for kind in ("workflow", "workflowtemplate")]
CASES += [(name, "workflow", True) for name in ("compare_models", "data_dependency")]


@pytest.mark.parametrize(("name", "kind", "memoize"), CASES)
def test_example_matches_golden(name: str, kind: str, memoize: bool, tmp_path: Path) -> None:
    """The default (compact) form of every example, and the memoize form of two."""
    files = compile_to_files(copy_example(name, tmp_path / "a"), kind, memoize=memoize)  # type: ignore[arg-type]
    again = compile_to_files(copy_example(name, tmp_path / "b" / "deeper"), kind,  # type: ignore[arg-type]
                             memoize=memoize)
    assert files == again, "output depends on where the example was compiled"
    folder = GOLDEN / f"{name}-{kind}{'-memoize' if memoize else ''}"
    if os.environ.get("KUBELINE_REGENERATE") and not os.environ.get("CI"):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.yaml"):
            old.unlink()
        for file, text in files.items():
            (folder / file).write_text(text, encoding="utf-8", newline="\n")
    expected = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yaml"))}
    assert expected, f"no golden files in {folder}: run `make golden`"
    assert files == expected, f"{name} differs from {folder}: run `make golden` if intended"
