"""DAG templates: run every task whose dependencies are fulfilled, then assess the phase.

Follows dag.go: ``depends`` is evaluated once all dependencies are fulfilled (false ->
Omitted, error -> Error); ``when`` is resolved before the rest of the task (false ->
Skipped); tasks see the outputs of their ancestors only; looped tasks get a TaskGroup node;
the DAG's phase comes from Argo's assessDAGPhase walk (branch phases inherited through
Skipped/Omitted nodes, ``failFast`` default true, ``continueOn`` on targets). Differences:
tasks run as soon as they are ready (no reconcile loop), and a reference that can never
resolve errors the task instead of requeueing forever.
"""

from __future__ import annotations

import asyncio
import copy
from collections import deque
from typing import TYPE_CHECKING, Any

from kubeline.local import lifecycle, loops
from kubeline.local.depends import DependsError, DepState, TaskDeps, evaluate, task_dependencies
from kubeline.local.exithandler import run_task_exit_hook, split_hooks, task_exit_hook
from kubeline.local.exprlang import ExprError
from kubeline.local.nodes import (
    ERROR,
    FAILED_OR_ERROR,
    OMITTED,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    Node,
    node_id,
)
from kubeline.local.prewarm import prewarm
from kubeline.local.scope import Scope, ScopeError, add_aggregate, add_node, add_skipped_outputs
from kubeline.local.templating import Substituter, TemplateError, evaluate_expression
from kubeline.local.when import WhenError, should_execute

if TYPE_CHECKING:
    from kubeline.local.executor import Engine

ABSENT_ARG = "__argo-internal.absent-optional-output__"


def leaf_tasks(tasks: dict[str, dict[str, Any]], deps: dict[str, TaskDeps]) -> list[str]:
    depended = {d for td in deps.values() for d in td.names}
    return sorted(n for n in tasks if n not in depended)


class DagRun:
    """The state of one DAG node's execution."""

    def __init__(
        self, engine: Engine, node: Node, tmpl: dict[str, Any], input_scope: Scope
    ) -> None:
        self.engine = engine
        self.node = node
        self.tmpl = tmpl
        dag = tmpl["dag"]
        self.tasks: dict[str, dict[str, Any]] = {t["name"]: t for t in dag.get("tasks") or []}
        self.order = [t["name"] for t in dag.get("tasks") or []]
        self.deps = {n: task_dependencies(t, self.tasks) for n, t in self.tasks.items()}
        target = str(dag.get("target") or "").strip()
        self.targets = target.split(" ") if target else leaf_tasks(self.tasks, self.deps)
        self.task_nodes: dict[str, Node] = {}
        self.input_scope = input_scope
        self.warmed: set[str] = set()

    def ancestors(self, name: str) -> list[str]:
        seen: dict[str, None] = {}

        def visit(n: str) -> None:
            for d in self.deps[n].names:
                if d not in seen:
                    visit(d)
                    seen[d] = None

        visit(name)
        return list(seen)

    def scope_for(self, names: list[str]) -> Scope:
        scope: Scope = dict(self.engine.globals)
        scope.update(self.input_scope)
        for n in names:
            tn = self.task_nodes.get(n)
            if tn is None:
                continue
            self.engine.add_task_scope(scope, "tasks", n, tn, self.tasks[n].get("template"))
        return scope

    async def run(self) -> None:
        for t in self.targets:
            if t not in self.tasks:
                self.engine.finish(
                    self.node,
                    ERROR,
                    f"templates.{self.tmpl['name']}.targets: target '{t}' is not defined",
                )
                return
        needed: set[str] = set()
        for t in self.targets:
            needed.add(t)
            needed.update(self.ancestors(t))
        started: set[str] = set()
        if self.engine.warm is not None:
            self.engine.prewarm_hooks[self.node.id] = lambda: self.prewarm(started, needed)
        try:
            blocked = await self.schedule(needed, started)
        finally:
            self.engine.prewarm_hooks.pop(self.node.id, None)
            if self.engine.warm is not None:  # warmed tasks failFast never started
                for name in self.warmed - started:
                    await self.engine.warm.discard(f"{self.node.name}.{name}")
        self.link_children()
        if blocked and any(n not in started for n in needed):
            self.engine.finish(
                self.node, "Failed", "template has failed or errored children and failFast enabled"
            )
            return
        phase = self.assess()
        self.engine.set_outbound(
            self.node,
            [
                i
                for t in self.targets
                if t in self.task_nodes
                for i in self.engine.outbound(self.task_nodes[t])
            ],
        )
        if phase != SUCCEEDED:
            self.engine.finish(self.node, phase)
            return
        scope = self.scope_for(list(self.tasks))
        try:
            outputs = self.engine.template_outputs(self.tmpl, scope)
        except (ScopeError, TemplateError, ValueError) as exc:
            self.engine.finish(self.node, ERROR, str(exc))
            return
        self.node.outputs = outputs
        self.engine.finish(self.node, SUCCEEDED)

    async def schedule(self, needed: set[str], started: set[str]) -> bool:
        """Start every needed task once its dependencies are fulfilled, until none runs;
        True when failFast stopped starting tasks."""
        running: dict[asyncio.Task[None], str] = {}
        blocked = False
        while True:
            if self.engine.failfast_blocked(self.node, self.tmpl):
                blocked = True
            else:
                for name in self.order:
                    if name in started or name not in needed:
                        continue
                    if all(
                        d in self.task_nodes and self.task_nodes[d].fulfilled
                        for d in self.deps[name].names
                    ):
                        started.add(name)
                        running[asyncio.create_task(self.run_task(name))] = name
            if not running:
                return blocked
            try:
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                await stop_all(running)
                raise
            for finished in done:
                running.pop(finished)
                finished.result()

    def prewarm(self, started: set[str], needed: set[str]) -> None:
        """Pre-start the tasks that wait only on started ones (they run next), then those
        one more task away: a warm process needs about two steps' time to be ready."""
        if self.engine.warm is None:
            return
        ahead = set(started)
        for _ in range(2):
            wave = [
                name for name in self.order
                if name not in ahead and name in needed and self.deps[name].names
                and all(d in ahead for d in self.deps[name].names)
            ]
            for name in wave:
                if name not in self.warmed and prewarm(
                    self.engine, f"{self.node.name}.{name}", self.tasks[name], self.node, name,
                    any(self.runs_process(d) for d in self.deps[name].names),
                ):
                    self.warmed.add(name)
            ahead.update(wave)

    def runs_process(self, task: str) -> bool:
        """The task's node is a pod whose process has started (not a memoize hit)."""
        node = self.engine.nodes.get(node_id(self.engine.wf_name, f"{self.node.name}.{task}"))
        return node is not None and node.type == "Pod" and node.process_starts > 0

    def link_children(self) -> None:
        for name, tn in self.task_nodes.items():
            deps = [d for d in self.deps[name].names if d in self.task_nodes]
            if not deps:
                self.engine.add_child(self.node, tn)
            for d in deps:
                for out_id in self.engine.outbound(self.task_nodes[d]):
                    self.engine.add_child(self.engine.nodes[out_id], tn)

    def assess(self) -> str:
        """Argo's assessDAGPhase over the task graph (all created tasks are fulfilled here)."""
        dependents: dict[str, list[str]] = {n: [] for n in self.task_nodes}
        roots: list[str] = []
        for name in self.task_nodes:
            ds = [d for d in self.deps[name].names if d in self.task_nodes]
            if not ds:
                roots.append(name)
            for d in ds:
                dependents[d].append(name)
        target_phase: dict[str, str] = {t: "" for t in self.targets}
        seen: set[tuple[str, str]] = set()
        queue: deque[tuple[str, str]] = deque()
        for r in roots:
            if (r, SUCCEEDED) not in seen:
                seen.add((r, SUCCEEDED))
                queue.append((r, SUCCEEDED))
        while queue:
            name, branch = queue.popleft()
            node = self.task_nodes[name]
            if not node.fulfilled:
                return RUNNING
            if node.completed:
                branch = node.phase
            if name in target_phase and target_phase[name] not in FAILED_OR_ERROR:
                target_phase[name] = branch
            for child in dependents[name]:
                if (child, branch) not in seen:
                    seen.add((child, branch))
                    queue.append((child, branch))
        fail_fast = self.tmpl["dag"].get("failFast")
        fail_fast = True if fail_fast is None else bool(fail_fast)
        result = SUCCEEDED
        for t in self.targets:
            phase = target_phase.get(t, "")
            if phase == "":
                result = RUNNING
                if not fail_fast:
                    break
            elif phase in FAILED_OR_ERROR:
                cont = self.tasks[t].get("continueOn") or {}
                if (phase == "Failed" and cont.get("failed")) or (
                    phase == ERROR and cont.get("error")
                ):
                    continue
                result = phase
                if fail_fast:
                    break
        if result == RUNNING:
            # every reachable task is done but a target was never created (its branch could
            # not proceed); Argo would wait forever, locally the DAG fails.
            return "Failed"
        return result

    # --- one task ---------------------------------------------------------------------

    def _task_node(self, name: str, node: Node) -> None:
        self.task_nodes[name] = node

    def _terminal(self, name: str, node_type: str, phase: str, message: str) -> None:
        node = self.engine.new_node(
            f"{self.node.name}.{name}",
            node_type,
            phase,
            str(self.tasks[name].get("template", "")),
            self.node,
            message,
        )
        self._task_node(name, node)

    async def run_task(self, name: str) -> None:
        try:
            await self._run_task(name)
        finally:
            if self.engine.warm is not None:  # a warm process it did not use goes
                await self.engine.warm.discard(f"{self.node.name}.{name}")

    async def _run_task(self, name: str) -> None:
        task = self.tasks[name]
        deps = self.deps[name]
        node_name = f"{self.node.name}.{name}"
        if deps.logic:
            states = {}
            for d in deps.names:
                dn = self.task_nodes[d]
                kids = None
                if dn.type == "TaskGroup":
                    kids = tuple(self.engine.nodes[c].phase for c in dn.children)
                states[d] = DepState(dn.phase, kids, dn.daemoned and dn.phase != "Pending")
            try:
                execute = evaluate(deps, states)
            except DependsError as exc:
                self._terminal(name, "Skipped", ERROR, str(exc))
                return
            if not execute:
                self._terminal(name, "Skipped", OMITTED, "omitted: depends condition not met")
                return
        try:
            scope = self.scope_for(self.ancestors(name))
        except ScopeError as exc:
            self._terminal(name, "Skipped", ERROR, str(exc))
            return
        hook = task_exit_hook(task)
        resolved = await self.resolve(name, split_hooks(task), scope)
        if resolved is None:
            return
        if loops.expands(resolved):
            await self.run_loop(name, resolved, scope)
            await run_task_exit_hook(self.engine, hook, self.task_nodes.get(name), "tasks", name,
                                     scope, self.node, resolved.get("template"))
            return
        when = str(resolved.get("when") or "")
        try:
            proceed = should_execute(when)
        except WhenError as exc:
            self._terminal(name, "Skipped", ERROR, str(exc))
            return
        if not proceed:
            self._terminal(name, "Skipped", SKIPPED, f"when '{when}' evaluated false")
            return
        hooks = lifecycle.watch(self.engine, node_name, lifecycle.lifecycle_hooks(task), scope,
                                self.node, "tasks", name, resolved.get("template"))
        node = await self.engine.execute_child(
            self.node,
            self.tmpl,
            node_name,
            str(resolved["template"]),
            resolved.get("arguments") or {},
            "task",
            name,
        )
        await lifecycle.finish(self.engine, hooks, node_name, node)
        if node is not None:  # None: not started because the template's failFast stopped it
            self._task_node(name, node)
            await run_task_exit_hook(self.engine, hook, node, "tasks", name, scope, self.node,
                                     resolved.get("template"))

    async def resolve(self, name: str, task: dict[str, Any], scope: Scope) -> dict[str, Any] | None:
        """Substitute the task against its ancestors' outputs (resolveDependencyReferences)."""
        body = copy.deepcopy(task)
        try:
            when = str(body.get("when") or "")
            if when:
                rw = Substituter(scope, strict_prefixes=("tasks", "steps")).string(when)
                try:
                    if not should_execute(rw) and not loops.expands(body):
                        body["when"] = rw
                        return body
                except WhenError:
                    if not loops.expands(body):
                        raise
            mark_absent_args(body, scope)
            sub = Substituter(scope, strict_prefixes=("tasks", "steps"))
            resolved: dict[str, Any] = sub.obj(body)
            resolve_artifact_args(resolved, scope)
            return resolved
        except (TemplateError, WhenError, ScopeError) as exc:
            self._terminal(name, "Skipped", ERROR, str(exc))
            return None

    async def run_loop(self, name: str, task: dict[str, Any], scope: Scope) -> None:
        try:
            expanded = loops.expand(task, scope)
        except (loops.LoopError, TemplateError) as exc:
            self._terminal(name, "Skipped", ERROR, str(exc))
            return
        if not expanded:
            self._terminal(name, "Skipped", SKIPPED, "Skipped, empty params")
            return
        group = self.engine.new_node(
            f"{self.node.name}.{name}",
            "TaskGroup",
            RUNNING,
            str(task.get("template", "")),
            self.node,
        )
        self._task_node(name, group)

        async def one(child_name: str, body: dict[str, Any]) -> Node | None:
            full = f"{self.node.name}.{child_name}"
            when = str(body.get("when") or "")
            try:
                proceed = should_execute(when)
            except WhenError as exc:
                n = self.engine.new_node(
                    full, "Skipped", ERROR, str(body.get("template", "")), self.node, str(exc)
                )
                self.engine.add_child(group, n)
                return n
            if not proceed:
                n = self.engine.new_node(
                    full,
                    "Skipped",
                    SKIPPED,
                    str(body.get("template", "")),
                    self.node,
                    f"when '{when}' evaluated false",
                )
                self.engine.add_child(group, n)
                return n
            return await self.engine.execute_child(
                self.node,
                self.tmpl,
                full,
                str(body["template"]),
                body.get("arguments") or {},
                "task",
                child_name,
                on_create=lambda n: self.engine.add_child(group, n),
            )

        kids = await self.engine.gather_children(
            self.node, self.tmpl, [one(cn, b) for cn, b in expanded]
        )
        started = [k for k in kids if k is not None]
        for k in started:
            self.engine.add_child(group, k)
        phase = SUCCEEDED
        for k in started:
            if k.phase in FAILED_OR_ERROR:
                phase = k.phase
        if len(started) < len(kids) and phase == SUCCEEDED:
            phase = "Failed"
        self.engine.finish(group, phase)


async def stop_all(tasks: dict[asyncio.Task[None], str]) -> None:
    """Cancel the tasks and wait until each has done its own cleanup (killed its process):
    a cancelled ``asyncio.wait``, unlike ``gather``, leaves its tasks running, and they
    would go on starting steps after the run has closed its fork servers and warm pool."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def mark_absent_args(task: dict[str, Any], scope: Scope) -> None:
    """Pure references to absent optional outputs become Argo's sentinel (input default applies)."""
    for p in (task.get("arguments") or {}).get("parameters") or []:
        v = p.get("value")
        if isinstance(v, str) and v.startswith("{{") and v.endswith("}}"):
            key = v[2:-2].strip()
            if "{{" not in key and key in scope and scope[key] is None:
                p["value"] = ABSENT_ARG


def resolve_artifact_args(task: dict[str, Any], scope: Scope) -> None:
    """``from: "{{tasks.X.outputs.artifacts.Y}}"`` -> the producer's artifact location."""
    args = task.get("arguments") or {}
    out = []
    for art in args.get("artifacts") or []:
        ref = art.get("from")
        if art.get("fromExpression"):
            merged = dict(artifact_from_expression(art, scope))
            merged.pop("path", None)
            merged.pop("mode", None)
            merged.pop("globalName", None)
            merged["name"] = art["name"]
            out.append(merged)
            continue
        if not ref:
            out.append(art)
            continue
        key = str(ref).strip()
        if key.startswith("{{") and key.endswith("}}"):
            key = key[2:-2].strip()
        found = scope.get(key)
        if not isinstance(found, dict):
            if art.get("optional"):
                continue
            raise ScopeError(f"Unable to resolve: {ref}")
        merged = {k: v for k, v in found.items() if k not in ("path", "mode", "globalName")}
        merged["name"] = art["name"]
        if art.get("subPath"):
            try:
                merged = append_to_key(merged, str(art["subPath"]))
            except ScopeError:
                if art.get("optional"):
                    continue
                raise
        out.append(merged)
    if args.get("artifacts") is not None:
        args["artifacts"] = out


def append_to_key(art: dict[str, Any], sub_path: str) -> dict[str, Any]:
    """An argument's ``subPath``: the resolved artifact's key with the sub-path joined on
    (Argo's AppendToKey), so the input is that file or folder inside the artifact."""
    out = copy.deepcopy(art)
    for loc, field in (("s3", "key"), ("azure", "blob")):
        if loc in out:
            base = str(out[loc].get(field) or "").rstrip("/")
            out[loc][field] = f"{base}/{sub_path.lstrip('/')}" if base else sub_path
            return out
    raise ScopeError(f"artifact '{art.get('name')}': subPath {sub_path!r} needs an artifact "
                     "with a key (s3, azure); this one has none")


def artifact_from_expression(art: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """``fromExpression``: the artifact an expression over the scope gives (Argo's
    resolveArtifact); anything but an artifact is an error, optional or not, as in Argo."""
    source = str(art["fromExpression"])
    try:
        found = evaluate_expression(source, scope)
    except (ExprError, TemplateError) as exc:
        raise ScopeError(f"artifact '{art.get('name')}': fromExpression {source!r}: {exc}") from exc
    if not isinstance(found, dict) or not found:
        raise ScopeError(
            f"artifact '{art.get('name')}': fromExpression {source!r} is not an artifact"
        )
    return found


__all__ = [
    "ABSENT_ARG",
    "DagRun",
    "add_aggregate",
    "add_node",
    "add_skipped_outputs",
    "artifact_from_expression",
    "leaf_tasks",
]
