"""Variable scopes of DAG/steps templates (Argo's wfScope and buildLocalScope).

A scope is a flat mapping from tag names to values: strings, None for an absent optional
(the output of a skipped node without a default), or artifact objects (dicts) under
``*.outputs.artifacts.*``, which only artifact ``from`` references read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from kubeline.local.nodes import OMITTED, SKIPPED, SUCCEEDED, Node, Outputs, go_json, loop_index

Scope = dict[str, Any]


class ScopeError(Exception):
    """Aggregated outputs cannot be built (Argo errors the consumer)."""


def param_string(value: Any) -> str:
    """A parameter value as Argo's AnyString holds it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return ""
    return go_json(value)


def add_node(
    scope: Scope, prefix: str, name: str, node: Node, last_child: Node | None = None
) -> None:
    """``<prefix>.<name>.*`` for one finished node (a Retry node reads its last attempt)."""
    src = last_child or node
    base = f"{prefix}.{name}"
    scope[f"{base}.id"] = src.id
    if src.started_at:
        scope[f"{base}.startedAt"] = src.started_at
    if src.finished_at:
        scope[f"{base}.finishedAt"] = src.finished_at
    scope[f"{base}.status"] = src.phase
    if src.pod_ip:
        scope[f"{base}.ip"] = src.pod_ip
    add_outputs(scope, base, src.outputs)


def add_outputs(scope: Scope, base: str, outputs: Outputs | None) -> None:
    if outputs is None:
        return
    if outputs.result is not None:
        scope[f"{base}.outputs.result"] = outputs.result
    if outputs.exit_code is not None:
        scope[f"{base}.exitCode"] = outputs.exit_code
    for p in outputs.parameters:
        if p.get("value") is not None:
            scope[f"{base}.outputs.parameters.{p['name']}"] = param_string(p["value"])
    for a in outputs.artifacts:
        scope[f"{base}.outputs.artifacts.{a['name']}"] = a


def add_skipped_outputs(
    scope: Scope, prefix: str, name: str, node: Node, template: dict[str, Any] | None
) -> None:
    """Declared outputs of a skipped/omitted node: their default, else absent optional."""
    if node.outputs is not None or node.phase not in (SKIPPED, OMITTED) or template is None:
        return
    outputs = template.get("outputs") or {}
    for p in outputs.get("parameters") or []:
        key = f"{prefix}.{name}.outputs.parameters.{p['name']}"
        default = (p.get("valueFrom") or {}).get("default")
        scope[key] = param_string(default) if default is not None else None
    if outputs.get("result") is not None:
        scope[f"{prefix}.{name}.outputs.result"] = None


def add_aggregate(scope: Scope, prefix: str, name: str, children: Iterable[Node]) -> None:
    """Aggregated outputs of a looped task/step (Argo's processAggregateNodeOutputs)."""
    kids = sorted((c for c in children if not c.retried), key=lambda c: loop_index(c.name))
    if not kids:
        return
    params: list[dict[str, str]] = []
    by_name: dict[str, list[str]] = {}
    results: list[Any] = []
    for c in kids:
        if c.outputs is None or c.phase != SUCCEEDED:
            continue
        if c.outputs.parameters:
            entry: dict[str, str] = {}
            for p in c.outputs.parameters:
                v = param_string(p.get("value"))
                entry[p["name"]] = v
                by_name.setdefault(p["name"], []).append(v)
            params.append(entry)
        if c.outputs.result is not None:
            try:
                results.append(json.loads(c.outputs.result))
            except json.JSONDecodeError as exc:
                raise ScopeError(
                    f"aggregating the results of {prefix}.{name}: "
                    f"each output must be valid JSON: {exc}"
                ) from exc
    base = f"{prefix}.{name}.outputs"
    scope[f"{base}.result"] = go_json(results)
    scope[f"{base}.parameters"] = go_json(params)
    for pname, values in by_name.items():
        scope[f"{base}.parameters.{pname}"] = _aggregated_values(values)


def _aggregated_values(values: list[str]) -> str:
    decoded: list[Any] = []
    for v in values:
        try:
            d = json.loads(v)
        except json.JSONDecodeError:
            return go_json(values)
        if not isinstance(d, (list, dict)):
            return go_json(values)
        decoded.append(d)
    return go_json(decoded)


def resolve_var(tag: str, scope: Scope) -> Any:
    """The scope value a ``{{...}}`` reference names (Argo's template.ResolveVar)."""
    t = tag.strip()
    if t.startswith("{{") and t.endswith("}}"):
        t = t[2:-2].strip()
    if t.startswith("="):
        from kubeline.local.templating import evaluate_expression

        return evaluate_expression(t[1:], scope)
    if t not in scope:
        raise ScopeError(f"Unable to resolve: {tag}")
    return scope[t]
