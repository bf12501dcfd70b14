"""Executor behaviours found different from Argo by running Argo's examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.local.conftest import run_yaml

RETRY = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: retry-empty}}
spec:
  entrypoint: main
  {spec_retry}
  templates:
  - name: main
    {tmpl_retry}
    script:
      image: python:alpine3.23
      command: [python]
      source: |
        import os, pathlib
        marker = pathlib.Path(os.environ["KL_MARKER"])
        n = int(marker.read_text()) if marker.exists() else 0
        marker.write_text(str(n + 1))
        raise SystemExit(0 if n >= 2 else 1)
"""


@pytest.mark.parametrize(
    ("spec_retry", "tmpl_retry"),
    [("", "retryStrategy: {}"), ("retryStrategy: {}", "")],
)
def test_an_empty_retry_strategy_retries_until_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec_retry: str, tmpl_retry: str
) -> None:
    """Argo tests retryStrategy for nil: {} means retry, with no limit (its
    retry-container-to-completion example)."""
    (tmp_path / "st").mkdir()
    monkeypatch.setenv("KL_MARKER", str(tmp_path / "st" / "marker"))  # the state dir is shared
    s = run_yaml(RETRY.format(spec_retry=spec_retry, tmpl_retry=tmpl_retry), tmp_path / "st")
    assert s.phase == "Succeeded"
    [retry] = [n for n in s.nodes if n.type == "Retry"]
    attempts = [n for n in s.nodes if n.type == "Pod"]
    assert [a.phase for a in attempts] == ["Failed", "Failed", "Succeeded"]
    assert retry.phase == "Succeeded"


FROM_EXPRESSION = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: from-expr}}
spec:
  entrypoint: main
  arguments:
    parameters: [{{name: pick, value: "{pick}"}}]
  templates:
  - name: main
    {kind}:
{graph}
    outputs:
      artifacts:
      - name: chosen
        fromExpression: "{expr}"
  - name: make
    inputs:
      parameters: [{{name: text}}]
    container:
      image: busybox
      command: [sh, -c, "echo {{{{inputs.parameters.text}}}} > /tmp/out.txt"]
    outputs:
      artifacts: [{{name: out, path: /tmp/out.txt, archive: {{none: {{}}}}}}]
  - name: show
    inputs:
      artifacts: [{{name: in, path: /tmp/in.txt}}]
    container: {{image: busybox, command: [cat, /tmp/in.txt]}}
"""
DAG = """\
      tasks:
      - {name: heads, template: make, when: "{{workflow.parameters.pick}} == heads",
         arguments: {parameters: [{name: text, value: from-heads}]}}
      - {name: tails, template: make, when: "{{workflow.parameters.pick}} == tails",
         arguments: {parameters: [{name: text, value: from-tails}]}}
      - name: show
        template: show
        depends: heads || tails
        arguments:
          artifacts:
          - name: in
            fromExpression: >-
              workflow.parameters.pick == 'heads' ? tasks.heads.outputs.artifacts.out
              : tasks.tails.outputs.artifacts.out"""
STEPS = """\
      - - {name: heads, template: make, when: "{{workflow.parameters.pick}} == heads",
           arguments: {parameters: [{name: text, value: from-heads}]}}
        - {name: tails, template: make, when: "{{workflow.parameters.pick}} == tails",
           arguments: {parameters: [{name: text, value: from-tails}]}}
      - - name: show
          template: show
          arguments:
            artifacts:
            - name: in
              fromExpression: >-
                workflow.parameters.pick == 'heads' ? steps.heads.outputs.artifacts.out
                : steps.tails.outputs.artifacts.out"""


@pytest.mark.parametrize("kind", ["dag", "steps"])
@pytest.mark.parametrize("pick", ["heads", "tails"])
def test_from_expression_picks_an_artifact(tmp_path: Path, kind: str, pick: str) -> None:
    prefix = "tasks" if kind == "dag" else "steps"
    expr = (f"workflow.parameters.pick == 'heads' ? {prefix}.heads.outputs.artifacts.out"
            f" : {prefix}.tails.outputs.artifacts.out")
    text = FROM_EXPRESSION.format(pick=pick, kind=kind, graph=DAG if kind == "dag" else STEPS,
                                  expr=expr)
    s = run_yaml(text, tmp_path)
    assert s.phase == "Succeeded", [(n.display_name, n.message) for n in s.nodes]
    assert s.node("show").logs().strip() == f"from-{pick}"
    root = s.nodes[0]
    [chosen] = root.output_artifacts
    producer = s.node(pick)
    assert chosen["name"] == "chosen"
    assert chosen["location"] == producer.output_artifacts[0]["location"]


def test_from_expression_that_is_not_an_artifact_errors(tmp_path: Path) -> None:
    text = FROM_EXPRESSION.format(pick="heads", kind="dag", graph=DAG,
                                  expr="tasks.heads.outputs.parameters")
    s = run_yaml(text, tmp_path)
    assert s.phase == "Error"
    assert "is not an artifact" in s.nodes[0].message


def test_from_and_from_expression_together_are_refused(tmp_path: Path) -> None:
    from kubeline.exceptions import ValidationError

    text = FROM_EXPRESSION.format(pick="heads", kind="dag", graph=DAG,
                                  expr="tasks.heads.outputs.artifacts.out").replace(
        "fromExpression: \"", "from: '{{tasks.heads.outputs.artifacts.out}}'\n"
        "        fromExpression: \"")
    with pytest.raises(ValidationError, match="'from' and 'fromExpression'"):
        run_yaml(text, tmp_path)


INLINE = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: inline}
spec:
  entrypoint: main
  templates:
  - name: main
    KIND
  - name: main-a-inline
    container: {image: busybox, command: [echo, taken name]}
"""


@pytest.mark.parametrize("kind", ["dag", "steps"])
def test_inline_templates_run_as_named_ones(tmp_path: Path, kind: str) -> None:
    """Argo's dag-inline-workflow / steps-inline-workflow: a task's own template, nested
    inline templates included, and a generated name never clashes with a real template."""
    inner = ("inline: {dag: {tasks: [{name: deep, inline: {container: {image: busybox,"
             " command: [echo, deep]}}}]}}")
    if kind == "dag":
        body = ("dag:\n      tasks:\n"
                "      - {name: a, inline: {container: {image: busybox, command: [echo, A]}}}\n"
                f"      - {{name: b, depends: a, {inner}}}")
    else:
        body = ("steps:\n"
                "    - - {name: a, inline: {container: {image: busybox, command: [echo, A]}}}\n"
                f"    - - {{name: b, {inner}}}")
    s = run_yaml(INLINE.replace("KIND", body), tmp_path)
    assert s.phase == "Succeeded", [(n.display_name, n.message) for n in s.nodes]
    assert s.node("a").logs().strip() == "A"
    assert s.node("deep").logs().strip() == "deep"
