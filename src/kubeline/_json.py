"""Canonical compact JSON: sorted keys, no spaces. One spelling for what kubeline stores
(run history, registry, step results), so equal values are equal text."""

from __future__ import annotations

import json
from typing import Any


def compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
