"""Why a step's key differs from an earlier run's: the diagnostic AML never had.

Each step run records the ingredients of its key (the shim's result record and the key's
index record hold them): the fingerprinted spec fields, the values of the parameters it
uses, its upstream keys, the content versions of its inputs (content-aware runs) and the
nonce reason. ``explain`` compares two of these and names every difference; snapshot
differences are resolved to files through the snapshots' file manifests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

SnapshotFiles = Callable[[str], Mapping[str, Any] | None]


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= width else text[: width - 3] + "..."


def _diff(path: str, old: Any, new: Any, out: list[tuple[str, Any, Any]]) -> None:
    """Leaf differences between two JSON values as (dotted path, old, new)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            _diff(f"{path}.{key}" if path else str(key), old.get(key), new.get(key), out)
    elif old != new:
        out.append((path, old, new))


def _snapshot_lines(old_hash: str, new_hash: str, source: str, load: SnapshotFiles
                    ) -> list[str]:
    old, new = load(old_hash), load(new_hash)
    if old is None or new is None:
        missing = old_hash if old is None else new_hash
        return [f"source snapshot changed ({old_hash[:12]} -> {new_hash[:12]}); the file list "
                f"of {missing[:12]} is not in the datastore, so the files cannot be named"]
    lines: list[str] = []
    prefix = f"{source.rstrip('/')}/" if source and source != "." else ""
    for kind, label in (("files", "file"), ("hash_paths", "hash_paths file")):
        a, b = dict(old.get(kind) or {}), dict(new.get(kind) or {})
        where = prefix if kind == "files" else ""
        for name in sorted(set(a) | set(b)):
            if name not in a:
                lines.append(f"{label} {where}{name} was added")
            elif name not in b:
                lines.append(f"{label} {where}{name} was removed")
            elif a[name] != b[name]:
                lines.append(f"{label} {where}{name} changed")
    return lines or [f"source snapshot changed ({old_hash[:12]} -> {new_hash[:12]})"]


def explain(old: Mapping[str, Any], new: Mapping[str, Any], load: SnapshotFiles) -> list[str]:
    """One line per difference between two steps' key ingredients (old = earlier run)."""
    lines: list[str] = []
    if new.get("nonce"):
        reason = {"allow_reuse=False": "the step has allow_reuse=False: it never reuses and "
                                       "is never reused",
                  "regenerate_outputs": "the run regenerated outputs (regenerate_outputs / "
                                        "--regenerate): every step ran again"}
        lines.append(reason.get(str(new["nonce"]), f"the key has a nonce ({new['nonce']})"))
    old_spec, new_spec = dict(old.get("spec") or {}), dict(new.get("spec") or {})
    changes: list[tuple[str, Any, Any]] = []
    _diff("", old_spec, new_spec, changes)
    for path, a, b in changes:
        if path == "snapshot":
            lines += _snapshot_lines(str(a or ""), str(b or ""),
                                     str(new.get("source_directory") or ""), load)
        elif path == "image":
            lines.append(f"image changed: {a} -> {b}")
        elif path.startswith("inputs."):
            lines.append(f"input {path[len('inputs.'):]}: {_short(a)} -> {_short(b)}")
        else:
            lines.append(f"step setting {path}: {_short(a)} -> {_short(b)}")
    old_params, new_params = dict(old.get("parameters") or {}), dict(new.get("parameters") or {})
    for name in sorted(set(old_params) | set(new_params)):
        if old_params.get(name) != new_params.get(name):
            lines.append(f"parameter {name}: {_short(old_params.get(name))} -> "
                         f"{_short(new_params.get(name))}")
    old_up, new_up = dict(old.get("upstream") or {}), dict(new.get("upstream") or {})
    for name in sorted(set(old_up) | set(new_up)):
        if old_up.get(name) != new_up.get(name):
            lines.append(f"upstream step {name} has another key ({str(old_up.get(name))[:12]} "
                         f"-> {str(new_up.get(name))[:12]}): something in its own key changed "
                         f"(code, parameters, inputs); run explain-reuse on {name}")
    old_content, new_content = old.get("content"), new.get("content")
    if old_content != new_content:
        if not old_content or not new_content:
            lines.append("content-aware keys: one run was content-aware (--content-aware) and "
                         "the other was not")
        else:
            for name in sorted(set(old_content) | set(new_content)):
                if old_content.get(name) != new_content.get(name):
                    lines.append(f"input {name}: its data changed (version "
                                 f"{_short(old_content.get(name), 20)} -> "
                                 f"{_short(new_content.get(name), 20)})")
    if old.get("fingerprint") != new.get("fingerprint") and not changes:
        lines.append("the step's fingerprint changed (kubeline's key format changed: "
                     "recompiled with another kubeline version)")
    return lines
