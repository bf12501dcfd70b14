"""Per-container filesystem isolation, so parallel nodes never share absolute paths.

In a pod every container has its own /tmp and its own copy of the paths Argo places artifacts
and parameters at. Locally each container gets a private directory ``root`` on the host, and
its pod-owned absolute paths (/tmp, input/output artifact and parameter paths, the script
file, volume mounts) are mapped into it:

* ``bwrap`` mode (bubblewrap, Debian package ``bubblewrap``): the process runs in a mount
  namespace whose / is assembled from the host's top-level entries (read-write, so the
  workspace, the state directory and the datastores stay reachable) with /tmp and every owned
  path bound from ``root``. Host directories that must contain an owned path are rebuilt
  entry by entry, so nothing is ever created on the host's own filesystem.
* ``none`` mode (fallback when bwrap is missing or ``KUBELINE_SANDBOX=none``): the command,
  args, env values and script source have owned absolute paths rewritten to their place under
  ``root`` and TMPDIR points at ``root/tmp``. Programs that build such paths at run time
  (rather than naming them) can still collide; docs/local-executor.md says so.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

_SPECIAL = {"proc", "dev", "tmp"}


@dataclass
class ContainerFS:
    """The private filesystem view of one container."""

    root: Path
    owned: list[str] = field(default_factory=list)  # absolute container paths kept private
    binds: list[tuple[Path, str]] = field(default_factory=list)  # (host dir/file, container path)
    readonly: set[str] = field(default_factory=set)  # bind targets mounted read-only (bwrap)

    def host_path(self, container_path: str) -> Path:
        """Where a container path's private copy lives on the host."""
        p = PurePosixPath(container_path)
        for src, dst in sorted(self.binds, key=lambda b: -len(b[1])):
            d = PurePosixPath(dst)
            if p == d or d in p.parents:
                return src / p.relative_to(d)
        return self.root / str(p).lstrip("/")


def detect_mode() -> str:
    """``bwrap`` if bubblewrap is installed and usable, else ``none``; env can force."""
    forced = os.environ.get("KUBELINE_SANDBOX", "").strip().lower()
    if forced in ("none", "bwrap"):
        return forced
    return "bwrap" if shutil.which("bwrap") else "none"


class Sandbox:
    """Builds the command line that runs one container process with its private view."""

    def __init__(self, mode: str, passthrough: list[Path]) -> None:
        self.mode = mode
        self.bwrap = shutil.which("bwrap") or "bwrap"
        self.passthrough = sorted({str(p.resolve()) for p in passthrough})
        self._top = sorted(os.listdir("/"))

    def prepare(self, fs: ContainerFS) -> None:
        (fs.root / "tmp").mkdir(parents=True, exist_ok=True)
        os.chmod(fs.root / "tmp", 0o1777)
        if self.mode != "bwrap":
            self._prepare_rewritten(fs)

    def _prepare_rewritten(self, fs: ContainerFS) -> None:
        """Fallback mode: a rewritten path's folders that exist on the host exist privately
        too; a folder missing on the host stays missing (a pod's image lacks it as well)."""
        binds = {dst for _, dst in fs.binds}
        for point, host in self.mounts(fs).items():
            if point == "/tmp" or point in binds:
                continue
            target = Path(host) if os.path.lexists(point) else Path(host).parent
            target.mkdir(parents=True, exist_ok=True)

    def mounts(self, fs: ContainerFS) -> dict[str, str]:
        """Container path -> host path of every private mount of this container."""
        mounts = {"/tmp": str(fs.root / "tmp")}
        owned = [p for p in fs.owned if not _under(p, "/tmp")]
        if self.mode == "bwrap" and any(_top_level_missing(p) for p in owned):
            # /output, /file...: the private root itself is /, host entries bound over it
            mounts["/"] = str(fs.root)
            owned = [p for p in owned if PurePosixPath(mount_point(p)).parent != ROOT
                     or os.path.lexists(mount_point(p))]
        for path in owned:
            hollow = hollow_point(path) if self.mode == "bwrap" else None
            point = hollow or mount_point(path)
            if any(_under(point, m) for m in mounts if m != "/"):
                continue
            for m in [m for m in mounts if _under(m, point) and m != "/"]:
                del mounts[m]
            mounts[point] = str(fs.root / point.lstrip("/"))
        for src, dst in fs.binds:
            mounts[dst] = str(src)
        return mounts

    def wrap(self, argv: list[str], fs: ContainerFS, cwd: str) -> list[str]:
        if self.mode != "bwrap":
            return argv
        return self.wrap_view(argv, self.view(fs), cwd)

    def wrap_view(self, argv: list[str], view: list[tuple[str, str, bool]], cwd: str
                  ) -> list[str]:
        """bubblewrap's command line for a view (Sandbox.view's list of binds). Its own pid
        namespace, as a pod has: when the runner dies, bwrap and with it every process of
        the node (a step's forked script included) are killed."""
        args = [self.bwrap, "--die-with-parent", "--unshare-pid"]
        args += [a for dst, src, _ in view if dst == "/" for a in ("--bind", src, "/")]
        args += self._root_args([dst for dst, _, _ in view if dst != "/"])
        for dst, src, readonly in view:
            if dst != "/":
                args += ["--ro-bind" if readonly else "--bind", src, dst]
        args += ["--chdir", cwd, "--"]
        return args + argv

    def view(self, fs: ContainerFS) -> list[tuple[str, str, bool]]:
        """(container path, host path, read-only) of every bind, in the order they are made:
        shallow first, then the pass-through paths under /tmp over the private /tmp."""
        mounts = self.mounts(fs)
        for path in fs.owned:
            hollow = None if _under(path, "/tmp") else hollow_point(path)
            if hollow is not None and mounts.get(hollow) == str(fs.root / hollow.lstrip("/")):
                for child in _host_children(hollow):
                    if not any(_under(m, child) for m in mounts):
                        mounts[child] = child
        view = []
        for dst in sorted(mounts, key=lambda p: (p != "/", p.count("/"))):
            src = mounts[dst]
            if not os.path.exists(src):
                os.makedirs(src, exist_ok=True)
            view.append((dst, src, dst in fs.readonly))
        view += [(p, p, False) for p in self.passthrough if _under(p, "/tmp")]
        return view

    def _root_args(self, mount_points: list[str]) -> list[str]:
        """Rebuild / from host entries, splitting host dirs that contain a mount point."""
        out: list[str] = ["--dev-bind", "/dev", "/dev", "--bind", "/proc", "/proc"]
        out += self._dir_args("/", self._top, [m for m in mount_points if m != "/tmp"], top=True)
        return out

    def _dir_args(
        self, base: str, entries: list[str], mounts: list[str], top: bool = False
    ) -> list[str]:
        out: list[str] = []
        for name in entries:
            if top and name in _SPECIAL:
                continue
            host = os.path.join(base, name)
            inner = [m for m in mounts if _under(m, host)]
            if os.path.islink(host):
                out += ["--symlink", os.readlink(host), host]
                continue
            if not inner:
                out += ["--bind", host, host]
                continue
            if any(m == host for m in inner) or not os.path.isdir(host):
                continue  # replaced by a private mount
            out += ["--dir", host]
            try:
                children = sorted(os.listdir(host))
            except OSError:
                children = []
            out += self._dir_args(host, children, inner)
        return out

    def rewrite(self, text: str, fs: ContainerFS) -> str:
        """Fallback mode: point owned absolute paths named in text at their private copies."""
        if self.mode == "bwrap" or "/" not in text:
            return text
        paths = self.mounts(fs)
        for p in self.passthrough:
            if _under(p, "/tmp"):
                paths[p] = p
        alternatives = "|".join(re.escape(p) for p in sorted(paths, key=len, reverse=True))
        pattern = re.compile(r"(?<![\w.\-/])(" + alternatives + r")(?![\w.\-])")
        return pattern.sub(lambda m: paths[m.group(1)], text)

    def env(self, env: dict[str, str], fs: ContainerFS) -> dict[str, str]:
        if self.mode == "bwrap":
            env = dict(env)
            env.setdefault("TMPDIR", "/tmp")
            return env
        env = {k: self.rewrite(v, fs) for k, v in env.items()}
        env["TMPDIR"] = str(fs.root / "tmp")
        return env


def clear_link_stubs(view: list[tuple[str, str, bool]] | tuple[tuple[str, str, bool], ...]
                     ) -> None:
    """Just before bubblewrap starts a view with a private /: that folder keeps the symlinks
    an earlier start made for the host's top-level links (/bin, /lib...), and bubblewrap
    will not make them again over them. Done at the start, not when the view is computed: a
    warm process of the node may be setting up in the same folder then, and losing its
    /lib64 mid-setup fails its exec (ENOENT)."""
    for dst, src, _ in view:
        if dst != "/":
            continue
        for name in os.listdir("/"):
            stub = Path(src) / name
            if os.path.islink(os.path.join("/", name)) and stub.is_symlink():
                stub.unlink()


def mount_point(path: str) -> str:
    """The shallowest ancestor-or-self of path missing on the host, else path's parent.

    Binding there keeps the whole private subtree writable (as in a pod) without creating
    anything on the host's own filesystem.
    """
    p = PurePosixPath(path)
    chain = [*reversed(p.parents), p][1:]
    for c in chain:
        if not os.path.lexists(str(c)):
            return str(c)
    return str(p.parent) if str(p.parent) != "/" else str(p)


ROOT = PurePosixPath("/")


def _top_level_missing(path: str) -> bool:
    """A path that is itself a top-level entry the host lacks (/output, /file): only a
    private / lets it not exist until the program makes it, as a file or a folder."""
    p = PurePosixPath(path)
    return p.parent == ROOT and str(p) != "/" and not os.path.lexists(path)


def hollow_point(path: str) -> str | None:
    """The host folder to replace by a private copy holding the host's own entries, when
    path's shallowest missing ancestor M lies in one (not /): M then does not exist in the
    container until the program makes it, as in a pod, and what it makes stays private."""
    point = mount_point(path)
    parent = str(PurePosixPath(point).parent)
    if os.path.lexists(point) or parent == "/" or _under(parent, "/tmp"):
        return None
    return parent


def _host_children(folder: str) -> list[str]:
    """The entries of a host folder a hollowed copy binds back (dangling links left out)."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [c for c in (os.path.join(folder, n) for n in names) if os.path.exists(c)]


def _under(path: str, base: str) -> bool:
    return path == base or path.startswith(base.rstrip("/") + "/")


def default_passthrough(state_dir: Path) -> list[Path]:
    """Host paths a node must reach at their real location even if they are under /tmp: the
    state, the working and workspace folders, and everything this interpreter imports from
    (a virtualenv or an editable checkout in /tmp must stay visible inside the sandbox)."""
    paths = [state_dir, Path.cwd(), Path(sys.prefix), Path(sys.base_prefix),
             Path(sys.executable).parent]
    paths += [Path(entry) for entry in sys.path if entry]
    for name in ("HOME", "KUBELINE_WORKSPACE"):
        value = os.environ.get(name)
        if value:
            paths.append(Path(value))
    unique: dict[str, Path] = {}
    for path in paths:
        if path.is_dir():
            unique.setdefault(str(path.resolve()), path.resolve())
    return list(unique.values())
