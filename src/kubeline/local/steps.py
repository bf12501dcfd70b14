"""Steps templates: step groups run in order, the steps of a group in parallel (steps.go).

Each group gets a StepGroup node ``<steps>[i]``; its steps are ``<steps>[i].<name>`` (looped
steps ``<name>(i:item)``). References are resolved against the outputs of earlier groups, then
items are expanded and each step's ``when`` is checked (false -> Skipped). A group fails when
a child is Failed/Error without ``continueOn``, and then the steps node fails.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from kubeline.local import lifecycle, loops
from kubeline.local.dag import mark_absent_args, resolve_artifact_args
from kubeline.local.exithandler import run_task_exit_hook, split_hooks, task_exit_hook
from kubeline.local.nodes import ERROR, FAILED, FAILED_OR_ERROR, RUNNING, SKIPPED, SUCCEEDED, Node
from kubeline.local.scope import Scope, ScopeError, add_aggregate
from kubeline.local.templating import Substituter, TemplateError
from kubeline.local.when import WhenError, should_execute

if TYPE_CHECKING:
    from kubeline.local.executor import Engine


async def run_steps(engine: Engine, node: Node, tmpl: dict[str, Any], input_scope: Scope) -> None:
    scope: Scope = dict(engine.globals)
    scope.update(input_scope)
    previous: Node | None = None
    groups = tmpl.get("steps") or []
    for i, group in enumerate(groups):
        if engine.failfast_blocked(node, tmpl):
            engine.finish(
                node, FAILED, "template has failed or errored children and failFast enabled"
            )
            return
        sg = engine.new_node(f"{node.name}[{i}]", "StepGroup", RUNNING, "", node)
        if previous is None:
            engine.add_child(node, sg)
        elif not previous.children:
            engine.add_child(previous, sg)
        else:
            for cid in previous.children:
                for out_id in engine.outbound(engine.nodes[cid]):
                    engine.add_child(engine.nodes[out_id], sg)
        ok = await _run_group(engine, node, tmpl, sg, group or [], scope)
        previous = sg
        if not ok:
            engine.set_outbound(
                node, [o for c in sg.children for o in engine.outbound(engine.nodes[c])]
            )
            engine.finish(node, FAILED, sg.message)
            return
    if previous is not None:
        engine.set_outbound(
            node, [o for c in previous.children for o in engine.outbound(engine.nodes[c])]
        )
    try:
        node.outputs = engine.template_outputs(tmpl, scope)
    except (ScopeError, TemplateError, ValueError) as exc:
        engine.finish(node, ERROR, str(exc))
        return
    engine.finish(node, SUCCEEDED)


async def _run_group(
    engine: Engine,
    steps_node: Node,
    tmpl: dict[str, Any],
    sg: Node,
    group: list[dict[str, Any]],
    scope: Scope,
) -> bool:
    resolved: list[dict[str, Any]] = []
    hooks = {str(step.get("name")): task_exit_hook(step) for step in group}
    lifecycle_of = {str(step.get("name")): lifecycle.lifecycle_hooks(step) for step in group
                    if not loops.expands(step)}
    try:
        for step in group:
            body = split_hooks(copy.deepcopy(step))
            mark_absent_args(body, scope)
            r: dict[str, Any] = Substituter(scope, strict_prefixes=("tasks", "steps")).obj(body)
            resolve_artifact_args(r, scope)
            resolved.append(r)
        expanded: list[tuple[str, dict[str, Any], str]] = []
        for step in resolved:
            if loops.expands(step):
                for child, body in loops.expand(step, scope):
                    expanded.append((child, body, str(step["name"])))
            else:
                expanded.append((str(step["name"]), step, str(step["name"])))
    except (TemplateError, ScopeError, loops.LoopError) as exc:
        engine.finish(sg, ERROR, str(exc))
        return False

    async def one(child: str, body: dict[str, Any], step_name: str) -> Node | None:
        full = f"{sg.name}.{child}"
        watched = lifecycle.watch(engine, full, lifecycle_of.get(step_name, {}), scope,
                                  steps_node, "steps", step_name, body.get("template"))
        node = await _one(child, body)
        await lifecycle.finish(engine, watched, full, node)
        await run_task_exit_hook(engine, hooks.get(step_name), node, "steps", step_name, scope,
                                 steps_node, body.get("template"))
        return node

    async def _one(child: str, body: dict[str, Any]) -> Node | None:
        full = f"{sg.name}.{child}"
        when = str(body.get("when") or "")
        try:
            proceed = should_execute(when)
        except WhenError as exc:
            n = engine.new_node(
                full, "Skipped", ERROR, str(body.get("template", "")), steps_node, str(exc)
            )
            engine.add_child(sg, n)
            return n
        if not proceed:
            n = engine.new_node(
                full,
                "Skipped",
                SKIPPED,
                str(body.get("template", "")),
                steps_node,
                f"when '{when}' evaluated false",
            )
            engine.add_child(sg, n)
            return n
        return await engine.execute_child(
            steps_node,
            tmpl,
            full,
            str(body["template"]),
            body.get("arguments") or {},
            "step",
            child,
            on_create=lambda n: engine.add_child(sg, n),
        )

    kids = await engine.gather_children(steps_node, tmpl, [one(c, b, n) for c, b, n in expanded])
    by_step: dict[str, list[Node]] = {}
    for (_child, _body, step_name), kid in zip(expanded, kids, strict=True):
        if kid is None:
            continue
        engine.add_child(sg, kid)
        by_step.setdefault(step_name, []).append(kid)
    failed = None
    for (_child, body, _), kid in zip(expanded, kids, strict=True):
        if kid is None or kid.phase not in FAILED_OR_ERROR:
            continue
        cont = body.get("continueOn") or {}
        if (kid.phase == FAILED and cont.get("failed")) or (
            kid.phase == ERROR and cont.get("error")
        ):
            continue
        failed = kid
        break
    for step in resolved:
        name = str(step["name"])
        kids_of = by_step.get(name, [])
        if loops.expands(step):
            try:
                add_aggregate(scope, "steps", name, [k for k in kids_of if k.type != "Skipped"])
            except ScopeError as exc:
                engine.finish(sg, ERROR, str(exc))
                return False
            scope[f"steps.{name}.status"] = sg.phase
        elif kids_of:
            engine.add_task_scope(scope, "steps", name, kids_of[0], step.get("template"))
    if failed is not None:
        engine.finish(sg, FAILED, f"child '{failed.id}' failed")
        return False
    if engine.failfast_blocked(steps_node, tmpl) and len([k for k in kids if k is not None]) < len(
        expanded
    ):
        engine.finish(sg, FAILED, "template has failed or errored children and failFast enabled")
        return False
    engine.finish(sg, SUCCEEDED)
    return True
