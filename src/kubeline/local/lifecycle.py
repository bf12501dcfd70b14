"""Lifecycle hooks on an expression (``hooks: {running: {expression, template}}``).

Argo evaluates a step's or task's hooks (and the workflow's ``spec.hooks``) at every
reconcile of the workflow while the node exists, and runs a hook once, the first time its
expression holds, as the node ``<node>.hooks.<hook>``; the step group, DAG task or workflow
is not done until its hook nodes are. Locally there is no reconcile loop: the expressions
are evaluated at every change of the watched node (created, running, done), which sees every
phase a reconcile could have seen. ``exit`` hooks are exit handlers (exithandler.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubeline.local.nodes import ERROR, Node, node_id
from kubeline.local.scope import Scope, ScopeError
from kubeline.local.templating import Substituter, TemplateError, evaluate_expression

if TYPE_CHECKING:
    from kubeline.local.executor import Engine


def lifecycle_hooks(owner: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A step's, task's or workflow spec's hooks other than ``exit``, by name."""
    hooks = owner.get("hooks") or {}
    return {str(k): v for k, v in hooks.items() if k != "exit" and isinstance(v, dict)}


@dataclass
class HookWatch:
    """The hooks of one watched node; ``check`` on each of its changes, ``wait`` at its end."""

    engine: Engine
    hooks: dict[str, dict[str, Any]]
    scope: Scope
    boundary: Node | None
    prefix: str  # "steps", "tasks", or "workflow" for spec.hooks
    holder: str  # the step's or task's name in expressions
    template_name: Any = None
    fired: dict[str, asyncio.Task[Node]] = field(default_factory=dict)

    def local_scope(self, node: Node) -> Scope:
        local = dict(self.scope)
        if self.prefix == "workflow":
            local["workflow.status"] = node.phase
        else:
            self.engine.add_task_scope(local, self.prefix, self.holder, node, self.template_name)
        return local

    def check(self, node: Node) -> None:
        local = self.local_scope(node)
        for name, hook in self.hooks.items():
            if name in self.fired:
                continue
            try:
                hit = evaluate_expression(str(hook.get("expression") or ""), local)
            except Exception:  # a reference not there yet (outputs of a running step)
                continue
            if hit is True:
                self.fired[name] = asyncio.ensure_future(self._run(name, hook, local, node))

    async def _run(self, name: str, hook: dict[str, Any], local: Scope, node: Node) -> Node:
        from kubeline.local.dag import mark_absent_args, resolve_artifact_args

        hook_name = f"{node.name}.hooks.{name}"
        template = str(hook.get("template") or "")
        body = {"arguments": dict(hook.get("arguments") or {})}
        try:
            mark_absent_args(body, local)
            resolved: dict[str, Any] = Substituter(local).obj(body)
            resolve_artifact_args(resolved, local)
        except (ScopeError, TemplateError) as exc:
            hook_node = self.engine.new_node(hook_name, "Skipped", ERROR, template,
                                             self.boundary, f"hook arguments: {exc}")
        else:
            hook_node = await self.engine.execute_template(
                hook_name, template, resolved["arguments"], self.boundary)
        self.engine.add_child(node, hook_node)
        return hook_node

    async def wait(self) -> list[Node]:
        """The hook nodes that ran, once all are done."""
        return list(await asyncio.gather(*self.fired.values())) if self.fired else []


def watch(engine: Engine, node_name: str, hooks: dict[str, dict[str, Any]], scope: Scope,
          boundary: Node | None, prefix: str, holder: str,
          template_name: Any = None) -> HookWatch | None:
    """Start watching node ``node_name`` (not created yet) for its hooks."""
    if not hooks:
        return None
    w = HookWatch(engine, hooks, scope, boundary, prefix, holder, template_name)
    engine.watchers[node_id(engine.wf_name, node_name)] = w
    return w


async def finish(engine: Engine, w: HookWatch | None, node_name: str,
                 node: Node | None) -> None:
    """The watched node is done: a last check, then wait for the hooks that fired."""
    if w is None:
        return
    engine.watchers.pop(node_id(engine.wf_name, node_name), None)
    if node is not None:
        w.check(node)
    await w.wait()
