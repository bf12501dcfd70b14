"""A HyperDriveStep compiles to a bounded fan-out: golden bytes, Argo's schema, argo lint.

Refresh the golden files after an intended change: KUBELINE_REGENERATE=1 (never in CI).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeline.compiler.api import compile_to_files
from kubeline.compiler.argo_lint import lint_offline
from kubeline.compiler.validate import validate_document
from kubeline.exceptions import KubelineError
from tests.hyperdrive.workspace import make

GOLDEN = Path(__file__).parent / "golden"
SETTINGS = {"HD_POLICY": "bandit", "HD_CONCURRENT": "2", "HD_TOTAL": "5"}


def _compile(root: Path, monkeypatch: Any, **kwargs: Any) -> dict[str, str]:
    for key, value in SETTINGS.items():
        monkeypatch.setenv(key, value)
    return compile_to_files(make(root) / "pipeline.py", **kwargs)


def test_compiles_to_the_golden_fan_out(tmp_path: Path, monkeypatch: Any) -> None:
    files = _compile(tmp_path / "a" / "tuning", monkeypatch)
    assert files == _compile(tmp_path / "b" / "deeper" / "tuning", monkeypatch), \
        "output depends on where the pipeline was compiled"
    if os.environ.get("KUBELINE_REGENERATE") and not os.environ.get("CI"):
        GOLDEN.mkdir(exist_ok=True)
        for file, text in files.items():
            (GOLDEN / file).write_text(text, encoding="utf-8", newline="\n")
    expected = {p.name: p.read_text(encoding="utf-8") for p in sorted(GOLDEN.glob("*.yaml"))}
    assert files == expected, "the compiled HyperDriveStep changed: refresh the golden files " \
                              "if intended"
    docs = [d for text in files.values() for d in yaml.safe_load_all(text) if d]
    workflow = next(d for d in docs if d["kind"] == "Workflow")
    templates = {t["name"]: t for t in workflow["spec"]["templates"]}
    main = {t["name"]: t for t in templates["main"]["dag"]["tasks"]}
    fan_out = templates[main["tune"]["template"]]
    assert fan_out["parallelism"] == 2  # max_concurrent_runs
    tasks = {t["name"]: t for t in fan_out["dag"]["tasks"]}
    assert tasks["trial"]["withParam"] == "{{tasks.sample.outputs.parameters.trials}}"
    assert tasks["best"]["depends"] == "trial.Succeeded || trial.Failed"
    assert fan_out["dag"]["failFast"] is False
    assert main["use"]["depends"] == "tune"
    for doc in docs:
        assert validate_document(doc, "compiled") == []


def test_argo_lint_accepts_it(tmp_path: Path, monkeypatch: Any) -> None:
    files = _compile(tmp_path / "ws", monkeypatch, kind="workflowtemplate")
    out = tmp_path / "out"
    out.mkdir()
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    result = lint_offline([out / n for n in files if n != "kustomization.yaml"])
    assert result.ok, result.messages


def test_kfp_refuses_it_in_one_line(tmp_path: Path, monkeypatch: Any) -> None:
    with pytest.raises(KubelineError) as err:
        _compile(tmp_path / "ws", monkeypatch, target="kfp")
    assert "step 'tune': HyperDriveStep is not compiled for KFP yet" in str(err.value)
