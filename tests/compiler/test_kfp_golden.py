"""Every example compiled with --target kfp: the same bytes wherever it is compiled, equal to
its golden file, and accepted by KFP's own code (strict protobuf parse, kfp SDK load,
sub-pipeline compile). An example KFP cannot express (Spark) is refused with one line, and
that line is its golden file.

Refresh after an intended change: `make golden` (KUBELINE_REGENERATE=1); CI never sets it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from tests.pipelines import EXAMPLES, copy_example

from kubeline.compiler.api import compile_to_files
from kubeline.compiler.kfp.validate import validate_kfp_file
from kubeline.exceptions import KubelineError

GOLDEN = Path(__file__).parent / "golden"
NAMES = sorted(p.parent.name for p in EXAMPLES.glob("*/pipeline.py"))
REFUSED = "refused.txt"


def _compiled(name: str, where: Path) -> dict[str, str]:
    try:
        return compile_to_files(copy_example(name, where), target="kfp")
    except KubelineError as exc:
        return {REFUSED: f"{exc}\n"}


@pytest.mark.parametrize("name", NAMES)
def test_example_matches_kfp_golden(name: str, tmp_path: Path) -> None:
    files = _compiled(name, tmp_path / "a")
    assert files == _compiled(name, tmp_path / "b" / "deeper"), \
        "output depends on where the example was compiled"
    folder = GOLDEN / f"{name}-kfp"
    if os.environ.get("KUBELINE_REGENERATE") and not os.environ.get("CI"):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        for file, text in files.items():
            (folder / file).write_text(text, encoding="utf-8", newline="\n")
    expected = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}
    assert expected, f"no golden files in {folder}: run `make golden`"
    assert files == expected, f"{name} differs from {folder}: run `make golden` if intended"


@pytest.mark.parametrize("name", NAMES)
def test_kfp_accepts_every_compiled_example(name: str, tmp_path: Path) -> None:
    files = _compiled(name, tmp_path)
    if REFUSED in files:
        # only Spark steps and ParallelRunSteps are refused, in one line naming the step
        assert files[REFUSED].count("\n") == 1
        assert files[REFUSED].startswith({
            "spark_wordcount": "step 'count-words': Spark steps",
            "parallel_scoring": "step 'score-files': ParallelRunStep is compiled for Argo only",
        }[name])
        return
    assert list(files) == [f"{name.replace('_', '-')}.yaml"]
    for file, text in files.items():
        path = tmp_path / file
        path.write_text(text, encoding="utf-8")
        docs = [d for d in yaml.safe_load_all(text) if d]
        assert validate_kfp_file(path, docs) == []
