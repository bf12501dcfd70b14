"""Cache-key ingredients shared by the compiler and the runtime shim.

The static fingerprint covers everything about a step that is known at compile time and
can change its output. At run time the shim combines it with the parameter values the step
uses and its upstream steps' keys (see ``cache_key``); docs/reuse.md lists the fields.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from kubeline.graph.model import Step
from kubeline.graph.stepspec import encode_step

# Fields of a step's spec that cannot change its output: names, ordering, placement.
_NOT_IN_KEY = ("id", "name", "depends_on", "compute_target", "allow_reuse", "fingerprint")
_INPUT_NOT_IN_KEY = ("producer", "overwrite")


def fingerprint_of(record: dict[str, object]) -> str:
    """sha256 over the output-relevant fields of an encoded step (see encode_step)."""
    kept: dict[str, object] = {k: v for k, v in record.items() if k not in _NOT_IN_KEY}
    inputs = record.get("inputs", {})
    if isinstance(inputs, dict):
        kept["inputs"] = {name: {k: v for k, v in spec.items() if k not in _INPUT_NOT_IN_KEY}
                          for name, spec in inputs.items()}
    return _sha(kept)


def static_fingerprint(step: Step) -> str:
    """sha256 over the step's output-relevant settings, in canonical JSON."""
    return fingerprint_of(encode_step(step, ""))


def cache_key(fingerprint: str, parameters: Mapping[str, str], upstream: Sequence[str],
              nonce: str = "") -> str:
    """The run-time key: fingerprint + used parameter values + upstream keys (+ nonce).

    A nonce (the run id) makes a key unique, for allow_reuse=False and regenerate_outputs.
    """
    return _sha({"fingerprint": fingerprint, "parameters": dict(sorted(parameters.items())),
                 "upstream": list(upstream), "nonce": nonce})


def _sha(record: object) -> str:
    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
