"""The other containers of a pod: sidecars beside main, and containerSet templates.

Argo starts a template's ``sidecars`` with main and kills them once main has ended; their
exit codes never decide the node. A ``containerSet`` template runs several containers in one
pod, each once the containers it names in ``dependencies`` have succeeded; the pod fails
when one fails (its dependents never start), its result is the stdout of the container named
``main``, and its outputs are read from that container's view. Each container is a process
with its own private filesystem; volumes are shared, as in a pod.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubeline.local import images
from kubeline.local.nodes import FAILED, SUCCEEDED
from kubeline.local.sandbox import ContainerFS

# (argv, fs, env, stdout, stderr, deadline) -> (exit code, timed out); leaf._spawn bound to ctx
Spawn = Callable[[list[str], ContainerFS, dict[str, str], Path, Path, float | None],
                 Coroutine[Any, Any, tuple[int, bool]]]


class PodContainerError(Exception):
    """A container that cannot start here (no command, a program missing): the node errors."""


@dataclass
class Prepared:
    """One container ready to start: its argv, environment, filesystem and log files."""

    name: str
    argv: list[str]
    env: dict[str, str]
    fs: ContainerFS
    stdout: Path
    stderr: Path


@dataclass
class ContainerOutcome:
    """What one container of a containerSet did (a Container node in Argo)."""

    name: str
    phase: str
    message: str
    exit_code: int | None = None


@dataclass
class SetResult:
    phase: str
    message: str
    main: Prepared
    timed_out: bool = False
    exit_code: int | None = None
    containers: list[ContainerOutcome] = field(default_factory=list)


def set_containers(tmpl: dict[str, Any]) -> list[dict[str, Any]]:
    """A containerSet's containers with the set's volumeMounts added to each."""
    cs = tmpl.get("containerSet") or {}
    shared = list(cs.get("volumeMounts") or [])
    out = []
    for c in cs.get("containers") or []:
        out.append({**c, "volumeMounts": [*(c.get("volumeMounts") or []), *shared]})
    return out


def main_of_set(containers: list[dict[str, Any]]) -> dict[str, Any]:
    """The container whose stdout is the result and whose view holds the outputs."""
    for c in containers:
        if c.get("name") == "main":
            return c
    return containers[0] if containers else {}


def check_dependencies(containers: list[dict[str, Any]]) -> None:
    names = [str(c.get("name")) for c in containers]
    for c in containers:
        for dep in c.get("dependencies") or []:
            if dep not in names:
                raise PodContainerError(
                    f"containerSet container {c.get('name')}: dependency '{dep}' is not a "
                    "container of the set")
    state: dict[str, int] = {}
    deps = {str(c.get("name")): [str(d) for d in c.get("dependencies") or []]
            for c in containers}

    def visit(n: str) -> None:
        if state.get(n) == 1:
            raise PodContainerError(f"containerSet: dependency cycle through container {n}")
        if state.get(n) == 2:
            return
        state[n] = 1
        for d in deps[n]:
            visit(d)
        state[n] = 2

    for n in deps:
        visit(n)


async def run_set(prepared: list[Prepared], containers: list[dict[str, Any]],
                  main: Prepared, spawn: Spawn, deadline: float | None) -> SetResult:
    """Run the set's containers, each after its dependencies succeeded."""
    done: dict[str, asyncio.Future[ContainerOutcome]] = {
        p.name: asyncio.get_running_loop().create_future() for p in prepared}
    deps = {str(c.get("name")): [str(d) for d in c.get("dependencies") or []]
            for c in containers}
    timed: list[bool] = []

    async def attempt(p: Prepared) -> ContainerOutcome:
        for d in deps.get(p.name, []):
            if (await done[d]).phase != SUCCEEDED:
                return ContainerOutcome(p.name, "Omitted", f"dependency {d} did not succeed")
        code, timed_out = await spawn(p.argv, p.fs, p.env, p.stdout, p.stderr, deadline)
        if timed_out:
            timed.append(True)
        ok = code == 0 and not timed_out
        return ContainerOutcome(p.name, SUCCEEDED if ok else FAILED,
                                "" if ok else f"Error (exit code {code})", code)

    async def one(p: Prepared) -> None:
        try:
            outcome = await attempt(p)
        except BaseException:
            if not done[p.name].done():
                done[p.name].set_result(ContainerOutcome(p.name, FAILED, "not run"))
            raise
        done[p.name].set_result(outcome)

    tasks = [asyncio.create_task(one(p)) for p in prepared]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*tasks, return_exceptions=True)
        raise
    outcomes = [done[p.name].result() for p in prepared]
    failed = [o for o in outcomes if o.phase == FAILED]
    main_outcome = done[main.name].result()
    if failed:
        first = failed[0]
        message = first.message if len(prepared) == 1 else \
            f"container {first.name}: {first.message}"
        return SetResult(FAILED, message, main, bool(timed), main_outcome.exit_code, outcomes)
    return SetResult(SUCCEEDED, "", main, False, main_outcome.exit_code, outcomes)


class Sidecars:
    """Sidecar processes started beside main; ``stop`` kills those still running."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[tuple[int, bool]]] = []

    def start(self, prepared: list[Prepared], spawn: Spawn) -> None:
        for p in prepared:
            self.tasks.append(asyncio.create_task(
                spawn(p.argv, p.fs, p.env, p.stdout, p.stderr, None)))

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            with contextlib.suppress(BaseException):
                await t


def argv_of(container: dict[str, Any], what: str) -> list[str]:
    image = str(container.get("image") or "")
    argv = images.container_argv(container, image)
    if not argv:
        raise PodContainerError(
            f"{what} has no command and image '{image}' has no known entrypoint "
            "(images are not run locally; set command)")
    return argv


def with_mirrored_mounts(container: dict[str, Any], main: dict[str, Any]) -> dict[str, Any]:
    """``mirrorVolumeMounts``: Argo gives the container main's volume mounts too."""
    if not container.get("mirrorVolumeMounts"):
        return container
    return {**container, "volumeMounts": [*(container.get("volumeMounts") or []),
                                          *(main.get("volumeMounts") or [])]}


def log_paths(node_dir: Path, name: str) -> tuple[Path, Path]:
    safe = name.replace(os.sep, "_")
    return node_dir / f"{safe}.stdout", node_dir / f"{safe}.stderr"
