"""The workflow's exit handler (spec.onExit, spec.hooks.exit) as Argo runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.local.conftest import run_yaml

WF = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: exits}}
spec:
  entrypoint: main
  arguments:
    parameters: [{{name: code, value: "{code}"}}]
  {hook}
  templates:
  - name: main
    container: {{image: alpine:3.23, command: [sh, -c, "exit {{{{workflow.parameters.code}}}}"]}}
  - name: handler
    inputs:
      parameters: [{{name: who, value: default}}]
    steps:
    - - name: report
        template: report
        arguments:
          parameters: [{{name: who, value: "{{{{inputs.parameters.who}}}}"}}]
      - {{name: celebrate, template: say, when: "{{{{workflow.status}}}} == Succeeded"}}
      - {{name: cry, template: say, when: "{{{{workflow.status}}}} != Succeeded"}}
  - name: report
    inputs:
      parameters: [{{name: who}}]
    container:
      image: alpine:3.23
      command: [sh, -c]
      args:
      - >-
        echo '{{{{inputs.parameters.who}}}} {{{{workflow.status}}}} {{{{workflow.duration}}}}';
        echo {{{{workflow.failures}}}}; exit {handler_code}
  - name: say
    container: {{image: busybox, command: [echo, said]}}
"""


def _run(  # type: ignore[no-untyped-def]
    tmp_path: Path, code: int, hook: str = "onExit: handler", handler_code: int = 0
):
    return run_yaml(WF.format(code=code, hook=hook, handler_code=handler_code), tmp_path)


@pytest.mark.parametrize("hook", ["onExit: handler", "hooks: {exit: {template: handler}}"])
def test_handler_runs_after_success(tmp_path: Path, hook: str) -> None:
    s = _run(tmp_path, 0, hook)
    assert s.phase == "Succeeded"
    exit_node = s.node("exits.onExit")
    assert exit_node.phase == "Succeeded" and exit_node.type == "Steps"
    assert s.node("exits").finish_seq < exit_node.start_seq
    first, failures = s.node("report").logs().splitlines()[:2]
    assert re.fullmatch(r"default Succeeded \d+\.\d{6}", first)
    assert failures == "null"
    assert s.node("celebrate").phase == "Succeeded" and s.node("cry").phase == "Skipped"


def test_handler_sees_the_failure(tmp_path: Path) -> None:
    s = _run(tmp_path, 3)
    assert s.phase == "Failed"
    assert s.node("exits.onExit").phase == "Succeeded"
    lines = s.node("report").logs().splitlines()
    assert lines[0].startswith("default Failed ")
    [failure] = json.loads(lines[1])
    assert failure["displayName"] == "exits" and failure["phase"] == "Failed"
    assert failure["message"] == "Error (exit code 3)" and failure["templateName"] == "main"
    assert s.node("cry").phase == "Succeeded" and s.node("celebrate").phase == "Skipped"


def test_a_failing_handler_fails_a_succeeded_workflow(tmp_path: Path) -> None:
    s = _run(tmp_path, 0, handler_code=4)
    assert s.phase == "Failed"
    assert s.node("exits").phase == "Succeeded"
    assert s.node("report").phase == "Failed"


def test_a_failing_handler_leaves_a_failed_workflow_failed(tmp_path: Path) -> None:
    s = _run(tmp_path, 2, handler_code=4)
    assert s.phase == "Failed"
    assert s.message == "Error (exit code 2)"


def test_exit_hook_arguments(tmp_path: Path) -> None:
    hook = ("hooks: {exit: {template: handler, arguments: {parameters: "
            "[{name: who, value: 'wf {{workflow.name}}'}]}}}")
    s = _run(tmp_path, 0, hook)
    assert s.phase == "Succeeded"
    assert s.node("report").logs().startswith("wf exits Succeeded ")


TASK_HOOKS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: task-hooks}
spec:
  entrypoint: main
  templates:
  - name: main
    BODY
  - name: produce
    container:
      image: alpine:3.23
      command: [sh, -c, "echo -n made > /tmp/v.txt"]
    outputs:
      parameters: [{name: v, valueFrom: {path: /tmp/v.txt}}]
      artifacts: [{name: f, path: /tmp/v.txt, archive: {none: {}}}]
  - name: show
    inputs:
      parameters: [{name: v}]
      artifacts: [{name: f, path: /tmp/in.txt}]
    container:
      image: alpine:3.23
      command: [sh, -c, "echo {{inputs.parameters.v}}; cat /tmp/in.txt; exit CODE"]
  - name: after
    container: {image: busybox, command: [echo, after]}
"""
HOOK = ("{template: show, arguments: {"
        "parameters: [{name: v, value: 'got {{%s.a.outputs.parameters.v}}'}],"
        " artifacts: [{name: f, from: '{{%s.a.outputs.artifacts.f}}'}]}}")


@pytest.mark.parametrize("kind", ["dag", "steps"])
@pytest.mark.parametrize("code", [0, 5])
def test_task_exit_hooks_see_outputs_and_hold_dependents(
    tmp_path: Path, kind: str, code: int
) -> None:
    """Argo's exit-handler-with-param / -with-artifacts / -dag-level: the hook runs as
    '<task>.onExit' once the task is done, with the task's outputs; the next task waits for
    it; a failing hook leaves the task's (and the workflow's) phase alone."""
    prefix = "tasks" if kind == "dag" else "steps"
    hook = HOOK % (prefix, prefix)
    if kind == "dag":
        body = ("dag:\n      tasks:\n"
                f"      - {{name: a, template: produce, hooks: {{exit: {hook}}}}}\n"
                "      - {name: b, template: after, depends: a}")
    else:
        body = (f"steps:\n    - - {{name: a, template: produce, hooks: {{exit: {hook}}}}}\n"
                "    - - {name: b, template: after}")
    s = run_yaml(TASK_HOOKS.replace("BODY", body).replace("CODE", str(code)), tmp_path)
    assert s.phase == "Succeeded", [(n.display_name, n.message) for n in s.nodes]
    hook_node = s.node("a.onExit")
    assert hook_node.phase == ("Succeeded" if code == 0 else "Failed")
    assert hook_node.logs().splitlines()[:2] == ["got made", "made"]
    assert s.node("a").phase == "Succeeded"
    assert s.node("a").finish_seq < hook_node.start_seq
    assert hook_node.finish_seq < s.node("b").start_seq


def test_deprecated_task_on_exit(tmp_path: Path) -> None:
    body = ("dag:\n      tasks:\n      - {name: a, template: after, onExit: after}\n"
            "      - {name: b, template: after, depends: a}")
    s = run_yaml(TASK_HOOKS.replace("BODY", body).replace("CODE", "0"), tmp_path)
    assert s.phase == "Succeeded"
    assert s.node("a.onExit").logs().strip() == "after"


def test_hooks_other_than_exit_need_an_expression(tmp_path: Path) -> None:
    """Hooks on an expression run (tests/local/test_lifecycle_hooks.py); one without an
    expression is refused, as Argo refuses it ("Expression required for hook")."""
    from kubeline.exceptions import ValidationError

    body = ("steps:\n    - - {name: a, template: after, hooks: {running: "
            "{template: after}}}")
    with pytest.raises(ValidationError, match=r"hooks\.running: Expression required"):
        run_yaml(TASK_HOOKS.replace("BODY", body).replace("CODE", "0"), tmp_path)


def test_exit_hook_arguments_that_cannot_resolve_error_the_hook(tmp_path: Path) -> None:
    """The task failed before making its artifact: the hook node errors, the run goes on."""
    hook = ("{template: show, arguments: {artifacts: [{name: f, "
            "from: '{{steps.a.outputs.artifacts.f}}'}], parameters: [{name: v, value: x}]}}")
    body = f"steps:\n    - - {{name: a, template: broken, hooks: {{exit: {hook}}}}}"
    text = TASK_HOOKS.replace("BODY", body).replace("CODE", "0") + """  - name: broken
    container: {image: busybox, command: [sh, -c, "exit 0"]}
    outputs:
      artifacts: [{name: f, path: /tmp/missing.txt}]
"""
    s = run_yaml(text, tmp_path)
    hook_node = s.node("a.onExit")
    assert hook_node.phase == "Error" and "exit hook arguments" in hook_node.message
    assert s.node("a").phase == "Error"
