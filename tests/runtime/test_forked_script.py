"""A Python script run in a forked child behaves as ``python script.py`` in a new process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kubeline.runtime import process

SCRIPT = """
import atexit, os, sys
atexit.register(lambda: print("atexit ran"))
print("argv", sys.argv[1:], "cwd", os.path.basename(os.getcwd()), "env", os.environ["FOO"])
print("main", __name__, "path0", os.path.basename(sys.path[0]))
print("to stderr", file=sys.stderr)
mode = sys.argv[1]
if mode == "exit3":
    sys.exit(3)
if mode == "message":
    sys.exit("a message")
if mode == "raise":
    raise ValueError("boom")
"""


@pytest.mark.parametrize("mode,code", [("ok", 0), ("exit3", 3), ("message", 1), ("raise", 1)])
@pytest.mark.parametrize("spawn", ["fork", "subprocess"])
def test_script_semantics(mode: str, code: int, spawn: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "job.py").write_text(SCRIPT, encoding="utf-8")
    env = {"FOO": "bar", "PATH": "/usr/bin:/bin", "KUBELINE_SPAWN": spawn}
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    assert process._can_fork([sys.executable, "job.py"], env) == (spawn == "fork")
    got = process.run([sys.executable, "job.py", mode], src, env, out, err)
    assert got == code
    stdout = out.read_text(encoding="utf-8").splitlines()
    assert stdout[:2] == [f"argv ['{mode}'] cwd src env bar", "main __main__ path0 src"]
    assert stdout[-1] == "atexit ran"
    stderr = err.read_text(encoding="utf-8")
    assert stderr.startswith("to stderr\n")
    if mode == "raise":
        assert "ValueError: boom" in stderr and "Traceback" in stderr
    if mode == "message":
        assert "a message" in stderr
