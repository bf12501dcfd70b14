"""The fork server: one sandboxed interpreter per run that has imported the step shim once and
forks a child per step, each child in a mount namespace of its own (docs/decisions/
0012-fork-server.md).

A step then costs a fork and a few bind mounts instead of a new interpreter, its start-up
(``site``) and the shim's imports: about 60 ms of CPU a step on a 2-core machine, which is
what limits two branches running side by side. The local executor starts this module inside
bubblewrap (``--cap-add CAP_SYS_ADMIN``, so that a child may make its own mount namespace in
bubblewrap's user namespace) with the same view a step's own bubblewrap would give it, and
talks to it over stdin (requests) and the pipe named by ``--reply-fd`` (replies; the
server's own stdout and stderr go to its log), one JSON object a line:

* ``{"id": I, "argv": [...], "env": {...}, "cwd": D, "mounts": [[dst, src, ro], ...],
  "stdout": F, "stderr": F}`` forks a child that binds each ``src`` over ``dst`` (in that
  order), then runs ``argv`` (what follows the interpreter, as ``warm.run`` does); answered
  by ``{"id": I, "pid": P}`` and, when the child ends, ``{"id": I, "exit": CODE}`` (a
  negative code is the signal that killed it), or ``{"id": I, "error": TEXT}`` when no
  child could be forked;
* ``{"kill": I}`` kills child I's process group.

The server exits when stdin closes; bubblewrap's pid namespace then takes every child with
it, as it does when the runner dies. At start it proves, in a throw-away child, that a child
can make its mounts; if not it exits, and the executor starts steps on their own. A child
gives up CAP_SYS_ADMIN (which it needed for its mounts) before running anything, and sets
no-new-privs: a step never holds more than one started on its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import os
import select
import signal
import sys
from pathlib import Path
from typing import Any

CLONE_NEWNS, CLONE_NEWPID = 0x00020000, 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
CAP_SYS_ADMIN = 21
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER = 38, 47, 3
_CAP_VERSION_3 = 0x20080522
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG = 1
PRELOAD = ("kubeline.runtime.shim", "kubeline.runtime.snapshots", "kubeline.reuse.snapshot")
_WARM = Path(__file__).resolve().parent.parent / "local" / "warm.py"


class MountError(OSError):
    """A bind mount of the child's view failed (reported on its stderr, exit code 125)."""


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise MountError(errno, f"{what}: {os.strerror(errno)}")


def enter_view(mounts: list[tuple[str, str, bool]]) -> None:
    """A mount namespace of this process's own with each source bound over its destination,
    in order (sources are opened first, so a mount of /tmp, say, never hides a later one),
    and a pid namespace for the processes it forks next (``pid_namespace``)."""
    libc = _libc()
    _check(libc.unshare(CLONE_NEWNS | CLONE_NEWPID), "unshare")
    _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    # opened in the new namespace: a bind from another namespace's mount is refused
    handles = [(dst, os.open(src, os.O_PATH | os.O_CLOEXEC), ro, os.path.isdir(src))
               for dst, src, ro in mounts]
    for dst, fd, ro, is_dir in handles:
        if is_dir:
            os.makedirs(dst, exist_ok=True)
        elif not os.path.exists(dst):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            open(dst, "ab").close()
        source = f"/proc/self/fd/{fd}".encode()
        _check(libc.mount(source, os.fsencode(dst), None, MS_BIND | MS_REC, None), f"bind {dst}")
        if ro:
            _check(libc.mount(None, os.fsencode(dst), None,
                              MS_REMOUNT | MS_BIND | MS_RDONLY, None), f"read-only {dst}")
        os.close(fd)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_mount_capability() -> None:
    """Give up CAP_SYS_ADMIN for good (ambient, effective, permitted, inheritable) and set
    no-new-privs, so nothing the step runs can undo its mounts or see another step's."""
    libc = _libc()
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_SYS_ADMIN, 0, 0)  # absent: fine
    header = _CapHeader(_CAP_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(libc.capget(ctypes.byref(header), data), "capget")
    bit = ~(1 << CAP_SYS_ADMIN) & 0xFFFFFFFF
    data[0].effective &= bit
    data[0].permitted &= bit
    data[0].inheritable &= bit
    _check(libc.capset(ctypes.byref(header), data), "capset")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no-new-privs")


def _exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code  # killed by signal N: 128+N, as a shell says


def die_with(parent: int) -> None:
    """SIGKILL this process when its parent dies; exit at once if the parent died before
    the kernel was told (a kill of the parent at that moment would otherwise be missed)."""
    _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(137)


def pid_namespace() -> None:
    """Become the first process after pid 1 of the pid namespace ``enter_view`` made, as a
    step under bubblewrap's ``--unshare-pid`` is: it sees only its own processes, and they
    all end with it. The caller's process waits for pid 1 and exits with its code; pid 1
    mounts the namespace's own /proc, reaps, and exits with the step's code."""
    init = os.fork()
    if init:
        _, status = os.waitpid(init, 0)
        os._exit(_exit_code(status))
    libc = _libc()
    # pid 1 cannot see its parent (getppid says 0), but shares its process group, which
    # is what a kill of the step kills
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _check(libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None),
           "mount /proc")
    step = os.fork()
    if step:
        while True:  # pid 1: reap whatever the step leaves behind, end with the step
            try:
                pid, status = os.wait()
            except ChildProcessError:
                os._exit(1)
            if pid == step:
                os._exit(_exit_code(status))
    die_with(1)


def _load_warm() -> Any:
    """kubeline/local/warm.py (runs argv as a fresh interpreter would), by path: importing
    the kubeline.local package would load the whole executor."""
    spec = importlib.util.spec_from_file_location("_kubeline_warm", _WARM)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _finish(code: object) -> None:
    """What the interpreter does at exit (SystemExit's code or message, atexit, waiting for
    threads, flushing stdio), without tearing down the modules the server imported."""
    import atexit
    import threading

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    with contextlib.suppress(Exception):
        threading._shutdown()  # type: ignore[attr-defined]  # joins non-daemon threads
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status & 0xFF)


def _child(request: dict[str, Any], warm: Any, closing: tuple[int, ...], server: int) -> None:
    """In the forked child: the step's session, view, stdio, environment, then its program."""
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in closing:  # the server's wake-up pipe and its reply pipe
            os.close(fd)
        os.setsid()
        die_with(server)
        null = os.open(os.devnull, os.O_RDONLY)
        out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        enter_view([(str(d), str(s), bool(ro)) for d, s, ro in request["mounts"]])
        pid_namespace()
        drop_mount_capability()
        for fd, target in ((null, 0), (out, 1), (err, 2)):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
    except BaseException as exc:  # the node reports it as a start failure
        with contextlib.suppress(Exception):
            os.write(2, f"kubeline fork server: cannot start the step: {exc}\n".encode())
        os._exit(125)
    try:
        warm.run(list(request["argv"]))
    except SystemExit as done:
        _finish(done.code)
    _finish(0)


class Server:
    """The request loop: fork on request, report exits, kill on request."""

    def __init__(self, reply_fd: int) -> None:
        self.children: dict[int, Any] = {}  # pid -> request id
        self.pids: dict[Any, int] = {}  # request id -> pid
        self.warm = _load_warm()
        self.reply_fd = reply_fd
        self.wakeup = os.pipe()
        for fd in self.wakeup:
            os.set_blocking(fd, False)

    def send(self, message: dict[str, Any]) -> None:
        os.write(self.reply_fd, (json.dumps(message) + "\n").encode())

    def spawn(self, request: dict[str, Any]) -> None:
        server = os.getpid()
        try:
            pid = os.fork()
        except OSError as exc:  # e.g. a pids limit: this step starts on its own
            self.send({"id": request["id"], "error": f"fork: {exc.strerror or exc}"})
            return
        if pid == 0:
            _child(request, self.warm, (*self.wakeup, self.reply_fd), server)
        self.children[pid] = request["id"]
        self.pids[request["id"]] = pid
        self.send({"id": request["id"], "pid": pid})

    def kill(self, ident: Any) -> None:
        pid = self.pids.get(ident)
        if pid is None:
            return
        # the group (the step and the script it forked) and, in case the child has not yet
        # made its own session, the child itself
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(pid, signal.SIGKILL)

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            ident = self.children.pop(pid, None)
            if ident is not None:
                self.pids.pop(ident, None)
                self.send({"id": ident, "exit": os.waitstatus_to_exitcode(status)})

    def serve(self) -> None:
        signal.set_wakeup_fd(self.wakeup[1])
        signal.signal(signal.SIGCHLD, lambda *_: None)
        pending = b""
        while True:
            try:
                ready, _, _ = select.select([0, self.wakeup[0]], [], [])
            except InterruptedError:
                continue
            if self.wakeup[0] in ready:
                with contextlib.suppress(BlockingIOError):
                    while os.read(self.wakeup[0], 512):
                        pass
                self.reap()
            if 0 in ready:
                data = os.read(0, 65536)
                if not data:
                    return
                pending += data
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    request = json.loads(line)
                    if "kill" in request:
                        self.kill(request["kill"])
                    else:
                        self.spawn(request)
            self.reap()


def can_mount(scratch: str) -> str:
    """'' when a child can make its own mount namespace and bind in it; else why not."""
    pid = os.fork()
    if pid == 0:
        try:
            enter_view([(scratch, scratch, True)])
            pid_namespace()
            drop_mount_capability()
        except BaseException as exc:
            with contextlib.suppress(Exception):
                os.write(2, f"kubeline fork server: a child cannot mount: {exc}\n".encode())
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return "" if os.waitstatus_to_exitcode(status) == 0 else "a child cannot make its mounts"


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m kubeline.runtime.forkserver")
    parser.add_argument("--reply-fd", type=int, required=True)
    parser.add_argument("--scratch", required=True, help="a folder the self-test may bind")
    args = parser.parse_args()
    why = can_mount(args.scratch)
    if why:
        print(f"kubeline fork server: {why}; steps start on their own", file=sys.stderr)
        sys.exit(3)
    for name in PRELOAD:  # once for the whole run, not once a step
        __import__(name)
    sys.stdout.flush()
    Server(args.reply_fd).serve()


if __name__ == "__main__":
    main()
