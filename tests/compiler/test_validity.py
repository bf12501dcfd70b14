"""Every compiled object is accepted by Argo's schema (strict), hera's models and Argo's linter."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.argo_schema import schema_errors
from tests.pipelines import EXAMPLES, copy_example

from kubeline.compiler.api import compile_to_files, write_output
from kubeline.compiler.argo_lint import lint_offline
from kubeline.compiler.validate import validate_document

NAMES = sorted(p.parent.name for p in EXAMPLES.glob("*/pipeline.py"))


@pytest.mark.parametrize(("kind", "memoize"), [("workflow", False), ("workflowtemplate", False),
                                               ("workflow", True)])
@pytest.mark.parametrize("name", NAMES)
def test_example_is_valid_argo(name: str, kind: str, memoize: bool, tmp_path: Path,
                               argo_bin: Path) -> None:
    """Both task forms: compact (the default) and with the memoize fast path."""
    files = compile_to_files(copy_example(name, tmp_path), kind, memoize=memoize)  # type: ignore[arg-type]
    out = tmp_path / "out"
    write_output(files, out)
    docs = [d for f in out.glob("*.yaml") if f.name != "kustomization.yaml"
            for d in yaml.safe_load_all(f.read_text(encoding="utf-8"))]
    assert {d["kind"] for d in docs} >= {"ConfigMap", "Workflow" if kind == "workflow"
                                         else "WorkflowTemplate"}
    for doc in docs:
        assert schema_errors(doc) == []
        assert validate_document(doc, name) == []
    result = lint_offline(sorted(p for p in out.glob("*.yaml") if p.name != "kustomization.yaml"))
    assert result.ok, result.messages


def test_unknown_field_is_reported_by_validate(tmp_path: Path) -> None:
    files = compile_to_files(copy_example("compare_models", tmp_path))
    docs = yaml.safe_load_all(files["compare-models.yaml"])
    doc = next(d for d in docs if d["kind"] == "Workflow")
    doc["spec"]["templates"][1]["containr"] = {"image": "x"}
    assert schema_errors(doc), "Argo's schema must reject an unknown field"
    problems = validate_document(doc, "wf")
    assert problems == ["wf: Workflow has unknown field 'spec.templates[1].containr'"]
