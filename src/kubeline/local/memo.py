"""Argo memoization with a local cache store: one JSON file per (cache name, key).

Argo keeps entries in a ConfigMap named by ``memoize.cache.configMap.name``; an entry is
``{nodeID, outputs, creationTimestamp, lastHitTimestamp}``. Locally each entry is a file
``<state_dir>/cache/<configmap>/<key>.json`` written atomically. Keys must match Argo's
``^[a-zA-Z0-9][-a-zA-Z0-9]*$`` (checked at run time, an invalid key errors the node), and
``maxAge`` is a Go duration; an entry older than maxAge is a miss. Only Succeeded nodes are
saved.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

KEY_RE = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class MemoError(Exception):
    """Invalid key or maxAge (the node errors, as in Argo)."""


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration string (``10s``, ``1h30m``); bare numbers are invalid."""
    s = text.strip()
    sign = -1.0 if s.startswith("-") else 1.0
    s = s.lstrip("+-")
    if s == "0":
        return 0.0
    pos = 0
    total = 0.0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if m is None:
            raise MemoError(f'time: invalid duration "{text}"')
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if not s:
        raise MemoError(f'time: invalid duration "{text}"')
    return sign * total


def parse_duration_or_seconds(text: str | int | float) -> float:
    """Argo's ParseStringToDuration: a bare integer is seconds, else a Go duration."""
    if isinstance(text, (int, float)):
        return float(text)
    t = str(text).strip()
    if re.fullmatch(r"\d+", t):
        return float(t)
    return parse_go_duration(t)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _fmt(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class MemoCache:
    """The local stand-in for Argo's memoization ConfigMaps."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, cache: str, key: str) -> Path:
        if not KEY_RE.match(key):
            raise MemoError(f"invalid cache key: {key}")
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", cache):
            raise MemoError(f"invalid cache name: {cache}")
        return self.root / cache / f"{key}.json"

    def load(self, cache: str, key: str, max_age: str) -> dict[str, Any] | None:
        """The cached outputs, or None on a miss (absent or older than maxAge)."""
        path = self._path(cache, key)
        max_age_s = None
        if max_age:
            try:
                max_age_s = parse_go_duration(max_age)
            except MemoError as exc:
                raise MemoError(f"invalid maxAge: {exc}") from exc
        try:
            entry = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError):
            return None
        if not entry.get("nodeID"):
            return None
        created = datetime.strptime(entry["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc
        )
        if max_age_s is not None and (_now() - created).total_seconds() > max_age_s:
            return None
        entry["lastHitTimestamp"] = _fmt(_now())
        self._write(path, entry)
        outputs: dict[str, Any] = entry.get("outputs") or {}
        return outputs

    def save(self, cache: str, key: str, node_id: str, outputs: dict[str, Any]) -> None:
        path = self._path(cache, key)
        now = _fmt(_now())
        entry = {
            "nodeID": node_id,
            "outputs": outputs,
            "creationTimestamp": now,
            "lastHitTimestamp": now,
        }
        self._write(path, entry)

    @staticmethod
    def _write(path: Path, entry: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w") as f:
            json.dump(entry, f, sort_keys=True)
        os.replace(tmp, path)
