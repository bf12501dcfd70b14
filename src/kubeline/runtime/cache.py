"""The step's cache key and the reuse index record (ARCHITECTURE decision 5, docs/reuse.md).

The index record is written after every output's completion record, with a conditional
create; a key whose index record exists (and whose outputs' records still exist) is a hit,
and the step's script does not run.

A run that regenerates outputs computes under a key of its own (the run id as nonce) and
then points the ordinary key's index record at its fresh outputs (``outputs_key``), so
later runs reuse them. A hit hands on ``outputs_key``: the key under which the outputs
really are, which is what downstream steps read and key on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubeline.graph.model import Step
from kubeline.reuse.keys import (
    cache_key,
    content_inputs,
    content_nonce,
    producers,
    used_parameters,
)
from kubeline.runtime.layout import cache_index, completion_record
from kubeline.runtime.params import ParameterError
from kubeline.runtime.spec import SpecError
from kubeline.stores import Store

NOT_REUSABLE = "allow_reuse=False"
REGENERATE = "regenerate_outputs"


@dataclass(frozen=True)
class KeyPlan:
    """The keys of one step run: what it computes under, what it may reuse, what it aliases."""

    key: str  # the key this run stores its outputs under
    lookup: str | None  # the key a hit is looked up under (None: never reuse)
    alias: str | None  # after success, point this key's index at our outputs (regenerate)
    nonce_reason: str  # "", NOT_REUSABLE or REGENERATE
    ingredients: dict[str, Any]  # what went into the key, for explain-reuse


def step_key(step: Step, fingerprint: str, values: Mapping[str, str],
             upstream: Mapping[str, str], run_id: str, regenerate: bool,
             content: Mapping[str, str] | None = None) -> KeyPlan:
    """The key plan of a step: fingerprint + values of the parameters it uses + upstream keys
    (+ a nonce). ``content`` holds each DataReference input's version in content-aware runs."""
    missing = [p for p in producers(step) if p not in upstream]
    if missing:
        raise SpecError(f"step '{step.name}': no upstream key for {', '.join(missing)}",
                        "pass --upstream producer:KEY for every producing step")
    names = used_parameters(step)
    unknown = [n for n in names if n not in values]
    if unknown:
        raise ParameterError(f"step '{step.name}' uses parameter '{unknown[0]}', which the "
                             "pipeline does not define", "recompile the pipeline")
    used = [values[n] for n in names]
    ups = [upstream[p] for p in producers(step)]
    versions = {n: content[n] for n in content_inputs(step)} if content is not None else {}
    base_nonce = content_nonce(versions) if versions else ""
    fresh = regenerate or not step.allow_reuse
    if fresh and not run_id:
        raise SpecError(f"step '{step.name}' may not be reused but KUBELINE_RUN_ID is not set",
                        "set KUBELINE_RUN_ID to the workflow's uid")
    ordinary = cache_key(fingerprint, used, ups, base_nonce)
    reason = NOT_REUSABLE if not step.allow_reuse else REGENERATE if regenerate else ""
    ingredients: dict[str, Any] = {
        "fingerprint": fingerprint, "parameters": dict(zip(names, used, strict=True)),
        "upstream": {p: upstream[p] for p in producers(step)}, "content": versions or None,
        "nonce": reason,
    }
    if not fresh:
        return KeyPlan(ordinary, ordinary, None, "", ingredients)
    own = cache_key(fingerprint, used, ups, run_id)
    return KeyPlan(own, None, ordinary if step.allow_reuse else None, reason, ingredients)


def lookup(store: Store, stores_get: Any, key: str) -> dict[str, Any] | None:
    """The index record of a key when every output it lists is still committed."""
    index_key = cache_index(key)
    if not store.exists(index_key):
        return None
    try:
        record: dict[str, Any] = json.loads(store.get_bytes(index_key))
    except ValueError:
        return None  # unreadable: run again and rewrite it
    outputs_key = str(record.get("outputs_key") or key)
    for name, out in record.get("outputs", {}).items():
        if not stores_get(out["datastore"]).exists(completion_record(outputs_key, name)):
            return None
    record["outputs_key"] = outputs_key
    return record


def publish(store: Store, key: str, record: Mapping[str, Any], replace: bool) -> None:
    """Write the index record last; the first writer of a key wins unless ``replace``
    (an index whose outputs went missing, or a regeneration's alias, is rewritten)."""
    body = json.dumps(dict(record), sort_keys=True, indent=1).encode("utf-8")
    store.put_bytes(cache_index(key), body, if_absent=not replace)


def input_versions(step: Step, stores: Any, values: Mapping[str, str]) -> dict[str, str]:
    """Content-aware runs: each DataReference/DataPath input's current version, the ETag
    (or content hash) of its object, or a digest over (key, size, ETag) of a folder's
    objects."""
    import hashlib

    from kubeline.runtime.params import datapath

    found: dict[str, str] = {}
    for item in step.inputs:
        if item.name not in content_inputs(step):
            continue
        if item.source == "dataset":
            found[item.name] = dataset_version(item, stores, values)
            continue
        if item.source == "datapath_param":
            value = datapath(item.parameter, values.get(item.parameter, ""))
            store_name, path = value.datastore, value.path
        else:
            store_name, path = item.datastore, item.path
        store = stores.get(store_name)
        key = path.strip("/")
        tag = store.etag(key) if key else None
        if tag is not None:
            found[item.name] = str(tag)
            continue
        digest = hashlib.sha256()
        prefix = f"{key}/" if key else ""
        for obj in store.list(prefix):
            digest.update(json.dumps([obj.key, obj.size, obj.etag]).encode("utf-8") + b"\n")
        found[item.name] = "dir:" + digest.hexdigest()
    return found


def dataset_version(item: Any, stores: Any, values: Mapping[str, str]) -> str:
    """A dataset input's content version: a digest over each matched file's key, size and
    ETag (URLs: the URL only)."""
    import hashlib

    from kubeline.datasets.files import list_files
    from kubeline.runtime.datasets import definition

    digest = hashlib.sha256()
    files, _ = list_files(definition(item, values), stores.get, f"input '{item.name}'")
    for entry in files:
        tag = "" if entry.source.url else stores.get(entry.source.datastore).etag(entry.key)
        digest.update(json.dumps([entry.source.describe(), entry.key, tag]).encode() + b"\n")
    return "files:" + digest.hexdigest()
