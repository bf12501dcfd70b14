"""Argo ``memoize`` as a pod-free fast path: the key expression the compiler emits per task.

The expression makes the workflow controller compute exactly the shim's key
(kubeline.reuse.keys.cache_key) with Argo's own functions::

    sprig.sha256sum(toJson([fingerprint, [parameter values], [upstream keys], nonce]))

``toJson`` is Go's json.Marshal, which keys.go_json reproduces. The nonce is the workflow
uid when the run regenerates outputs or (for steps reading DataReference inputs) is
content-aware: content-aware keys hold the data's ETag, which only the shim can read, so
the fast path must never hit then. Steps with allow_reuse=False get no memoize at all.
"""

from __future__ import annotations

from kubeline.graph.model import Step
from kubeline.graph.names import CONTENT_AWARE_PARAMETER as CONTENT_AWARE_PARAMETER
from kubeline.graph.names import REGENERATE_PARAMETER as REGENERATE_PARAMETER
from kubeline.graph.names import param_name
from kubeline.reuse.keys import content_inputs, producers, used_parameters

TRUE_WORDS = ("true", "1", "yes", "on")  # kubeline.runtime.paths.TRUE_WORDS
ARGO_KEY_PATTERN = r"^[a-zA-Z0-9][-a-zA-Z0-9]*$"


def run_switches(parameters: dict[str, str], regenerate: bool = False,
                 content_aware: bool = False) -> dict[str, bool]:
    """The reuse switches a run record keeps, whether the starter set them or the manifest's
    arguments did (every backend records them the same way)."""
    return {
        "regenerate_outputs": regenerate or parameters.get(REGENERATE_PARAMETER) == "true",
        "content_aware": content_aware or parameters.get(CONTENT_AWARE_PARAMETER) == "true",
    }


def _quote(text: str) -> str:
    """An expr-lang single-quoted string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _switch(parameter: str) -> str:
    words = ", ".join(_quote(w) for w in TRUE_WORDS)
    return f"sprig.lower(sprig.trim(workflow.parameters[{_quote(parameter)}])) in [{words}]"


def memoizable(step: Step) -> bool:
    """Steps whose template may carry memoize (a key that others may be served)."""
    return step.allow_reuse


def key_expression(step: Step, fingerprint: str) -> str:
    """The ``{{=...}}`` tag whose value is the step's key, for a DAG task argument."""
    values = ", ".join(f"workflow.parameters[{_quote(param_name(n))}]"
                       for n in used_parameters(step))
    upstream = ", ".join(f"tasks[{_quote(p)}].outputs.parameters.key" for p in producers(step))
    fresh = _switch(REGENERATE_PARAMETER)
    if content_inputs(step):
        fresh = f"({fresh} || {_switch(CONTENT_AWARE_PARAMETER)})"
    nonce = f"({fresh} ? workflow.uid : '')"
    return ("{{=sprig.sha256sum(toJson(["
            f"{_quote(fingerprint)}, [{values}], [{upstream}], {nonce}"
            "]))}}")
