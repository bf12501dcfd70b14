"""Turn user names into names Argo and Kubernetes accept, deterministically.

Step and template names must match ``^[a-zA-Z0-9][-a-zA-Z0-9]*$`` (Argo), object names
are DNS-1123 labels of at most 63 characters. Over-long names keep a readable prefix
and gain a stable hash suffix, so the same input always gives the same name.
"""

from __future__ import annotations

import hashlib
import re

_INVALID = re.compile(r"[^a-z0-9-]+")
_PARAM_INVALID = re.compile(r"[^-a-zA-Z0-9_]+")
ARGO_NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
PARAM_NAME = re.compile(r"^[-a-zA-Z0-9_]+$")
REGENERATE_PARAMETER = "kubeline-regenerate-outputs"
"""The workflow argument the compiler maps to the shim's KUBELINE_REGENERATE_OUTPUTS."""
CONTENT_AWARE_PARAMETER = "kubeline-content-aware"
"""The workflow argument the compiler maps to the shim's KUBELINE_CONTENT_AWARE."""


def short_hash(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def dns_label(name: str, max_len: int = 63) -> str:
    """A lower-case DNS-1123 label: letters, digits, '-'; starts with a letter."""
    label = _INVALID.sub("-", name.lower().replace("_", "-")).strip("-")
    label = re.sub(r"-{2,}", "-", label)
    if not label or not label[0].isalpha():
        label = f"s-{label}" if label else "s"
    if len(label) > max_len:
        label = f"{label[: max_len - 9].rstrip('-')}-{short_hash(name)}"
    return label


def param_name(name: str) -> str:
    """A valid Argo parameter/artifact name (``^[-a-zA-Z0-9_]+$``)."""
    cleaned = _PARAM_INVALID.sub("_", name)
    return cleaned or "p"
