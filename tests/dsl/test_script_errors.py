"""A plain ``python pipeline.py`` that imports kubeline ends a kubeline error with its one
line and exit code 2, as the CLI does; a bug that is not kubeline's keeps its traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPTS = {
    "escaping path": ("""
        from kubeline import DataReference, Workspace
        ws = Workspace.from_config()
        DataReference(datastore=ws.get_default_datastore(), path_on_datastore="../../x",
                      data_reference_name="raw")
    """, "DataReference 'raw': path_on_datastore '../../x'"),
    "azureml import path": ("""
        from azureml.core import Workspace
        from azureml.data.data_reference import DataReference
        ws = Workspace.from_config()
        DataReference(datastore=ws.get_default_datastore(), path_on_datastore="/etc",
                      data_reference_name="abs")
    """, "DataReference 'abs': path_on_datastore '/etc'"),
}


def _run(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "pipeline.py"
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    return subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_kubeline_error_ends_a_script_with_one_line(tmp_path: Path, name: str) -> None:
    code, expected = SCRIPTS[name]
    done = _run(tmp_path, code)
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("DatastorePathError: ") and expected in last, done.stderr


def test_other_errors_keep_their_traceback(tmp_path: Path) -> None:
    done = _run(tmp_path, """
        import kubeline.dsl
        raise RuntimeError("a bug of the user's own")
    """)
    assert done.returncode == 1, done
    assert "Traceback" in done.stderr and "RuntimeError: a bug of the user's own" in done.stderr
