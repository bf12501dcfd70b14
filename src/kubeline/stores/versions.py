"""Versioned JSON records in a datastore: the registries of models and datasets.

A record lives at ``<prefix>/<name>/<version>.json``. The next version is claimed with a
create-if-absent write of that object, so two registrations at once never share a version,
on every datastore kind; a laptop and a cluster that share the datastore share the registry.
"""

from __future__ import annotations

import json
from typing import Any

from kubeline.stores.base import Store


def record_key(prefix: str, name: str, version: int) -> str:
    return f"{prefix}/{name}/{version}.json"


def versions(store: Store, prefix: str, name: str) -> list[int]:
    """The versions of ``name`` that have a record, ascending."""
    found = []
    start = len(prefix) + len(name) + 2
    for info in store.list(f"{prefix}/{name}/"):
        rest = info.key[start:]
        if rest.endswith(".json") and rest[:-5].isdigit():
            found.append(int(rest[:-5]))
    return sorted(found)


def names(store: Store, prefix: str) -> list[str]:
    """Every registered name under prefix, sorted."""
    return sorted({info.key[len(prefix) + 1:].split("/", 1)[0]
                   for info in store.list(f"{prefix}/")})


def read(store: Store, prefix: str, name: str, version: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(store.get_bytes(record_key(prefix, name, version)))
    return data


def write(store: Store, prefix: str, name: str, version: int, data: dict[str, Any]) -> None:
    store.put_bytes(record_key(prefix, name, version),
                    json.dumps(data, sort_keys=True).encode())


def claim(store: Store, prefix: str, name: str, data: dict[str, Any]) -> int:
    """Write ``data`` (with its "version") as the next version of name; returns the version."""
    version = (versions(store, prefix, name) or [0])[-1] + 1
    while True:  # the first writer of <version>.json owns the version
        body = json.dumps({**data, "version": version}, sort_keys=True).encode()
        if store.put_bytes(record_key(prefix, name, version), body, if_absent=True):
            return version
        version += 1
