"""The compile cache: an unchanged pipeline recompiles from cache without Argo's models; any
change to what compile reads misses it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.pipelines import copy_example

PROBE = """
import json, sys
from pathlib import Path
from kubeline.compiler.api import compile_file
docs = compile_file(Path(sys.argv[1]))
print(json.dumps({"hera": any(m.startswith("hera") for m in sys.modules), "docs": docs}))
"""


def _compile(pipeline: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, str(pipeline)], capture_output=True,
                          text=True, check=True, cwd=pipeline.parent)
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_unchanged_pipeline_compiles_from_cache(tmp_path: Path) -> None:
    pipeline = copy_example("data_dependency", tmp_path)
    first = _compile(pipeline)
    second = _compile(pipeline)
    assert first["hera"] is True and second["hera"] is False
    assert second["docs"] == first["docs"]
    script = pipeline.parent / "steps" / "report.py"
    script.write_text(script.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    third = _compile(pipeline)
    assert third["hera"] is True, "a changed snapshot must miss the cache"
    assert third["docs"] != first["docs"]
    config = pipeline.parent / "kubeline.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("namespace: kubeline",
                                                                  "namespace: other"),
                      encoding="utf-8")
    fourth = _compile(pipeline)
    assert fourth["hera"] is True, "a changed workspace config must miss the cache"
