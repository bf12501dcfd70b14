"""The one cache-key function of kubeline: used by the compiler, the runtime shim and the
local executor (docs/reuse.md lists every field and why it is in or out).

A step's key is ``sha256(go_json([fingerprint, values, upstream, nonce]))``:

* ``fingerprint``: sha256 over the output-relevant fields of the step's encoded spec
  (snapshot hash, image, command, arguments, inputs' identities, outputs, settings...);
* ``values``: the text of every pipeline parameter the step uses, in sorted name order;
* ``upstream``: the keys of the steps whose outputs it reads, in sorted producer-id order;
* ``nonce``: "" normally; the run id when the step may not be reused; ``content:<digest>``
  for content-aware runs of a step that reads DataReference inputs.

The encoding is Go's ``json.Marshal`` so that the Argo expression
``sprig.sha256sum(toJson([...]))`` in a compiled manifest computes the same key in the
workflow controller (the memoize fast path) as the shim computes in the pod.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from kubeline.graph.model import Step
from kubeline.graph.stepspec import encode_step

# Fields of a step's spec that cannot change its output: names, ordering, placement, the
# switch that only decides whether a key may be shared, and the folder's name (its content
# is the snapshot hash).
NOT_IN_KEY = ("id", "name", "depends_on", "compute_target", "allow_reuse", "fingerprint",
              "source_directory")
INPUT_NOT_IN_KEY = ("producer", "overwrite")
KEY_VERSION = "kubeline-key-2"  # enters every fingerprint: a format change invalidates all


def go_json(value: Any) -> str:
    """JSON as Go's json.Marshal writes it: compact, sorted map keys, no ASCII escaping but
    ``<``, ``>``, ``&``, U+2028 and U+2029 escaped (HTML-safe), lower-case hex."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def image_identity(image: str) -> str:
    """What of an image reference enters the key: the digest when one is given (a tag beside
    it is only a label), else the reference as written."""
    name, at, digest = image.partition("@")
    if at and digest:
        repo = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
        return f"{repo}@{digest}"
    return image


def mutable_image(image: str) -> bool:
    """A tag that can point at other bytes tomorrow: ``:latest`` or no tag and no digest."""
    if "@" in image or not image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.rsplit(":", 1)[1] == "latest"


def key_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an encoded step (see encode_step) that enter its fingerprint."""
    kept: dict[str, Any] = {k: v for k, v in record.items() if k not in NOT_IN_KEY}
    if "image" in kept:
        kept["image"] = image_identity(str(kept["image"]))
    inputs = record.get("inputs", {})
    if isinstance(inputs, dict):
        kept["inputs"] = {name: {k: v for k, v in spec.items() if k not in INPUT_NOT_IN_KEY}
                          for name, spec in inputs.items()}
    kept["key_version"] = KEY_VERSION
    return kept


def fingerprint_of(record: Mapping[str, Any]) -> str:
    """sha256 over the output-relevant fields of an encoded step."""
    return hashlib.sha256(go_json(key_fields(record)).encode("utf-8")).hexdigest()


def static_fingerprint(step: Step) -> str:
    """The fingerprint of a step as the compiler writes it into the step spec."""
    return fingerprint_of(encode_step(step, ""))


def used_parameters(step: Step) -> list[str]:
    """Names of the pipeline parameters a step reads, sorted: their values enter its key."""
    from kubeline.graph.model import ParamRef

    names = {a.name for a in step.arguments if isinstance(a, ParamRef)}
    names |= {v.name for _, v in step.params if isinstance(v, ParamRef)}
    names |= {i.parameter for i in step.inputs if i.parameter}  # DataPath or dataset parameter
    return sorted(names)


def producers(step: Step) -> list[str]:
    """Ids of the steps whose keys enter this step's key (PipelineData producers), sorted."""
    return sorted({i.producer for i in step.inputs if i.producer})


def content_inputs(step: Step) -> list[str]:
    """Inputs whose current version enters a content-aware key: DataReference, DataPath and
    dataset inputs (PipelineData is already identified by its producer's key)."""
    return sorted(i.name for i in step.inputs
                  if i.source in ("datastore", "datapath_param", "dataset"))


def cache_key(fingerprint: str, values: Sequence[str], upstream: Sequence[str],
              nonce: str = "") -> str:
    """The run-time key (see the module docstring); every argument is plain text."""
    payload = [fingerprint, [str(v) for v in values], [str(u) for u in upstream], nonce]
    return hashlib.sha256(go_json(payload).encode("utf-8")).hexdigest()


def content_nonce(versions: Mapping[str, str]) -> str:
    """The nonce of a content-aware key: a digest of each input's version (ETag/hash)."""
    return "content:" + hashlib.sha256(go_json(dict(versions)).encode("utf-8")).hexdigest()
