"""The injected-runtime bootstrap: bundle per interpreter version, kubeline for the script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from kubeline.graph.model import Step
from tests.runtime.harness import SRC, Harness

BOOT = Path(SRC) / "kubeline" / "runtime" / "boot.py"
VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"


def _runtime_volume(root: Path, versions: list[str]) -> Path:
    """What the init container copies: boot.py, py3.X/ bundles and lib/ (kubeline only)."""
    volume = root / "kubeline-runtime"
    for version in versions:
        (volume / f"py{version}").mkdir(parents=True)
        shutil.copytree(Path(SRC) / "kubeline", volume / f"py{version}" / "kubeline")
    shutil.copytree(Path(SRC) / "kubeline", volume / "lib" / "kubeline")
    shutil.copy(BOOT, volume / "boot.py")
    return volume


def test_boot_runs_the_shim_from_the_bundle(harness: Harness, tmp_path: Path) -> None:
    volume = _runtime_volume(tmp_path, [VERSION])
    script = ("import kubeline, sys\nfrom kubeline import Run\n"
              "Run.get_context().log('where', kubeline.__file__)\n")
    harness.add(Step(id="s", name="s", kind="python_script", image="x", script="main.py"),
                {"main.py": script})
    env = harness.shim_env()
    env["PYTHONPATH"] = ""  # only the injected runtime provides kubeline
    done = subprocess.run([sys.executable, "-I", str(volume / "boot.py"), "--step", "s",
                           "--upstream", ""], env=env, cwd=harness.workspace,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    where = harness.result("s")["metrics"]["where"]
    assert where.startswith(str(volume)), where


def test_boot_without_a_matching_bundle_says_so(tmp_path: Path) -> None:
    volume = _runtime_volume(tmp_path, ["3.1"])
    done = subprocess.run([sys.executable, "-I", str(volume / "boot.py"), "--step", "s"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().startswith(
        f"kubeline: error: the injected kubeline runtime has no bundle for Python {VERSION} "
        "(it has 3.1)")
