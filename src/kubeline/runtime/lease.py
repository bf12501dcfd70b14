"""A compute lease per cache key, so that two identical steps started together compute once.

``kubeline/cache/<key>.lock`` is created with a conditional create by the step that will
compute the key; it holds the owner (run, step, host, pid) and a beat counter the owner
rewrites every ``expiry / 4`` seconds while it works. Anyone else with the same key waits
for the index record and then reports a hit. A lease is taken over when its owner is gone:

* on the same machine and in the same pid namespace (host name, boot id, namespace), at
  once when the owner's pid is dead;
* elsewhere, when its content has not changed for ``expiry`` seconds as seen by the waiter
  (no clock comparison between machines).

A takeover is itself a conditional create (``<lock>.takeover.<digest of the stale lease>``),
so of several waiters exactly one takes a stale lease over. The lease is not a cache entry:
a killed step leaves at most a lease, never an index record.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubeline.exceptions import DatastoreError
from kubeline.runtime.layout import cache_index
from kubeline.stores import Store

DEFAULT_EXPIRY = 120.0
ENV_EXPIRY = "KUBELINE_LEASE_SECONDS"


def lock_key(key: str) -> str:
    return cache_index(key)[: -len(".json")] + ".lock"


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def _pid_namespace() -> str:
    """Which pid numbering our pid belongs to (sandboxed steps each have their own)."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def expiry_seconds() -> float:
    try:
        return max(0.5, float(os.environ.get(ENV_EXPIRY, DEFAULT_EXPIRY)))
    except ValueError:
        return DEFAULT_EXPIRY


@dataclass
class Lease:
    """A held lease; ``beat`` keeps it alive from a thread, ``release`` ends it."""

    store: Store
    key: str
    owner: dict[str, Any]
    expiry: float
    marker: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _body(self, beat: int) -> bytes:
        return json.dumps({**self.owner, "beat": beat, "expiry": self.expiry},
                          sort_keys=True).encode("utf-8")

    def start_heartbeat(self) -> None:
        """Rewrite the lease every expiry/4 s from a daemon thread until stopped."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            beat = 1
            while not self._stop.wait(self.expiry / 4):
                beat += 1
                with contextlib.suppress(Exception):
                    self.store.put_bytes(lock_key(self.key), self._body(beat))

        self._thread = threading.Thread(target=loop, name="kubeline-lease", daemon=True)
        self._thread.start()

    def stop_heartbeat(self) -> None:
        """Stop the thread (before the shim forks the user's script: no threads then)."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def release(self) -> None:
        self.stop_heartbeat()
        for key in (lock_key(self.key), self.marker):
            if key is not None:
                with contextlib.suppress(DatastoreError, OSError):
                    self.store.delete(key)


def _owner(run_id: str, step_id: str) -> dict[str, Any]:
    return {"run_id": run_id, "step_id": step_id, "host": socket.gethostname(),
            "boot": _boot_id(), "pidns": _pid_namespace(), "pid": os.getpid()}


def _dead_here(content: bytes) -> bool:
    """True when the lease's owner ran on this machine, in our pid namespace, and its
    process is gone (another namespace's pid numbers say nothing about ours)."""
    try:
        owner = json.loads(content)
        if owner.get("host") != socket.gethostname() or owner.get("boot") != _boot_id() \
                or not owner.get("boot") or owner.get("pidns") != _pid_namespace() \
                or not owner.get("pidns"):
            return False
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return True
    except (ValueError, KeyError, TypeError, PermissionError, OSError):
        return False
    return False


def acquire_or_wait(store: Store, key: str, run_id: str, step_id: str,
                    lookup: Callable[[], dict[str, Any] | None],
                    on_wait: Callable[[dict[str, Any]], None] | None = None,
                    ) -> tuple[Lease | None, dict[str, Any] | None]:
    """(lease, None) when this step must compute the key, (None, index record) when another
    step computed it meanwhile."""
    expiry = expiry_seconds()
    lease = Lease(store, key, _owner(run_id, step_id), expiry)
    lock = lock_key(key)
    seen: bytes | None = None
    seen_at = time.monotonic()
    told = False
    poll = min(1.0, expiry / 10)
    while True:
        found = lookup()
        if found is not None:
            return None, found
        if store.put_bytes(lock, lease._body(1), if_absent=True):
            return lease, None
        try:
            content = store.get_bytes(lock)
        except DatastoreError:
            continue  # released between our create and our read: try again
        if content != seen:
            seen, seen_at = content, time.monotonic()
            if not told and on_wait is not None:
                told = True
                try:
                    on_wait(json.loads(content))
                except ValueError:
                    on_wait({})
        elif _dead_here(content) or time.monotonic() - seen_at > expiry:
            digest = hashlib.sha256(content).hexdigest()[:16]
            marker = f"{lock}.takeover.{digest}"
            if store.put_bytes(marker, lease._body(0), if_absent=True):
                lease.marker = marker
                store.put_bytes(lock, lease._body(1))
                found = lookup()  # the owner may have finished just before dying
                if found is not None:
                    lease.release()
                    return None, found
                return lease, None
        time.sleep(poll)
