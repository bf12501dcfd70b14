"""`kubeline compile` (with the GitOps --check) and `kubeline validate`, as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.pipelines import copy_example


def kubeline(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kubeline.cli", *args], capture_output=True,
                          text=True, cwd=cwd, check=False)


def test_compile_check_and_drift(tmp_path: Path, argo_bin: Path) -> None:
    pipeline = copy_example("compare_models", tmp_path)
    out = tmp_path / "build"
    first = kubeline("compile", str(pipeline), "-o", str(out))
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in out.iterdir()) == ["compare-models.yaml", "kustomization.yaml"]
    before = (out / "compare-models.yaml").read_bytes()
    assert kubeline("compile", str(pipeline), "-o", str(out)).returncode == 0
    assert (out / "compare-models.yaml").read_bytes() == before
    clean = kubeline("compile", str(pipeline), "-o", str(out), "--check")
    assert clean.returncode == 0 and "up to date" in clean.stdout

    script = pipeline.parent / "scripts" / "compare.py"
    script.write_text(script.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    drift = kubeline("compile", str(pipeline), "-o", str(out), "--check")
    assert drift.returncode == 1
    # the three steps share scripts/, so its snapshot is one of the step_defaults: one line of
    # pipeline.json changes, the kubeline.io/snapshots annotation and the pipeline id
    assert drift.stdout.splitlines() == ["would change compare-models.yaml (+3 -3 lines)"]
    assert (out / "compare-models.yaml").read_bytes() == before, "--check writes nothing"

    valid = kubeline("validate", str(out))
    assert valid.returncode == 0, valid.stderr
    assert valid.stdout.splitlines() == ["schema: 2 objects in 1 files valid", "argo lint: ok"]


def test_validate_rejects_a_broken_manifest(tmp_path: Path) -> None:
    bad = tmp_path / "wf.yaml"
    bad.write_text("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: x}\n"
                   "spec:\n  entrypoint: main\n  templates:\n  - name: main\n"
                   "    container: {image: alpine, comand: [echo]}\n", encoding="utf-8")
    done = kubeline("validate", str(bad))
    assert done.returncode == 2
    assert done.stderr == ("kubeline: error: wf.yaml[0]: Workflow has unknown field "
                           "'spec.templates[0].container.comand'\n")


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    missing = kubeline("compile", str(tmp_path / "nope.py"), "-o", str(tmp_path / "o"))
    assert missing.returncode == 2
    assert missing.stderr.startswith("kubeline: error: pipeline file ")
    assert missing.stderr.count("\n") == 1
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n", encoding="utf-8")
    none = kubeline("compile", str(empty), "-o", str(tmp_path / "o"))
    assert none.returncode == 2
    assert none.stderr == ("kubeline: error: empty.py: defines no Pipeline at module level "
                           "(assign one, e.g. pipeline = Pipeline(ws, steps=[...]))\n")


def test_click_usage_errors_are_one_line(tmp_path: Path) -> None:
    """Issue 2: usage errors exit 2 with one line naming the problem and where help is."""
    cases = [
        (("validate", str(tmp_path / "missing")), "Invalid value for 'PATH'",
         " validate --help"),
        (("compile", "pipeline.py"), "Missing option '-o' / '--output'",
         " compile --help"),
        (("--bogus",), "No such option '--bogus'", "kubeline.cli --help"),
        (("nosuchcommand",), "No such command 'nosuchcommand'", "kubeline.cli --help"),
    ]
    for args, problem, hint in cases:
        done = kubeline(*args, cwd=tmp_path)
        assert done.returncode == 2, args
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("kubeline: error: "), done.stderr
        assert problem in lines[0] and hint in lines[0], lines[0]
    helped = kubeline("compile", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "Usage:" in helped.stdout
