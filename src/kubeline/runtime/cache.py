"""The step's cache key and the reuse index record (ARCHITECTURE decision 5).

The index record is written after every output's completion record, with a conditional
create; a key whose index record exists (and whose outputs' records still exist) is a hit,
and the step's script does not run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kubeline.graph.model import Step
from kubeline.reuse.keys import cache_key
from kubeline.runtime.layout import cache_index, completion_record
from kubeline.runtime.spec import SpecError
from kubeline.stores import Store


def producers(step: Step) -> list[str]:
    """The steps whose keys enter this step's key: producers of its PipelineData inputs."""
    return sorted({i.producer for i in step.inputs if i.producer})


def step_key(step: Step, fingerprint: str, used_parameters: Mapping[str, str],
             upstream: Mapping[str, str], run_id: str, regenerate: bool) -> str:
    """fingerprint + used parameter values + upstream keys in sorted producer order; the run
    id as nonce when the step may not be reused (allow_reuse=False, regenerate_outputs)."""
    missing = [p for p in producers(step) if p not in upstream]
    if missing:
        raise SpecError(f"step '{step.name}': no upstream key for {', '.join(missing)}",
                        "pass --upstream producer:KEY for every producing step")
    fresh = regenerate or not step.allow_reuse
    if fresh and not run_id:
        raise SpecError(f"step '{step.name}' may not be reused but KUBELINE_RUN_ID is not set",
                        "set KUBELINE_RUN_ID to the workflow's uid")
    return cache_key(fingerprint, used_parameters, [upstream[p] for p in producers(step)],
                     nonce=run_id if fresh else "")


def lookup(store: Store, stores_get: Any, key: str) -> dict[str, Any] | None:
    """The index record of a key when every output it lists is still committed."""
    index_key = cache_index(key)
    if not store.exists(index_key):
        return None
    try:
        record: dict[str, Any] = json.loads(store.get_bytes(index_key))
    except ValueError:
        return None  # unreadable: run again and rewrite it
    for name, out in record.get("outputs", {}).items():
        if not stores_get(out["datastore"]).exists(completion_record(key, name)):
            return None
    return record


def publish(store: Store, key: str, record: Mapping[str, Any], replace: bool) -> None:
    """Write the index record last; the first writer of a key wins unless ``replace``
    (an index whose outputs went missing is rewritten)."""
    body = json.dumps(dict(record), sort_keys=True, indent=1).encode("utf-8")
    store.put_bytes(cache_index(key), body, if_absent=not replace)
