"""Cache-key ingredients shared by the compiler and the runtime shim.

The static fingerprint covers everything about a step that is known at compile time and
can change its output. At run time the shim combines it with the parameter values the step
uses and its upstream steps' keys (see ``cache_key``); docs/reuse.md lists the fields.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from kubeline.graph.model import Step, step_to_dict

# Fields of a Step that can change its output; names, ids and ordering edges cannot.
_STATIC_FIELDS = ("kind", "image", "script", "command", "arguments", "params", "inputs",
                  "outputs", "snapshot", "version", "hash_paths")
_INPUT_IDENTITY = ("name", "source", "datastore", "path", "parameter", "mode",
                   "path_on_compute")


def static_fingerprint(step: Step) -> str:
    """sha256 over the step's output-relevant settings, in canonical JSON."""
    data = step_to_dict(step)
    record = {field: data[field] for field in _STATIC_FIELDS}
    record["inputs"] = [{k: i[k] for k in _INPUT_IDENTITY} for i in data["inputs"]]  # type: ignore[attr-defined]
    return _sha(record)


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
