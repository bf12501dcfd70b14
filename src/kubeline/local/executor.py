"""The scheduler: executes templates as Argo's operator does, as asyncio tasks.

``Engine.execute_template`` mirrors operator.go executeTemplate: process arguments and tags,
check the memoization cache, wrap in a Retry node when a retryStrategy applies, then run the
template by type. Leaf processes are bounded by a run-wide semaphore (default: the number of
cores, lowered by ``spec.parallelism``); children of a DAG/steps template by its
``parallelism``. Every node change is written to the state database before anything depends
on it, so a killed runner can resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import difflib
import os
import random
import re
import shutil
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from kubeline.exceptions import KubelineError, ValidationError
from kubeline.local import images, lifecycle, procs
from kubeline.local import manifest as manifest_mod
from kubeline.local.artifacts import Repository, has_location
from kubeline.local.daemons import LOOPBACK_IP, Daemon, Daemons, ProbeError, first_of, wait_ready
from kubeline.local.dag import artifact_from_expression
from kubeline.local.exithandler import final_phase, run_exit_handler
from kubeline.local.forkclient import ForkServers
from kubeline.local.forkclient import enabled as forks_enabled
from kubeline.local.leaf import LeafContext, LeafResult, run_leaf
from kubeline.local.lifecycle import HookWatch
from kubeline.local.memo import MemoCache, MemoError, parse_duration_or_seconds
from kubeline.local.nodes import (
    ERROR,
    FAILED,
    FAILED_OR_ERROR,
    FULFILLED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    Node,
    Outputs,
    display_name,
    go_json,
    node_id,
    pod_name,
)
from kubeline.local.podspec import PodSpecPatchError, apply_pod_spec_patches
from kubeline.local.resources import ResourceError, prepare_pod
from kubeline.local.sandbox import Sandbox, default_passthrough, detect_mode
from kubeline.local.scope import (
    Scope,
    ScopeError,
    add_aggregate,
    add_node,
    add_skipped_outputs,
    param_string,
    resolve_var,
)
from kubeline.local.state import RunLock, RunLocked, StateStore
from kubeline.local.summary import RunSummary, build_summary
from kubeline.local.sync import Locks, SyncError
from kubeline.local.templating import TemplateError, evaluate_expression, substitute
from kubeline.local.warmpool import WarmPool

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
REPOSITORY_DIR = "datastores"
"""The local artifact repository under the state dir: key-only ``s3: {key: <datastore>/<path>}``
locations resolve here, which is where kubeline's local datastores live (compiler contract)."""
_POD_TYPES = ("container", "script", "containerSet", "resource")


class Reporter(Protocol):
    """Receives progress events (progress.py has the terminal implementations)."""

    def run_started(self, run_id: str, sandbox: str, resumed: bool) -> None: ...

    def node_updated(self, node: Node) -> None: ...

    def run_finished(self, summary: RunSummary) -> None: ...


class NullReporter:
    def run_started(self, run_id: str, sandbox: str, resumed: bool) -> None:
        return None

    def node_updated(self, node: Node) -> None:
        return None

    def run_finished(self, summary: RunSummary) -> None:
        return None


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


class ArgsError(Exception):
    """Arguments do not satisfy the template's inputs (node errors)."""


class Engine:
    """Runs one workflow; holds its nodes, globals and limits."""

    def __init__(
        self,
        *,
        manifest: manifest_mod.Manifest,
        run_id: str,
        uid: str,
        created: str,
        state: StateStore,
        state_dir: Path,
        recorded: list[Node],
        limit: int,
        reporter: Reporter,
        sandbox: Sandbox,
    ) -> None:
        self.manifest = manifest
        self.spec = manifest.spec
        self.templates = manifest.templates
        self.wf_name = run_id
        self.uid = uid
        self.state = state
        self.state_dir = state_dir
        self.run_dir = state_dir / "runs" / run_id
        self.recorded = {n.name: n for n in recorded}
        self.reporter = reporter
        self.sandbox = sandbox
        self.repo = Repository(state_dir / REPOSITORY_DIR)
        self.memo = MemoCache(state_dir / "cache")
        self.nodes: dict[str, Node] = {}
        self.outbounds: dict[str, list[str]] = {}
        self.seq = 0
        self.unsuccessful: dict[str, int] = {}
        self.child_sems: dict[str, asyncio.Semaphore] = {}
        self.wf_outputs: dict[str, list[dict[str, Any]]] = {"parameters": [], "artifacts": []}
        spec_par = self.spec.get("parallelism")
        if spec_par not in (None, ""):
            limit = min(limit, max(1, int(spec_par)))
        self.pod_slots = asyncio.Semaphore(max(1, limit))
        self.locks = Locks(manifest.configmaps)  # synchronization mutexes and semaphores
        self.globals: Scope = {}
        self.created = created
        self._template_json: dict[str, str] = {}
        self.shim_bin = _python_shims(state_dir)
        # the run's mark: its processes are found by it whoever their parent is now
        self.base_env = {**os.environ, procs.RUN_MARK: uid}
        self.cwd = os.getcwd()
        # KUBELINE_WARM=0 starts every node cold (benchmarks compare, tests prove equality)
        warm_off = os.environ.get("KUBELINE_WARM", "").strip().lower() in ("0", "false", "no")
        # room for the next node of every running branch, and the one after
        self.warm: WarmPool | None = None if warm_off else WarmPool(2 * max(1, limit))
        # step shims are forked by a per-run fork server (forkclient.py); KUBELINE_FORKSERVER=0
        self.forks: ForkServers | None = (
            ForkServers(self.run_dir, sandbox) if forks_enabled() and sandbox.mode == "bwrap"
            else None)
        # per DAG node: what to pre-start once one of its pods runs (the executor is idle then)
        self.prewarm_hooks: dict[str, Callable[[], None]] = {}
        self.wf_deadline: float | None = None  # spec.activeDeadlineSeconds (time.monotonic)
        self.daemons = Daemons(self.finish)  # daemon pods, by the scope whose end stops them
        self.daemon_results: dict[str, LeafResult] = {}
        self.watchers: dict[str, HookWatch] = {}  # node id -> its lifecycle hooks

    # --- nodes --------------------------------------------------------------------------

    def new_node(
        self,
        name: str,
        node_type: str,
        phase: str,
        template_name: str,
        boundary: Node | None,
        message: str = "",
        *,
        retried: bool = False,
        outputs: Outputs | None = None,
        memoization: dict[str, Any] | None = None,
    ) -> Node:
        """Create, record and announce a node; outputs and memoization (a cache hit) are set
        before the first announcement, so observers never see a hit without its outputs."""
        nid = node_id(self.wf_name, name)
        t = now()
        node = Node(
            id=nid,
            name=name,
            display_name=display_name(name, boundary.name if boundary else None),
            type=node_type,
            phase=phase,
            template_name=template_name,
            boundary_id=boundary.id if boundary else "",
            message=message,
            started_at=t,
            finished_at=t if phase in FULFILLED else "",
            retried=retried,
        )
        node.outputs = outputs
        if memoization is not None:
            node.memoization = memoization
        node.start_seq = self.tick()
        if phase in FULFILLED:
            node.finish_seq = self.tick()
        self.nodes[nid] = node
        self.save(node)
        if phase in FAILED_OR_ERROR and node.boundary_id:
            self.unsuccessful[node.boundary_id] = self.unsuccessful.get(node.boundary_id, 0) + 1
        return node

    def tick(self) -> int:
        """A run-wide event counter: orders node starts and finishes without clocks."""
        self.seq += 1
        return self.seq

    def save(self, node: Node) -> None:
        self.state.save_node(self.wf_name, node)
        self.reporter.node_updated(node)
        watcher = self.watchers.get(node.id)
        if watcher is not None:  # lifecycle hooks on an expression (lifecycle.py)
            watcher.check(node)

    def finish(self, node: Node, phase: str, message: str | None = None) -> None:
        node.phase = phase
        if message is not None:
            node.message = message
        if not node.finished_at:
            node.finished_at = now()
        if not node.finish_seq:
            node.finish_seq = self.tick()
        if phase in FAILED_OR_ERROR and node.boundary_id and node.type != "StepGroup":
            self.unsuccessful[node.boundary_id] = self.unsuccessful.get(node.boundary_id, 0) + 1
        self.save(node)

    def add_child(self, parent: Node, child: Node) -> None:
        if child.id not in parent.children:
            parent.children.append(child.id)
            self.save(parent)

    def set_outbound(self, node: Node, ids: list[str]) -> None:
        self.outbounds[node.id] = ids

    def outbound(self, node: Node) -> list[str]:
        """Argo's getOutboundNodes: the leaves that a dependent connects to."""
        if node.type == "Retry":
            return self.outbound(self.nodes[node.children[-1]]) if node.children else [node.id]
        if node.type in ("TaskGroup", "StepGroup"):
            out = [o for c in node.children for o in self.outbound(self.nodes[c])]
            return out or [node.id]
        if node.type in ("DAG", "Steps"):
            return self.outbounds.get(node.id) or [node.id]
        return [node.id]

    def last_attempt(self, node: Node) -> Node | None:
        if node.type == "Retry" and node.children:
            return self.nodes[node.children[-1]]
        return None

    def failfast_blocked(self, boundary: Node, tmpl: dict[str, Any]) -> bool:
        return bool(tmpl.get("failFast")) and self.unsuccessful.get(boundary.id, 0) > 0

    def add_task_scope(
        self, scope: Scope, prefix: str, name: str, node: Node, template_name: Any
    ) -> None:
        if node.type == "TaskGroup":
            add_aggregate(scope, prefix, name, [self.nodes[c] for c in node.children])
        add_node(scope, prefix, name, node, self.last_attempt(node))
        add_skipped_outputs(scope, prefix, name, node, self.templates.get(str(template_name)))

    def publish_globals(self, outputs: Outputs | None) -> None:
        if outputs is None:
            return
        for p in outputs.parameters:
            g = p.get("globalName")
            if g and p.get("value") is not None:
                value = param_string(p["value"])
                self.globals[f"workflow.outputs.parameters.{g}"] = value
                self._set_wf_output("parameters", {"name": g, "value": value})
        for a in outputs.artifacts:
            g = a.get("globalName")
            if g:
                art = {**a, "name": g}
                self.globals[f"workflow.outputs.artifacts.{g}"] = art
                self._set_wf_output("artifacts", art)

    def _set_wf_output(self, kind: str, entry: dict[str, Any]) -> None:
        items = [e for e in self.wf_outputs[kind] if e["name"] != entry["name"]]
        items.append(entry)
        self.wf_outputs[kind] = items

    # --- templates ----------------------------------------------------------------------

    def template_json(self, name: str) -> str:
        if name not in self._template_json:
            self._template_json[name] = go_json(self.templates.get(name, {}))
        return self._template_json[name]

    def include_result(self, node_name: str, boundary: Node | None) -> bool:
        """Argo captures stdout only when the parent template references it."""
        if boundary is None:
            return False
        parent = self.templates.get(boundary.template_name)
        if parent is None:
            return False
        name = _step_or_task_name(node_name)
        prefix = "tasks" if "dag" in parent else "steps"
        text = self.template_json(boundary.template_name)
        return bool(
            re.search(f"{prefix}\\.{re.escape(name)}\\.outputs\\.result", text)
            or re.search(f"{prefix}\\[['\"]{re.escape(name)}['\"]\\]\\.outputs.result", text)
        )

    def process_args(
        self, tmpl: dict[str, Any], args: dict[str, Any], local: dict[str, str]
    ) -> dict[str, Any]:
        """Merge arguments into inputs and substitute tags (common.ProcessArgs)."""
        from kubeline.local.dag import ABSENT_ARG

        t = copy.deepcopy(tmpl)
        inputs = t.setdefault("inputs", {})
        arg_params = {str(p["name"]): p for p in args.get("parameters") or []}
        arg_arts = {str(a["name"]): a for a in args.get("artifacts") or []}
        for p in inputs.get("parameters") or []:
            name = str(p["name"])
            value = p.get("value", p.get("default"))
            if name in arg_params:
                a = arg_params[name]
                if a.get("value") == ABSENT_ARG:
                    if p.get("default") is None and p.get("value") is None:
                        raise ArgsError(
                            f"inputs.parameters.{name}: argument references an absent optional "
                            "(skipped/omitted node output with no default) and the input has none"
                        )
                elif "value" in a:
                    value = a["value"]
                    p.pop("valueFrom", None)
                elif (a.get("valueFrom") or {}).get("configMapKeyRef"):
                    value = self._configmap_value(a["valueFrom"], name)
            if value is None and (p.get("valueFrom") or {}).get("configMapKeyRef"):
                value = self._configmap_value(p["valueFrom"], name)
            if value is None:
                raise ArgsError(f"inputs.parameters.{name} was not supplied")
            p["value"] = param_string(value)
        for a in inputs.get("artifacts") or []:
            name = str(a["name"])
            if name in arg_arts:
                merged = {
                    k: v
                    for k, v in arg_arts[name].items()
                    if k not in ("path", "mode", "recurseMode")
                }
                for k in ("path", "mode", "recurseMode"):
                    if k in a:
                        merged[k] = a[k]
                a.clear()
                a.update(merged)
            elif not has_location(a) and not a.get("optional"):
                raise ArgsError(f"inputs.artifacts.{name} was not supplied")
        scope: Scope = dict(self.globals)
        scope.update(local)
        t = substitute(t, scope)
        scope2: Scope = dict(self.globals)
        scope2.update(local)
        scope2.update(input_scope(t))
        processed: dict[str, Any] = substitute(t, scope2)
        return processed

    def _configmap_value(self, value_from: dict[str, Any], name: str) -> str | None:
        ref = value_from["configMapKeyRef"]
        cm = self.manifest.configmaps.get(str(ref.get("name")))
        if cm is not None and str(ref.get("key")) in cm:
            return cm[str(ref["key"])]
        if value_from.get("default") is not None:
            return param_string(value_from["default"])
        if ref.get("optional"):
            return None
        raise ArgsError(f"{name}: configmap {ref.get('name')} key {ref.get('key')} not found")

    def template_outputs(self, tmpl: dict[str, Any], scope: Scope) -> Outputs | None:
        """Outputs of a DAG/steps template from its scope (getTemplateOutputsFromScope)."""
        outs = tmpl.get("outputs") or {}
        if not outs.get("parameters") and not outs.get("artifacts"):
            return None
        result = Outputs()
        for p in outs.get("parameters") or []:
            vf = p.get("valueFrom")
            if not vf:
                raise ScopeError(f"output parameter '{p['name']}' must have a valueFrom specified")
            try:
                if vf.get("expression"):
                    val: Any = evaluate_expression(str(vf["expression"]), scope)
                    if val is None:
                        raise ScopeError(f"failed to evaluate expression {vf['expression']!r}")
                    skipped = False
                elif vf.get("parameter"):
                    val = resolve_var(str(vf["parameter"]), scope)
                    skipped = val is None
                else:
                    val, skipped = "", False
            except Exception as exc:
                if vf.get("default") is None:
                    raise ScopeError(f"output parameter '{p['name']}': {exc}") from exc
                val, skipped = param_string(vf["default"]), False
            if skipped and vf.get("default") is not None:
                val = param_string(vf["default"])
            if val is None:
                raise ScopeError(
                    f"output parameter '{p['name']}': '{vf.get('parameter')}' is an absent optional"
                )
            entry = {"name": p["name"], "value": param_string(val)}
            if p.get("globalName"):
                entry["globalName"] = p["globalName"]
            result.parameters.append(entry)
        for a in outs.get("artifacts") or []:
            ref = a.get("from")
            if a.get("fromExpression"):
                found = artifact_from_expression(a, scope)
            elif not ref:
                continue
            else:
                try:
                    found = resolve_var(str(ref), scope)
                except ScopeError:
                    if a.get("optional"):
                        continue
                    raise
            if isinstance(found, dict):
                art = {k: v for k, v in found.items() if k not in ("globalName",)}
                art["name"] = a["name"]
                if a.get("globalName"):
                    art["globalName"] = a["globalName"]
                result.artifacts.append(art)
        return result

    # --- execution ----------------------------------------------------------------------

    async def gather_children(
        self, boundary: Node, tmpl: dict[str, Any], coros: list[Awaitable[Any]]
    ) -> list[Any]:
        return list(await asyncio.gather(*coros))

    async def execute_child(
        self,
        boundary: Node,
        boundary_tmpl: dict[str, Any],
        name: str,
        template_name: str,
        args: dict[str, Any],
        kind: str,
        holder: str,
        on_create: Callable[[Node], Any] | None = None,
    ) -> Node | None:
        """Start one child of a DAG/steps node, honouring its parallelism and failFast."""
        if self.failfast_blocked(boundary, boundary_tmpl):
            return None
        sem = self._child_sem(boundary, boundary_tmpl)
        if sem is None:
            node = await self.execute_template(name, template_name, args, boundary, kind, holder)
        else:
            async with sem:
                if self.failfast_blocked(boundary, boundary_tmpl):
                    return None
                node = await self.execute_template(
                    name, template_name, args, boundary, kind, holder
                )
        if on_create is not None:
            on_create(node)
        return node

    def _child_sem(self, boundary: Node, tmpl: dict[str, Any]) -> asyncio.Semaphore | None:
        par = tmpl.get("parallelism")
        if par in (None, ""):
            return None
        if boundary.id not in self.child_sems:
            self.child_sems[boundary.id] = asyncio.Semaphore(max(1, int(par)))
        return self.child_sems[boundary.id]

    async def execute_template(
        self,
        name: str,
        template_name: str,
        args: dict[str, Any],
        boundary: Node | None,
        kind: str | None = None,
        holder: str | None = None,
    ) -> Node:
        tmpl = self.templates.get(template_name)
        if tmpl is None:
            return self.new_node(
                name,
                "Skipped",
                ERROR,
                template_name,
                boundary,
                f"template '{template_name}' undefined",
            )
        local = {"node.name": name}
        if kind == "task" and holder:
            local["tasks.name"] = holder
        elif kind == "step" and holder:
            local["steps.name"] = holder
        # an empty retryStrategy ({}) still retries, without limit (Argo tests for nil)
        retry = tmpl.get("retryStrategy")
        if retry is None:
            retry = self.spec.get("retryStrategy")
        if _is_pod(tmpl) and retry is None:
            local["pod.name"] = pod_name(self.wf_name, name, template_name)
        try:
            processed = self.process_args(tmpl, args, local)
        except (ArgsError, TemplateError) as exc:
            return self.new_node(name, "Skipped", ERROR, template_name, boundary, str(exc))
        memo = processed.get("memoize")
        memo_status: dict[str, Any] | None = None
        if memo:
            cache = str(((memo.get("cache") or {}).get("configMap") or {}).get("name", ""))
            key = str(memo.get("key", ""))
            try:
                hit = self.memo.load(cache, key, str(memo.get("maxAge") or ""))
            except MemoError as exc:
                return self.new_node(name, "Skipped", ERROR, template_name, boundary, str(exc))
            memo_status = {"hit": hit is not None, "key": key, "cacheName": cache}
            if hit is not None:
                node = self.new_node(
                    name, _node_type(processed), SUCCEEDED, template_name, boundary,
                    outputs=Outputs.from_json(hit), memoization=memo_status,
                )
                self.publish_globals(node.outputs)
                return node
        if retry is not None:
            if processed.get("retryStrategy") is not None:  # its tags substituted, as Argo's
                retry = processed["retryStrategy"]
            node = await self.run_retry(name, processed, retry, boundary, template_name)
        else:
            node = await self.run_type(
                name, processed, boundary, template_name, memo_status=memo_status
            )
        if memo and memo_status is not None:
            node.memoization = memo_status
            if node.phase == SUCCEEDED:
                try:
                    self.memo.save(
                        memo_status["cacheName"],
                        memo_status["key"],
                        node.id,
                        (node.outputs or Outputs()).to_json(),
                    )
                except (MemoError, OSError) as exc:
                    node.phase, node.message = ERROR, str(exc)
            self.save(node)
        return node

    async def run_type(
        self,
        name: str,
        tmpl: dict[str, Any],
        boundary: Node | None,
        template_name: str,
        *,
        retried: bool = False,
        memo_status: dict[str, Any] | None = None,
    ) -> Node:
        try:
            locks = self.locks.plan(tmpl.get("synchronization"))
        except SyncError as exc:
            return self.new_node(name, _node_type(tmpl), ERROR, template_name, boundary,
                                 str(exc), retried=retried)
        async with self.locks.hold(locks):
            return await self._run_type(name, tmpl, boundary, template_name, retried=retried,
                                        memo_status=memo_status)

    async def _run_type(
        self,
        name: str,
        tmpl: dict[str, Any],
        boundary: Node | None,
        template_name: str,
        *,
        retried: bool = False,
        memo_status: dict[str, Any] | None = None,
    ) -> Node:
        if _is_pod(tmpl):
            return await self.run_pod(name, tmpl, boundary, template_name, retried)
        node_type = "DAG" if "dag" in tmpl else "Steps"
        node = self.new_node(name, node_type, RUNNING, template_name, boundary, retried=retried)
        if memo_status is not None:
            node.memoization = memo_status
        scope = input_scope(tmpl)
        if "dag" in tmpl:
            from kubeline.local.dag import DagRun

            await DagRun(self, node, tmpl, scope).run()
        else:
            from kubeline.local.steps import run_steps

            await run_steps(self, node, tmpl, scope)
        await self.daemons.stop(node.id)  # killDaemonedChildren when the scope ends
        self.publish_globals(node.outputs)
        return node

    async def run_pod(
        self,
        name: str,
        tmpl: dict[str, Any],
        boundary: Node | None,
        template_name: str,
        retried: bool,
    ) -> Node:
        node = self.new_node(name, "Pod", PENDING, template_name, boundary, retried=retried)
        node.pod_name = pod_name(self.wf_name, name, template_name)
        node.image = str((tmpl.get("container") or tmpl.get("script") or {}).get("image", ""))
        rec = self.recorded.get(name)
        if rec is not None and rec.type == "Pod" and rec.fulfilled and not rec.daemoned:
            node.phase, node.message, node.outputs = rec.phase, rec.message, rec.outputs
            node.started_at, node.finished_at = rec.started_at, rec.finished_at
            node.process_starts, node.log_path = rec.process_starts, rec.log_path
            self.finish(node, rec.phase)
            self.publish_globals(node.outputs)
            return node
        if rec is not None:
            node.process_starts = rec.process_starts
        node_dir = self.run_dir / "nodes" / node.id
        daemon = bool(tmpl.get("daemon")) and str(tmpl.get("daemon")).lower() != "false"
        async with contextlib.AsyncExitStack() as slot:
            if not daemon:  # a daemon runs on beside the rest: it takes no pod slot
                await slot.enter_async_context(self.pod_slots)
            if self.warm is not None and self.warm.adopt(name):
                node_dir.mkdir(parents=True, exist_ok=True)  # prepared for its warm process
            else:
                if node_dir.exists():
                    shutil.rmtree(node_dir)
                node_dir.mkdir(parents=True)
            node.log_path = str(node_dir)

            def started() -> None:
                node.phase = RUNNING
                node.process_starts += 1
                node.started_at = now()
                node.start_seq = self.tick()
                self.save(node)

            try:
                tmpl, gpu_vars, warning = prepare_pod(apply_pod_spec_patches(tmpl),
                                                      self.repo.root)
            except (ResourceError, PodSpecPatchError) as exc:
                tmpl, gpu_vars, warning = {}, {}, ""
                result = LeafResult(ERROR, str(exc), Outputs(), node_dir)
            if warning:
                print(f"{warning} [{name}]", file=sys.stderr)
            ctx = self.leaf_context(name, node.pod_name, node_dir, gpu_vars, boundary)
            ctx.on_start = started
            hook = self.prewarm_hooks.get(boundary.id) if boundary is not None else None
            if hook is not None:
                ctx.on_spawn = hook
            if tmpl and daemon:
                up = await self.start_daemon(node, tmpl, ctx, boundary)
                if up is not None:
                    return up
                result = self.daemon_results.pop(node.id)
            elif tmpl:
                result = await run_leaf(tmpl, ctx)
            for done in ctx.containers:  # a containerSet's containers: Container nodes
                self.add_child(node, self.new_node(
                    f"{name}.{done.name}", "Container", done.phase, template_name, node,
                    done.message))
        self.end_pod(node, result)
        return node

    def end_pod(self, node: Node, result: LeafResult) -> None:
        node.outputs = result.outputs if (result.outputs.to_json()) else None
        self.finish(node, result.phase, result.message)
        self.publish_globals(node.outputs)

    async def start_daemon(self, node: Node, tmpl: dict[str, Any], ctx: LeafContext,
                           boundary: Node | None) -> Node | None:
        """Run a daemon pod in the background; the node, Running and daemoned, once its
        container is up and ready; None when it ended first (its result is kept in
        ``daemon_results``)."""
        main_up = asyncio.Event()
        ctx.on_main_started = main_up.set
        run = asyncio.create_task(run_leaf(tmpl, ctx))

        async def ready() -> None:
            await main_up.wait()
            await wait_ready(tmpl.get("container") or tmpl.get("script") or {})

        try:
            is_up = await first_of(ready(), run)
        except ProbeError as exc:
            run.cancel()
            with contextlib.suppress(BaseException):
                await run
            self.daemon_results[node.id] = LeafResult(ERROR, str(exc), Outputs(), ctx.node_dir)
            return None
        except BaseException:
            run.cancel()
            with contextlib.suppress(BaseException):
                await run
            raise
        if not is_up:
            result = run.result()
            if result.phase == SUCCEEDED:  # Argo: "Daemoned pod succeeded. Marking it as failed"
                result = LeafResult(FAILED, result.message, result.outputs, result.log_dir)
            self.daemon_results[node.id] = result
            return None
        node.daemoned = True
        node.pod_ip = LOOPBACK_IP
        self.save(node)
        entry = Daemon(node=node, task=run)
        self.daemons.add(boundary.id if boundary is not None else "", entry)

        def ended(task: asyncio.Task[LeafResult]) -> None:
            if entry.stopped or task.cancelled():
                return
            result = task.result() if task.exception() is None else LeafResult(
                ERROR, str(task.exception()), Outputs(), ctx.node_dir)
            node.daemoned = False
            phase = FAILED if result.phase == SUCCEEDED else result.phase
            self.end_pod(node, LeafResult(phase, result.message or "daemon ended",
                                          result.outputs, result.log_dir))
            for wrapper in entry.wrappers:
                wrapper.daemoned = False
                self.finish(wrapper, node.phase, node.message)

        run.add_done_callback(ended)
        return node

    def leaf_context(
        self, name: str, pod: str, node_dir: Path, gpu_vars: dict[str, str],
        boundary: Node | None,
    ) -> LeafContext:
        """What the leaf runner needs for node ``name`` (also to predict its launch)."""
        env = dict(self.base_env)
        env.update(
            {
                "ARGO_POD_NAME": pod,
                "ARGO_NODE_ID": node_id(self.wf_name, name),
                "ARGO_CONTAINER_NAME": "main",
            }
        )
        env.update(gpu_vars)
        return LeafContext(
            workflow_name=self.wf_name,
            pod=pod,
            node_dir=node_dir,
            sandbox=self.sandbox,
            repo=self.repo,
            configmaps=self.manifest.configmaps,
            workflow_volumes=list(self.spec.get("volumes") or []),
            base_env=env,
            shim_bin=self.shim_bin,
            cwd=self.cwd,
            include_result=self.include_result(name, boundary),
            warm=self.warm,
            warm_key=name,
            forks=self.forks,
            shared_volumes=self.run_dir / "volumes" if self.sandbox.mode == "bwrap" else None,
            wf_deadline=self.wf_deadline,
        )

    async def run_retry(
        self,
        name: str,
        tmpl: dict[str, Any],
        retry: dict[str, Any],
        boundary: Node | None,
        template_name: str,
    ) -> Node:
        """A Retry node whose children are the attempts ``name(0)``, ``name(1)``, ... ."""
        rnode = self.new_node(name, "Retry", RUNNING, template_name, boundary)
        expression = str(retry.get("expression") or "")
        policy = str(retry.get("retryPolicy") or ("Always" if expression else "OnFailure"))
        if policy not in ("Always", "OnFailure", "OnError", "OnTransientError"):
            self.finish(rnode, ERROR, f"{policy} is not a valid RetryPolicy")
            return rnode
        limit = int(str(retry["limit"])) if retry.get("limit") not in (None, "") else None
        backoff = retry.get("backoff") or {}
        n = 0
        last: Node | None = None
        while True:
            child_name = f"{name}({n})"
            local = {
                "retries": str(n),
                "lastRetry.exitCode": "0",
                "lastRetry.status": "",
                "lastRetry.duration": "0",
                "lastRetry.message": "",
            }
            if _is_pod(tmpl):
                local["pod.name"] = pod_name(self.wf_name, child_name, template_name)
            if last is not None:
                local["lastRetry.exitCode"] = (
                    last.outputs.exit_code if last.outputs and last.outputs.exit_code else "0"
                )
                local["lastRetry.status"] = last.phase
                local["lastRetry.duration"] = _duration(last)
                local["lastRetry.message"] = last.message
            attempt_tmpl = substitute(tmpl, local)
            child = await self.run_type(
                child_name, attempt_tmpl, boundary, template_name, retried=True
            )
            self.add_child(rnode, child)
            last = child
            if child.daemoned:  # up and running: the Retry node is daemoned with it
                rnode.daemoned, rnode.pod_ip = True, child.pod_ip
                self.save(rnode)
                self.daemons.wrap(child, rnode)
                return rnode
            if child.phase not in FAILED_OR_ERROR:
                rnode.outputs = child.outputs
                self.finish(rnode, SUCCEEDED if child.phase == SUCCEEDED else child.phase)
                return rnode
            attempts = n + 1
            if self.wf_deadline is not None and time.monotonic() >= self.wf_deadline:
                self.finish(rnode, child.phase, "retry exceeded workflow deadline")
                return rnode
            wait = 0.0
            if backoff:
                try:
                    stop, wait = self._backoff(backoff, rnode, child, attempts)
                except (MemoError, ValueError) as exc:
                    self.finish(rnode, ERROR, str(exc))
                    return rnode
                if stop:
                    self.finish(rnode, child.phase, stop)
                    return rnode
            if not _policy_allows(policy, child):
                self.finish(rnode, child.phase, child.message)
                return rnode
            if limit is not None and attempts > limit:
                self.finish(rnode, child.phase, "No more retries left")
                return rnode
            if expression:
                scope = {
                    "retries": str(attempts - 1),
                    "lastRetry.exitCode": (
                        child.outputs.exit_code
                        if child.outputs and child.outputs.exit_code
                        else "-1"
                    ),
                    "lastRetry.status": child.phase,
                    "lastRetry.duration": _duration(child),
                    "lastRetry.message": child.message,
                }
                try:
                    go_on = evaluate_expression(expression, scope)
                except Exception as exc:
                    self.finish(rnode, ERROR, f"retryStrategy.expression: {exc}")
                    return rnode
                if go_on is not True:
                    self.finish(rnode, child.phase, "retryStrategy.expression evaluated to false")
                    return rnode
            if wait > 0:
                remaining = (
                    _parse_time(child.finished_at) + wait - datetime.now(timezone.utc).timestamp()
                )
                if remaining > 0:
                    rnode.message = f"Backoff for {remaining:.0f}s"
                    self.save(rnode)
                    await asyncio.sleep(remaining)
            n += 1

    def _backoff(
        self, backoff: dict[str, Any], rnode: Node, child: Node, attempts: int
    ) -> tuple[str, float]:
        first = self.nodes[rnode.children[0]]
        deadline = None
        if backoff.get("maxDuration") not in (None, ""):
            deadline = _parse_time(first.started_at) + parse_duration_or_seconds(
                backoff["maxDuration"]
            )
            if datetime.now(timezone.utc).timestamp() > deadline:
                return "Max duration limit exceeded", 0.0
        if backoff.get("duration") in (None, ""):
            raise ValueError("no base duration specified for retryStrategy")
        wait = parse_duration_or_seconds(backoff["duration"])
        factor = backoff.get("factor")
        if factor not in (None, "") and int(str(factor)) > 0:
            wait = wait * (int(str(factor)) ** (attempts - 1))
        if backoff.get("cap") not in (None, ""):
            wait = min(wait, parse_duration_or_seconds(backoff["cap"]))
        if deadline is not None and _parse_time(child.finished_at) + wait > deadline:
            return "Backoff would exceed max duration limit", 0.0
        return "", wait


def _duration(node: Node) -> str:
    if not node.started_at or not node.finished_at:
        return "0"
    # Go's fmt.Sprint of Duration.Seconds(): "3", not "3.0" (asInt() must parse it)
    from kubeline.local.exprlang import to_string

    return to_string(float(_parse_time(node.finished_at) - _parse_time(node.started_at)))


def _policy_allows(policy: str, child: Node) -> bool:
    if policy == "Always":
        return True
    if policy == "OnFailure":
        return child.phase == FAILED
    if policy == "OnError":
        return child.phase == ERROR
    pattern = os.environ.get("TRANSIENT_ERROR_PATTERN")
    return pattern is not None and re.search(pattern, child.message) is not None


def _is_pod(tmpl: dict[str, Any]) -> bool:
    return any(k in tmpl for k in _POD_TYPES)


def _node_type(tmpl: dict[str, Any]) -> str:
    if _is_pod(tmpl):
        return "Pod"
    return "DAG" if "dag" in tmpl else "Steps"


def _step_or_task_name(node_name: str) -> str:
    """Argo's getStepOrDAGTaskName: drop trailing (...) and [...] groups, keep after last dot."""
    opener = ""
    end = len(node_name)
    for i in range(len(node_name) - 1, -1, -1):
        ch = node_name[i]
        if ch == opener:
            opener = ""
        elif opener:
            continue
        elif ch == ")":
            opener = "("
        elif ch == "]":
            opener = "["
        else:
            end = i + 1
            break
    name = node_name[:end]
    return name.rsplit(".", 1)[-1]


def input_scope(tmpl: dict[str, Any]) -> Scope:
    """``inputs.*`` and output path tags of a template whose arguments are merged."""
    scope: Scope = {}
    inputs = tmpl.get("inputs") or {}
    params = []
    for p in inputs.get("parameters") or []:
        if p.get("value") is not None:
            scope[f"inputs.parameters.{p['name']}"] = param_string(p["value"])
        params.append({k: p[k] for k in ("name", "value") if k in p})
    scope["inputs.parameters"] = go_json(params)
    for a in inputs.get("artifacts") or []:
        scope[f"inputs.artifacts.{a['name']}"] = a
        if a.get("path"):
            scope[f"inputs.artifacts.{a['name']}.path"] = str(a["path"])
    outs = tmpl.get("outputs") or {}
    for a in outs.get("artifacts") or []:
        if a.get("path"):
            scope[f"outputs.artifacts.{a['name']}.path"] = str(a["path"])
    for p in outs.get("parameters") or []:
        path = (p.get("valueFrom") or {}).get("path")
        if path:
            scope[f"outputs.parameters.{p['name']}.path"] = str(path)
    return scope


def _python_shims(state_dir: Path) -> Path:
    """``python``/``python3`` on PATH that run this interpreter (images are not pulled)."""
    bin_dir = state_dir / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("python", "python3"):
        path = bin_dir / name
        text = f'#!/bin/sh\nexec "{sys.executable}" "$@"\n'
        if not path.exists() or path.read_text() != text:
            tmp = bin_dir / f".{name}.tmp"
            tmp.write_text(text)
            os.chmod(tmp, 0o755)
            os.replace(tmp, path)
    images.install_programs(bin_dir)
    return bin_dir


def _workflow_globals(m: manifest_mod.Manifest, run_id: str, uid: str, created: str) -> Scope:
    meta = m.workflow.get("metadata") or {}
    g: Scope = {
        "workflow.name": run_id,
        "workflow.namespace": str(meta.get("namespace") or "default"),
        "workflow.uid": uid,
        "workflow.mainEntrypoint": str(m.spec.get("entrypoint", "")),
        "workflow.serviceAccountName": str(m.spec.get("serviceAccountName") or "default"),
        "workflow.creationTimestamp": created,
        "workflow.creationTimestamp.RFC3339": created,
        "workflow.creationTimestamp.s": str(int(_parse_time(created))),
    }
    for k, v in (meta.get("labels") or {}).items():
        g[f"workflow.labels.{k}"] = str(v)
    for k, v in (meta.get("annotations") or {}).items():
        g[f"workflow.annotations.{k}"] = str(v)
    params = []
    for p in (m.spec.get("arguments") or {}).get("parameters") or []:
        g[f"workflow.parameters.{p['name']}"] = param_string(p.get("value"))
        params.append({"name": p["name"], "value": param_string(p.get("value"))})
    g["workflow.parameters"] = go_json(params)
    g["workflow.parameters.json"] = g["workflow.parameters"]
    return g


def apply_parameters(m: manifest_mod.Manifest, overrides: dict[str, str]) -> None:
    """Set workflow arguments from -p values; every argument must end up with a value."""
    args = m.spec.setdefault("arguments", {})
    params = args.setdefault("parameters", [])
    declared = {str(p.get("name")) for p in params}
    # kubeline's own switches (kubeline-regenerate-outputs, ...) are settable, not advertised
    shown = sorted(d for d in declared if not d.startswith("kubeline-"))
    problems = []
    for name in overrides:
        if name not in declared:
            close = difflib.get_close_matches(name, shown, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(
                f"parameter '{name}' is not a parameter of this workflow "
                f"({hint}known: {', '.join(shown) or 'none'})"
            )
    for p in params:
        name = str(p.get("name"))
        if name in overrides:
            p["value"] = overrides[name]
            p.pop("valueFrom", None)
        elif p.get("value") is None:
            vf = p.get("valueFrom") or {}
            ref = vf.get("configMapKeyRef")
            cm = m.configmaps.get(str(ref.get("name"))) if ref else None
            if ref and cm is not None and str(ref.get("key")) in cm:
                p["value"] = cm[str(ref["key"])]
            elif vf.get("default") is not None:
                p["value"] = param_string(vf["default"])
            elif p.get("default") is not None and m.kind == "WorkflowTemplate":
                p["value"] = param_string(p["default"])
            else:
                problems.append(
                    f"spec.arguments.parameters.{name} has no value (pass -p {name}=...)"
                )
                continue
        enum = p.get("enum")
        if enum and param_string(p.get("value")) not in [param_string(e) for e in enum]:
            problems.append(
                f"spec.arguments.parameters.{name}: value '{p.get('value')}' is not one of {enum}"
            )
    if problems:
        raise ValidationError(problems)


def _canonical(docs: list[dict[str, Any]]) -> str:
    return go_json([d for d in docs if d is not None])


def run_manifest(
    docs: list[dict[str, Any]],
    *,
    parameters: dict[str, str],
    state_dir: Path,
    resume: str | None = None,
    parallelism: int | None = None,
    reporter: Reporter | None = None,
) -> RunSummary:
    """Run (or resume) the workflow in docs on this machine and return its summary."""
    if parallelism is not None and parallelism < 1:
        raise KubelineError("--parallelism must be at least 1")
    state_dir = Path(state_dir).resolve()
    rep: Reporter = reporter or NullReporter()
    state = StateStore(state_dir)
    try:
        if resume is not None:
            row = state.load_run(resume)
            if row["manifest"] != _canonical(docs) and docs:
                raise KubelineError(
                    f"the manifest changed since run '{resume}' started",
                    "resume with the same file",
                )
            docs = manifest_mod_docs(row["manifest"])
            parameters = dict(row["parameters"])
            run_id, uid, created = row["id"], row["uid"], row["started_at"]
            recorded = state.load_nodes(run_id)
        m = manifest_mod.load(docs)
        apply_parameters(m, parameters)
        if resume is None:
            run_id, lock = _reserve_run(m, state, state_dir)
            uid = str(uuid.uuid4())
            created = now()
            recorded = []
        else:
            lock = RunLock(state_dir / "runs" / run_id)
        try:
            if resume is None:
                state.create_run(run_id, uid, _canonical(docs), parameters, created)  # type: ignore[arg-type]
            else:
                state.reopen_run(run_id)
                procs.sweep(uid)  # what a killed runner left (its lock is ours now)
            return asyncio.run(
                _drive(
                    m,
                    run_id,
                    uid,
                    created,
                    state,
                    state_dir,
                    recorded,
                    parallelism,
                    rep,
                    resume is not None,
                )
            )
        finally:
            lock.release()
    finally:
        state.close()


def manifest_mod_docs(stored: Any) -> list[dict[str, Any]]:
    import json

    data = json.loads(stored) if isinstance(stored, str) else stored
    return list(data)


def _reserve_run(m: manifest_mod.Manifest, state: StateStore,
                 state_dir: Path) -> tuple[str, RunLock]:
    """A fresh run id and its lock: the workflow's name, else name-xxxxx (as generateName).

    The lock is taken before the id is checked, so two runners started at the same moment
    never pick the same id: the loser of the lock, or one finding the id recorded, moves on.
    """
    base = m.base_name
    rng = random.SystemRandom()
    while True:
        if base.endswith("-"):
            candidate = base + "".join(rng.choice(_NAME_CHARS) for _ in range(5))
        else:
            candidate = base
            base = base + "-"
        try:
            lock = RunLock(state_dir / "runs" / candidate)
        except RunLocked:
            continue
        try:
            state.load_run(candidate)
        except KubelineError:
            return candidate, lock
        lock.release()


def _workflow_deadline(spec: dict[str, Any]) -> float | None:
    """``spec.activeDeadlineSeconds`` from now, on the monotonic clock."""
    value = spec.get("activeDeadlineSeconds")
    if value in (None, ""):
        return None
    try:
        seconds = int(str(value))
    except ValueError as exc:
        raise KubelineError(
            f"spec.activeDeadlineSeconds must be a positive integer, not {value!r}") from exc
    return time.monotonic() + seconds


async def _drive(
    m: manifest_mod.Manifest,
    run_id: str,
    uid: str,
    created: str,
    state: StateStore,
    state_dir: Path,
    recorded: list[Node],
    parallelism: int | None,
    reporter: Reporter,
    resumed: bool,
) -> RunSummary:
    sandbox = Sandbox(detect_mode(), default_passthrough(state_dir))
    engine = Engine(
        manifest=m,
        run_id=run_id,
        uid=uid,
        created=created,
        state=state,
        state_dir=state_dir,
        recorded=recorded,
        limit=parallelism or os.cpu_count() or 1,
        reporter=reporter,
        sandbox=sandbox,
    )
    engine.globals = _workflow_globals(m, run_id, uid, created)
    reporter.run_started(run_id, sandbox.mode, resumed)
    args = substitute(m.spec.get("arguments") or {}, engine.globals)
    started = time.time()
    engine.wf_deadline = _workflow_deadline(m.spec)
    try:
        wf_locks = engine.locks.plan(m.spec.get("synchronization"))
    except SyncError as exc:
        raise KubelineError(f"spec.synchronization: {exc}") from exc
    try:
        wf_hooks = lifecycle.watch(engine, run_id, lifecycle.lifecycle_hooks(m.spec),
                                   engine.globals, None, "workflow", "")
        async with engine.locks.hold(wf_locks):
            root = await engine.execute_template(run_id, str(m.spec["entrypoint"]), args, None)
        await lifecycle.finish(engine, wf_hooks, run_id, root)
        engine.wf_deadline = None  # exit handlers are not subject to the deadline (Argo)
        await engine.daemons.stop()
        handler = await run_exit_handler(
            m.spec, run_id, root, list(engine.nodes.values()), started, engine.globals,
            lambda name, tmpl, hook_args, boundary: engine.execute_template(
                name, tmpl, substitute(hook_args, engine.globals), boundary),
        )
    finally:
        await engine.daemons.stop()
        if engine.warm is not None:
            await engine.warm.close()
        if engine.forks is not None:
            await engine.forks.close()
        # whatever escaped its process group (a script that left its session without
        # bubblewrap) or lost its parent: nothing of the run outlives it
        left = procs.sweep(uid)
        if left:
            print(f"kubeline: killed {len(left)} process(es) of run {run_id} that outlived "
                  f"their step: {'; '.join(left[:3])}", file=sys.stderr)
    phase, handler_message = final_phase(root.phase, handler)
    message = root.message if handler_message is None else handler_message
    outputs = {k: v for k, v in engine.wf_outputs.items() if v}
    state.finish_run(run_id, phase, message, now(), outputs)
    summary = build_summary(
        run_id=run_id,
        phase=phase,
        message=message,
        nodes=list(engine.nodes.values()),
        outputs=outputs,
        state_dir=state_dir,
        repo=engine.repo,
        sandbox=sandbox.mode,
        started_at=created,
        finished_at=now(),
    )
    reporter.run_finished(summary)
    return summary
