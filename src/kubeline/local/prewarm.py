"""Predicting a DAG task's launch before its upstream finishes, to start it warm.

A task waiting only on running tasks will start next; its node name, id, folder, pod name,
template, sandbox mounts, environment and log files are known already, only arguments from
upstream outputs are not. The template is processed as the node will process it, with a
placeholder for every argument that still has tags; a launch naming the placeholder
anywhere that must match (sandbox, environment, interpreter and module) is not warmed.
Templates that start under other node names (retryStrategy, loops) are not warmed either;
memoized ones only once an upstream task runs a process (a memo miss): when the upstream
was a hit, the task most likely is one too and starts no process.
"""

from __future__ import annotations

import copy
import shutil
from typing import TYPE_CHECKING, Any

from kubeline.local import loops
from kubeline.local.forkclient import runs_shim
from kubeline.local.leaf import predict_main
from kubeline.local.nodes import Node, node_id, pod_name
from kubeline.local.resources import prepare_pod
from kubeline.local.warmpool import python_mode

if TYPE_CHECKING:
    from kubeline.local.executor import Engine

PLACEHOLDER = "kubeline-warm-unknown-5f0c2e"


def _arguments(task: dict[str, Any]) -> dict[str, Any]:
    """The task's arguments with every value still carrying tags replaced."""
    args = copy.deepcopy(task.get("arguments") or {})
    for p in args.get("parameters") or []:
        if "{{" in str(p.get("value", "")):
            p["value"] = PLACEHOLDER
    return args


def prewarm(engine: Engine, name: str, task: dict[str, Any], boundary: Node, holder: str,
            upstream_runs: bool) -> bool:
    """Start the warm process of DAG task node ``name`` if its launch is predictable;
    False when it may be worth asking again later (no room in the pool; a memoized
    template whose upstream has not run a process yet)."""
    pool = engine.warm
    if pool is None or loops.expands(task):
        return True
    if not pool.room():
        return False
    recorded = engine.recorded.get(name)
    if recorded is not None and recorded.fulfilled:
        return True  # a resumed run reuses it: no process, and its folder must stay
    template_name = str(task.get("template") or "")
    tmpl = engine.templates.get(template_name)
    if tmpl is None or not ("container" in tmpl or "script" in tmpl):
        return True
    if tmpl.get("retryStrategy") or engine.spec.get("retryStrategy") or tmpl.get("daemon") \
            or tmpl.get("podSpecPatch") or engine.spec.get("podSpecPatch"):
        return True
    if engine.forks is not None and runs_shim(tmpl):
        return True  # the fork server starts it at once: nothing to warm
    if tmpl.get("memoize") and not upstream_runs:
        return False  # probably a cache hit, as its upstream was: no process to warm
    pod = pod_name(engine.wf_name, name, template_name)
    node_dir = engine.run_dir / "nodes" / node_id(engine.wf_name, name)
    try:
        local = {"node.name": name, "tasks.name": holder, "pod.name": pod}
        processed = engine.process_args(tmpl, _arguments(task), local)
        prepared, gpu_vars, _ = prepare_pod(processed, engine.repo.root)
        ctx = engine.leaf_context(name, pod, node_dir, gpu_vars, boundary)
        if node_dir.exists():
            shutil.rmtree(node_dir)
        node_dir.mkdir(parents=True)
        launch = predict_main(prepared, ctx)
    except Exception:  # the node itself reports whatever is wrong, when it runs
        shutil.rmtree(node_dir, ignore_errors=True)
        return True
    mode = python_mode(launch.program) or ()
    fixed = [*launch.wrapper, launch.program[0], *mode, *(f"{k}={v}" for k, v in launch.env)]
    if any(PLACEHOLDER in part for part in fixed) or not pool.start(name, launch, node_dir):
        shutil.rmtree(node_dir, ignore_errors=True)
    return True
