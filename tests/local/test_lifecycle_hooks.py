"""Lifecycle hooks on an expression: a step's, a task's and the workflow's hooks run once,
as ``<node>.hooks.<name>``, when their expression holds at a change of the node."""

# ruff: noqa: E501  (embedded manifests keep their natural line length)
from __future__ import annotations

from pathlib import Path

import pytest

from kubeline.exceptions import ValidationError

from .conftest import run_yaml

NOTE = """
  - name: note
    inputs: {parameters: [{name: what}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.what}}"]}
"""

STEPS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: hooks-}
spec:
  entrypoint: main
  hooks:
    running:
      expression: workflow.status == "Running"
      template: note
      arguments: {parameters: [{name: what, value: wf-running}]}
  templates:
  - name: main
    steps:
    - - name: step-1
        template: work
        hooks:
          running:
            expression: steps["step-1"].status == "Running"
            template: note
            arguments: {parameters: [{name: what, value: step-1 running}]}
          success:
            expression: steps["step-1"].status == "Succeeded"
            template: note
            arguments: {parameters: [{name: what, value: "step-1 said {{steps.step-1.outputs.result}}"}]}
          failed:
            expression: steps["step-1"].status == "Failed"
            template: note
            arguments: {parameters: [{name: what, value: step-1 failed}]}
  - name: work
    container: {image: busybox, command: [sh, -c, "echo heads; exit CODE"]}
""" + NOTE


def _hooks(s: object) -> dict[str, str]:
    return {n.display_name: n.logs() for n in s.nodes if ".hooks." in n.name}  # type: ignore[attr-defined]


def test_step_hooks_run_once_each_when_their_expression_holds(tmp_path: Path) -> None:
    s = run_yaml(STEPS.replace("CODE", "0"), tmp_path)
    assert s.phase == "Succeeded", s.message
    assert _hooks(s) == {
        f"{s.id}.hooks.running": "wf-running\n",
        "step-1.hooks.running": "step-1 running\n",
        "step-1.hooks.success": "step-1 said heads\n",  # arguments see the step's outputs
    }


def test_a_failing_step_runs_its_failed_hook_not_its_success_hook(tmp_path: Path) -> None:
    s = run_yaml(STEPS.replace("CODE", "3"), tmp_path)
    assert s.phase == "Failed"
    hooks = _hooks(s)
    assert hooks["step-1.hooks.failed"] == "step-1 failed\n"
    assert "step-1.hooks.success" not in hooks


def test_dag_task_hooks_finish_before_dependents_start(tmp_path: Path) -> None:
    text = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: dag-hooks-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - name: a
        template: note
        arguments: {parameters: [{name: what, value: a}]}
        hooks:
          done:
            expression: tasks.a.status == "Succeeded"
            template: note
            arguments: {parameters: [{name: what, value: "a is {{tasks.a.status}}"}]}
      - {name: b, template: note, depends: a, arguments: {parameters: [{name: what, value: b}]}}
""" + NOTE
    s = run_yaml(text, tmp_path)
    assert s.phase == "Succeeded", s.message
    hook = s.node("a.hooks.done")
    assert hook.logs() == "a is Succeeded\n"
    assert hook.finish_seq < s.node("b").start_seq  # the task is done once its hooks are


@pytest.mark.parametrize(("hook", "problem"), [
    ("{template: note}", "spec.hooks.running: Expression required for hook running"),
    ("{expression: 'true', template: nowhere}", "spec.hooks.running.template: template 'nowhere' is not defined"),
])
def test_bad_hooks_are_refused_before_the_run(tmp_path: Path, hook: str, problem: str) -> None:
    text = STEPS.replace("CODE", "0").replace(
        '''    running:
      expression: workflow.status == "Running"
      template: note
      arguments: {parameters: [{name: what, value: wf-running}]}''', f"    running: {hook}")
    with pytest.raises(ValidationError) as info:
        run_yaml(text, tmp_path)
    assert problem in str(info.value)
    assert not (tmp_path / "runs").exists()
