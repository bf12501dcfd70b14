"""Daemon templates: a pod that keeps running in the background until its scope ends.

As in Argo, a ``daemon: true`` step or task is fulfilled once its container runs and its
``readinessProbe`` (if any) passes: the node stays Running, marked daemoned, the steps or
tasks after it start, and ``{{steps.X.ip}}`` / ``{{tasks.X.ip}}`` give its address. When the
steps or DAG template that started it ends (or the workflow does), the daemon is killed and
its node Succeeded (killDaemonedChildren). A daemon that ends on its own fails its node, even
with exit code 0 ("daemons should run indefinitely"). Locally every pod shares this
machine's network, so a daemon's address is the loopback address, 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from kubeline.local.nodes import FAILED, SUCCEEDED, Node

LOOPBACK_IP = "127.0.0.1"
PROBE_INTERVAL = 0.2  # seconds between readiness checks (Kubernetes' periodSeconds is coarser)


class ProbeError(Exception):
    """A readiness probe the local executor cannot run (named in the node's error)."""


def _port(value: Any, container: dict[str, Any]) -> int:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    for p in container.get("ports") or []:
        if str(p.get("name")) == str(value):
            return int(p["containerPort"])
    raise ProbeError(f"readinessProbe port {value!r} is not a port of the container")


def _tcp_ready(port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((LOOPBACK_IP, port), timeout=timeout):
            return True
    except OSError:
        return False


def _http_ready(port: int, path: str, timeout: float, headers: dict[str, str]) -> bool:
    conn = http.client.HTTPConnection(LOOPBACK_IP, port, timeout=timeout)
    try:
        conn.request("GET", path or "/", headers=headers)
        status = conn.getresponse().status
        return 200 <= status < 400  # Kubernetes' rule for httpGet probes
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def probe_check(container: dict[str, Any]) -> Callable[[], bool] | None:
    """A blocking check for the container's readinessProbe; None when it has none (ready
    once running). exec probes and https are refused by name."""
    probe = container.get("readinessProbe")
    if not probe:
        return None
    timeout = float(probe.get("timeoutSeconds") or 1)
    if "tcpSocket" in probe:
        port = _port(probe["tcpSocket"].get("port"), container)
        return lambda: _tcp_ready(port, timeout)
    if "httpGet" in probe:
        get = probe["httpGet"]
        if str(get.get("scheme") or "HTTP").upper() != "HTTP":
            raise ProbeError("readinessProbe httpGet over HTTPS is not supported locally")
        port = _port(get.get("port"), container)
        path = str(get.get("path") or "/")
        headers = {str(h["name"]): str(h.get("value", "")) for h in get.get("httpHeaders") or []}
        return lambda: _http_ready(port, path, timeout, headers)
    raise ProbeError("only tcpSocket and httpGet readiness probes run locally")


async def wait_ready(container: dict[str, Any]) -> None:
    """Return once the container's readiness probe passes (at once without a probe)."""
    check = probe_check(container)
    if check is None:
        return
    probe = container.get("readinessProbe") or {}
    delay = float(probe.get("initialDelaySeconds") or 0)
    if delay:
        await asyncio.sleep(delay)
    loop = asyncio.get_running_loop()
    while not await loop.run_in_executor(None, check):
        await asyncio.sleep(PROBE_INTERVAL)


@dataclass
class Daemon:
    """A daemoned node (and the Retry node around it, if any) and the run keeping it alive."""

    node: Node
    task: asyncio.Task[Any] | None
    wrappers: list[Node] = field(default_factory=list)
    stopped: bool = False


class Daemons:
    """Daemons by the id of the steps/DAG node whose end kills them ('' = the workflow)."""

    def __init__(self, finish: Callable[[Node, str, str | None], None]) -> None:
        self.by_scope: dict[str, list[Daemon]] = {}
        self.finish = finish

    def add(self, scope_id: str, daemon: Daemon) -> None:
        self.by_scope.setdefault(scope_id, []).append(daemon)

    def wrap(self, node: Node, wrapper: Node) -> None:
        """A Retry node that returned a daemoned attempt is stopped with it."""
        for daemons in self.by_scope.values():
            for d in daemons:
                if d.node is node:
                    d.wrappers.append(wrapper)

    async def stop(self, scope_id: str | None = None) -> None:
        """Kill the daemons of one scope (all when None); their nodes end Succeeded."""
        keys = list(self.by_scope) if scope_id is None else [scope_id]
        for key in keys:
            for d in self.by_scope.pop(key, []):
                d.stopped = True
                for n in [d.node, *d.wrappers]:
                    if n.phase not in (FAILED, "Error"):
                        n.daemoned = False
                        self.finish(n, SUCCEEDED, None)
                if d.task is not None:
                    d.task.cancel()
                    with contextlib.suppress(BaseException):
                        await d.task


async def first_of(ready: Awaitable[None], ended: asyncio.Task[Any]) -> bool:
    """True when ``ready`` finished before the pod's run ended."""
    waiter = asyncio.ensure_future(ready)
    try:
        await asyncio.wait({waiter, ended}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not waiter.done():
            waiter.cancel()
            with contextlib.suppress(BaseException):
                await waiter
    if ended.done():
        return False
    waiter.result()  # a ProbeError propagates
    return True
