"""The workflow's exit handler (``spec.onExit`` or ``spec.hooks.exit``), run as Argo runs it.

Once the entrypoint's node is done, Argo sets ``workflow.status`` (the workflow phase that
node gives), ``workflow.failures`` (every Failed/Error node as JSON, Go-quoted, so the quotes
survive substitution) and ``workflow.duration`` (seconds, ``%f``), then runs the handler as
the node ``<workflow>.onExit``. A handler that fails turns a Succeeded workflow Failed (or
Error), with the handler's message; it never changes a workflow that already failed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from kubeline.local.nodes import ERROR, FAILED, OMITTED, SKIPPED, SUCCEEDED, Node

if TYPE_CHECKING:
    from kubeline.local.executor import Engine
    from kubeline.local.scope import Scope

_WORKFLOW_PHASE = {SUCCEEDED: SUCCEEDED, SKIPPED: SUCCEEDED, OMITTED: SUCCEEDED,
                   FAILED: FAILED, ERROR: ERROR}


def exit_hook(spec: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(template, arguments) of the workflow's exit handler, if it has one."""
    hook = (spec.get("hooks") or {}).get("exit")
    if isinstance(hook, dict) and hook.get("template"):
        return str(hook["template"]), dict(hook.get("arguments") or {})
    if spec.get("onExit"):
        return str(spec["onExit"]), dict(spec.get("arguments") or {})
    return None


def exit_globals(root: Node, nodes: Iterable[Node], started: float) -> dict[str, str]:
    """What the handler sees: workflow.status, workflow.failures, workflow.duration."""
    failures = [
        {"displayName": n.display_name, "message": n.message, "templateName": n.template_name,
         "phase": n.phase, "podName": n.pod_name, "finishedAt": n.finished_at or None}
        for n in nodes if n.phase in (FAILED, ERROR)
    ]
    encoded = json.dumps(failures or None, separators=(",", ":"), ensure_ascii=False)
    return {
        "workflow.status": _WORKFLOW_PHASE.get(root.phase, ERROR),
        "workflow.failures": json.dumps(encoded, ensure_ascii=False),  # strconv.Quote
        "workflow.duration": f"{max(0.0, time.time() - started):f}",
    }


def final_phase(root_phase: str, handler: Node | None) -> tuple[str, str | None]:
    """The workflow's phase after its handler, and the message that replaces the root's."""
    phase = _WORKFLOW_PHASE.get(root_phase, ERROR)
    if handler is not None and phase == SUCCEEDED and handler.phase in (FAILED, ERROR):
        return handler.phase, handler.message
    return phase, None


async def run_exit_handler(
    spec: dict[str, Any], run_id: str, root: Node, nodes: Iterable[Node], started: float,
    globals_: dict[str, Any],
    execute: Callable[[str, str, dict[str, Any], Node | None], Awaitable[Node]],
) -> Node | None:
    hook = exit_hook(spec)
    if hook is None:
        return None
    globals_.update(exit_globals(root, nodes, started))
    template, arguments = hook
    return await execute(f"{run_id}.onExit", template, arguments, None)


def task_exit_hook(task: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(template, arguments) of a DAG task's or step's exit hook (``hooks.exit`` or the
    deprecated ``onExit``)."""
    hook = (task.get("hooks") or {}).get("exit")
    if isinstance(hook, dict) and hook.get("template"):
        return str(hook["template"]), dict(hook.get("arguments") or {})
    if task.get("onExit"):
        return str(task["onExit"]), {}
    return None


def split_hooks(task: dict[str, Any]) -> dict[str, Any]:
    """The task without its exit hook, whose arguments name the task's own outputs and are
    resolved only once it has run."""
    return {k: v for k, v in task.items() if k not in ("hooks", "onExit")}


async def run_task_exit_hook(
    engine: Engine, hook: tuple[str, dict[str, Any]] | None, node: Node | None, prefix: str,
    name: str, scope: Scope, boundary: Node, template_name: Any,
) -> None:
    """Run a finished task's/step's exit hook as ``<node>.onExit`` (Argo's runOnExitNode):
    its arguments see the task's outputs as ``tasks.NAME.*``/``steps.NAME.*``; the task's
    dependents wait for it; its phase does not change the task's."""
    if hook is None or node is None or node.phase not in (SUCCEEDED, FAILED, ERROR):
        return
    from kubeline.local.dag import mark_absent_args, resolve_artifact_args
    from kubeline.local.scope import ScopeError
    from kubeline.local.templating import Substituter, TemplateError

    template, arguments = hook
    local = dict(scope)
    engine.add_task_scope(local, prefix, name, node, template_name)
    body = {"arguments": arguments}
    try:
        mark_absent_args(body, local)
        resolved: dict[str, Any] = Substituter(local).obj(body)
        resolve_artifact_args(resolved, local)
    except (ScopeError, TemplateError) as exc:  # e.g. an output the task did not produce
        hook_node = engine.new_node(f"{node.name}.onExit", "Skipped", ERROR, template, boundary,
                                    f"exit hook arguments: {exc}")
    else:
        hook_node = await engine.execute_template(
            f"{node.name}.onExit", template, resolved["arguments"], boundary)
    engine.add_child(node, hook_node)
