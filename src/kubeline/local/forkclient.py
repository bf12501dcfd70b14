"""The executor's side of the fork server (kubeline.runtime.forkserver): which launches it may
take, one server per sandbox layout, and a process-like handle per forked step.

A launch qualifies when it is the step shim (``python -m kubeline.runtime``, this
interpreter, no flags) under bubblewrap, and its start-up environment (``PYTHON*``,
``LANG``, ``LC_*``: what a fresh interpreter reads before running anything) equals the
server's; the child gets the launch's whole environment, working folder, log files and
mounts. Anything else starts as it always did. ``KUBELINE_FORKSERVER=0`` turns it off.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

from kubeline.local import procs
from kubeline.local.sandbox import Sandbox
from kubeline.local.warmpool import Launch

SHIM = ("-m", "kubeline.runtime")
SERVER_MODULE = "kubeline.runtime.forkserver"
_STARTUP_PREFIXES = ("PYTHON", "LC_")


def enabled() -> bool:
    return os.environ.get("KUBELINE_FORKSERVER", "").strip().lower() not in ("0", "false", "no")


def startup_env(env: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """The variables a fresh interpreter reads before running anything."""
    return tuple((k, v) for k, v in env if k.startswith(_STARTUP_PREFIXES) or k == "LANG")


def qualifies(launch: Launch) -> bool:
    program = launch.program
    return (launch.bwrap and len(program) > 2 and program[0] == sys.executable
            and tuple(program[1:3]) == SHIM and all(dst != "/" for dst, _, _ in launch.view))


def runs_shim(tmpl: dict[str, Any]) -> bool:
    """A template whose main container the fork server would take (qualifies() of its
    launch, told from the template alone: python names map to this interpreter)."""
    command = [str(c) for c in (tmpl.get("container") or {}).get("command") or []]
    return len(command) > 2 and command[0] in procs.PYTHON_NAMES and \
        tuple(command[1:3]) == SHIM


def layout_key(launch: Launch) -> tuple[Any, ...]:
    """What a server's own sandbox fixes: its mount points and start-up environment."""
    return (tuple(dst for dst, _, _ in launch.view), startup_env(launch.env), launch.cwd)


class ForkedStep:
    """A step forked by the server: what the leaf runner needs of a process."""

    def __init__(self, server: ForkServer, ident: int, pid: int) -> None:
        self.server = server
        self.ident = ident
        self.pid = pid  # in the sandbox's pid namespace: for display, never for signals
        self.returncode: int | None = None
        self._done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def wait(self) -> int:
        return await asyncio.shield(self._done)

    def kill(self) -> None:
        self.server.kill(self.ident)

    def finished(self, code: int) -> None:
        self.returncode = code
        if not self._done.done():
            self._done.set_result(code)

    def abandoned(self) -> None:
        """The run is stopping (a cancel, Ctrl-C): its waiter is cancelled as a cold node's
        is, rather than told of an exit code it would record as a failure."""
        if not self._done.done():
            self._done.cancel()


# the same for every step of a run (the run's mark finds its processes: procs.sweep)
_SERVER_KEEPS = ("PATH", "HOME", "KUBELINE_WORKSPACE", procs.RUN_MARK)


def server_env(env: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The server's own environment: what start-up reads, and no more (a step's variables,
    secrets included, reach only that step's child; the workspace names the run's processes
    for tools looking for them)."""
    kept = dict(startup_env(env))
    kept.update((k, v) for k, v in env if k in _SERVER_KEEPS)
    return kept


class ForkServer:
    """One running server: started lazily, shared by every step of its layout."""

    def __init__(self, wrapper: list[str], launch: Launch, log: Path, scratch: Path) -> None:
        bwrap, *rest = wrapper
        # CAP_SYS_ADMIN inside bubblewrap's user namespace: a child may make its own mounts
        # (and gives it up before running anything: forkserver.drop_mount_capability)
        self.argv = [bwrap, "--cap-add", "CAP_SYS_ADMIN", *rest, sys.executable,
                     "-m", SERVER_MODULE, "--scratch", str(scratch)]
        self.env = server_env(launch.env)
        self.cwd = launch.cwd
        self.log = log
        self.proc: procs.Child | None = None
        self.steps: dict[int, ForkedStep] = {}
        self.waiting: dict[int, asyncio.Future[int]] = {}
        self.ids = itertools.count(1)
        self.reader: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()
        self.gone = False  # the server exited (or never started): every spawn is refused
        self.closing = False

    async def _ensure(self) -> None:
        async with self.lock:
            if self.proc is not None:
                return
            self.log.parent.mkdir(parents=True, exist_ok=True)
            read_fd, write_fd = os.pipe()  # replies: never mixed with anything it prints
            try:
                self.proc = procs.start(
                    [*self.argv, "--reply-fd", str(write_fd)], env=self.env, cwd=self.cwd,
                    stdout=self.log, stderr=self.log, bwrap=True, stdin_pipe=True,
                    append=True, pass_fds=(write_fd,))
            except OSError:
                os.close(read_fd)
                self.gone = True
                raise
            finally:
                os.close(write_fd)
            replies = asyncio.StreamReader()
            await asyncio.get_running_loop().connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(replies), os.fdopen(read_fd, "rb", 0))
            self.reader = asyncio.ensure_future(self._read(replies))

    async def _read(self, replies: asyncio.StreamReader) -> None:
        try:
            while line := await replies.readline():
                self._reply(json.loads(line))
        except Exception:  # replies we cannot read: stop the server rather than guess
            if self.proc is not None:
                procs.kill(self.proc.pid)
        finally:
            self._gone()

    def _reply(self, message: dict[str, Any]) -> None:
        ident = int(message["id"])
        future = self.waiting.pop(ident, None) if "exit" not in message else None
        if "pid" in message and future is not None and not future.done():
            future.set_result(int(message["pid"]))
        elif "error" in message and future is not None and not future.done():
            self.steps.pop(ident, None)
            future.set_exception(OSError(str(message["error"])))
        elif "exit" in message:
            step = self.steps.pop(ident, None)
            if step is not None:
                step.finished(int(message["exit"]))

    def _gone(self) -> None:
        """The server exited (or its replies broke): whatever it ran went with its pid
        namespace, and every later spawn is refused."""
        self.gone = True
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(OSError("the fork server exited"))
        for step in self.steps.values():
            if self.closing:
                step.abandoned()
            else:
                step.finished(-9)  # the server died under it
        self.waiting.clear()
        self.steps.clear()

    def _send(self, message: dict[str, Any]) -> None:
        """One request; the server reads its stdin all the time, so a write never waits long
        (a server that has exited is noticed by the reply reader)."""
        if self.proc is not None and self.proc.stdin is not None and not self.gone:
            with contextlib.suppress(OSError):
                self.proc.stdin.write((json.dumps(message) + "\n").encode())
                self.proc.stdin.flush()

    async def spawn(self, launch: Launch) -> ForkedStep:
        """Fork the launch's step into its view; OSError when the server cannot run it."""
        await self._ensure()
        if self.gone:
            raise OSError("the fork server exited")
        ident = next(self.ids)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.waiting[ident] = future
        self._send({"id": ident, "argv": list(launch.program[1:]), "env": dict(launch.env),
                    "cwd": launch.cwd, "mounts": [list(m) for m in launch.view],
                    "stdout": str(launch.stdout), "stderr": str(launch.stderr)})
        step = ForkedStep(self, ident, 0)
        self.steps[ident] = step
        try:
            step.pid = await future
        except asyncio.CancelledError:
            self.kill(ident)  # requests are handled in order: the kill follows the fork
            raise
        return step

    def kill(self, ident: int) -> None:
        self._send({"kill": ident})

    async def close(self) -> None:
        self.closing = True
        proc = self.proc
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(Exception):
                proc.stdin.close()
        procs.kill(proc.pid)
        await proc.wait()
        if self.reader is not None:
            with contextlib.suppress(Exception):
                await self.reader


class ForkServers:
    """The run's servers, one per layout; ``take`` answers None for launches they do not
    serve (the caller starts those as usual)."""

    def __init__(self, log_dir: Path, sandbox: Sandbox) -> None:
        self.log_dir = log_dir
        self.sandbox = sandbox
        self.servers: dict[tuple[Any, ...], ForkServer] = {}
        self.closed = False

    async def take(self, launch: Launch) -> ForkedStep | None:
        """The step forked; None when the caller must start it itself. Once the run stops
        (close), a spawn is cancelled rather than started some other way."""
        if self.closed:
            raise asyncio.CancelledError
        if not qualifies(launch):
            return None
        key = layout_key(launch)
        server = self.servers.get(key)
        if server is None:
            server = self._server(launch, len(self.servers))
            self.servers[key] = server
        try:
            return await server.spawn(launch)
        except OSError:
            if self.closed or server.closing:
                raise asyncio.CancelledError from None
            return None

    def _server(self, launch: Launch, number: int) -> ForkServer:
        """A server whose own view has the layout's mount points over empty folders of its
        own: no step's private folders are ever the server's."""
        scratch = self.log_dir / f"forkserver-{number}"
        view = []
        for index, (dst, src, readonly) in enumerate(launch.view):
            if dst == src:  # a pass-through folder: the same for every step
                view.append((dst, src, readonly))
                continue
            stand_in = scratch / str(index)
            if os.path.isdir(src):
                stand_in.mkdir(parents=True, exist_ok=True)
            else:
                stand_in.parent.mkdir(parents=True, exist_ok=True)
                stand_in.touch()
            view.append((dst, str(stand_in), readonly))
        (scratch / "self-test").mkdir(parents=True, exist_ok=True)
        wrapper = self.sandbox.wrap_view([], view, launch.cwd)
        return ForkServer(wrapper, launch, self.log_dir / f"forkserver-{number}.log",
                          scratch / "self-test")

    async def close(self) -> None:
        self.closed = True
        for server in self.servers.values():
            await server.close()
