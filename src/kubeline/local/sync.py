"""Argo's synchronization (mutexes and semaphores) within one local run.

A template's or the workflow's ``synchronization`` names mutexes (``mutexes: [{name}]``, or
the older ``mutex: {name}``) and semaphores (``semaphores: [{configMapKeyRef}]``, or
``semaphore:``) whose limit is the ConfigMap key's value. A node holds them from its start to
its end, in the order listed, as Argo's pods do; the workflow's are held for the whole run.
Argo shares them across every workflow of a namespace; locally they bind the nodes of one
run (docs/local-executor.md). Database-backed ones (``database: true``) need Argo's database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any


class SyncError(Exception):
    """A semaphore's ConfigMap key is missing or not a positive number."""


def _named(sync: dict[str, Any], plural: str, singular: str) -> list[dict[str, Any]]:
    items = [i for i in (sync.get(plural) or []) if isinstance(i, dict)]
    one = sync.get(singular)
    return items + ([one] if isinstance(one, dict) else [])


class Locks:
    """The run's mutexes and semaphores, created on first use."""

    def __init__(self, configmaps: dict[str, dict[str, str]]) -> None:
        self.configmaps = configmaps
        self.sems: dict[str, asyncio.Semaphore] = {}

    def _semaphore(self, key: str, limit: int) -> asyncio.Semaphore:
        if key not in self.sems:
            self.sems[key] = asyncio.Semaphore(limit)
        return self.sems[key]

    def plan(self, sync: dict[str, Any] | None) -> list[asyncio.Semaphore]:
        """The locks a synchronization block takes, in order; SyncError if one is bad."""
        if not sync:
            return []
        locks = [self._semaphore(f"mutex/{m.get('name')}", 1)
                 for m in _named(sync, "mutexes", "mutex")]
        for s in _named(sync, "semaphores", "semaphore"):
            ref = s.get("configMapKeyRef") or {}
            name, key = str(ref.get("name")), str(ref.get("key"))
            value = self.configmaps.get(name, {}).get(key)
            try:
                limit = int(str(value).strip())
            except ValueError:
                limit = 0
            if limit < 1:
                raise SyncError(
                    f"semaphore {name}/{key}: the ConfigMap key must hold a positive number "
                    f"(found {value!r}); add the ConfigMap to the file")
            locks.append(self._semaphore(f"semaphore/{name}/{key}", limit))
        return locks

    @contextlib.asynccontextmanager
    async def hold(self, locks: list[asyncio.Semaphore]) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for lock in locks:
                await stack.enter_async_context(lock)
            yield
