"""Build the in-box cluster's images as OCI archives, without a daemon or a public registry.

Images (docs/cluster-images.md has the list of names and why each exists):
  pause                registry.k8s.io/pause: the sandbox image, pause.c from the k8s module
  runtime              kubeline's runtime image (docker/runtime/Dockerfile's contents)
  standins             Debian stand-ins for the public images Argo's examples name
  argoexec             Argo's executor image (quay.io/argoproj/argoexec)
  workflow-controller  Argo's controller image (quay.io/argoproj/workflow-controller)

Everything is cached under ${KUBELINE_CACHE:-~/.cache/kubeline}/images, keyed by content:
debootstrapped root folders by suite/mirror/packages, layers by their inputs, the runtime's
kubeline layer by the checkout's wheel. Each step's time goes to stderr; stdout gets one
line per image reference: ``<archive path><TAB><reference>``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import email.parser
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oci import BlobStore, Image, ImageConfig, Layer, write_archive, write_image, write_layer
from refs import qualify

# Bump when a change to this file changes what an image contains: every cached step rebuilds.
RECIPE = "1"
SUITE = "bookworm"
ARCH = "x86_64"
REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent

def _argo_pin(name: str) -> str:
    """Argo's pins live in one place, scripts/build-argo.sh."""
    text = (REPO / "scripts" / "build-argo.sh").read_text()
    match = re.search(rf'^{name}="([^"]+)"$', text, re.MULTILINE)
    if not match:
        raise SystemExit(f"images: error: no {name} in scripts/build-argo.sh")
    return match.group(1)


ARGO_VERSION = _argo_pin("ARGO_VERSION")
ARGO_MODULE = _argo_pin("ARGO_MODULE")
K8S_VERSION = "v1.34.4"
BUNDLE_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
EXTRAS = "s3,azure"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What python:3.11-slim carries besides Python: certificates, /etc/services, time zones.
PYTHON_PACKAGES = ("python3", "python3-pip", "python-is-python3", "ca-certificates",
                   "netbase", "tzdata")
# The stand-ins' tools: Python as above plus the commands Argo's examples call.
STANDIN_PACKAGES = (*PYTHON_PACKAGES, "busybox", "curl", "jq", "cowsay", "nginx-light",
                    "influxdb", "nodejs", "procps")
IMAGES = ("pause", "runtime", "standins", "argoexec", "workflow-controller")
# kubelet 1.34's default sandbox image is pause:3.10.1; containerd configs often say 3.10
PAUSE_ALIASES = ("3.10",)


class BuildError(Exception):
    """A build that cannot go on; main() prints it as one line."""


def log(message: str) -> None:
    print(f"images: {message}", file=sys.stderr, flush=True)


@contextmanager
def timed(what: str) -> Iterator[None]:
    start = time.monotonic()
    yield
    log(f"{what}: {time.monotonic() - start:.1f}s")


def run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    """Run a build tool in a process group of its own; its output goes to stderr, a failure
    names the command, and a build that is stopped (SIGTERM, Ctrl-C) stops the tool and
    everything it started (debootstrap's dpkg, pip's builds)."""
    process = subprocess.Popen(cmd, stdout=sys.stderr, env=env, start_new_session=True)
    try:
        returncode = process.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    if returncode != 0:
        raise BuildError(f"{shlex.join(cmd[:6])}{' ...' if len(cmd) > 6 else ''} "
                         f"failed with exit code {returncode} (output above)")


def key_of(*parts: object) -> str:
    return hashlib.sha256(json.dumps([RECIPE, *parts], default=str).encode()).hexdigest()[:20]


def tree_hash(root: Path, names: list[str]) -> str:
    """A content hash of files and folders under ``root`` (caches and bytecode left out)."""
    sha = hashlib.sha256()
    for name in names:
        top = root / name
        paths = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in paths:
            if "__pycache__" in path.parts or path.suffix == ".pyc" or any(
                    part.endswith(".egg-info") for part in path.parts):
                continue
            sha.update(str(path.relative_to(root)).encode() + b"\0")
            sha.update(hashlib.sha256(path.read_bytes()).digest())
    return sha.hexdigest()


def debian_mirror() -> str:
    """The Debian mirror apt is configured with (deb822 or one-line sources)."""
    override = os.environ.get("KUBELINE_DEBIAN_MIRROR")
    if override:
        return override
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for stanza in sources.read_text().split("\n\n"):
            fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.MULTILINE))
            if SUITE in fields.get("Suites", "").split() and "URIs" in fields:
                return str(fields["URIs"].split()[0])
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        match = re.search(rf"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+{SUITE}\s", legacy.read_text(),
                          re.MULTILINE)
        if match:
            return match.group(1)
    raise BuildError(f"no Debian {SUITE} mirror in apt's sources; set KUBELINE_DEBIAN_MIRROR")


def require_tools(names: list[str]) -> None:
    fixes = {"debootstrap": "apt-get install debootstrap", "gcc": "apt-get install gcc",
             "unshare": "apt-get install util-linux", "bwrap": "apt-get install bubblewrap",
             "go": "install Go >= 1.24 (https://go.dev/dl/) or set GO=/path/to/go"}
    for name in names:
        found = Path(go_bin()).exists() if name == "go" else shutil.which(name) is not None
        if not found:
            raise BuildError(f"'{name}' is not installed: {fixes.get(name, name)}")
    if os.geteuid() != 0:
        raise BuildError("building images needs root (debootstrap, chroot, overlay mounts): "
                         "run as root")


def go_bin() -> str:
    return os.environ.get("GO") or shutil.which("go") or "/usr/local/go/bin/go"


def module_dir(module: str, version: str) -> Path:
    """A Go module's folder in the module cache, downloaded (and checksum-checked) if needed."""
    out = subprocess.run([go_bin(), "mod", "download", "-json", f"{module}@{version}"],
                         capture_output=True, text=True, check=False, cwd=tempfile.gettempdir(),
                         env={**os.environ, "GOWORK": "off", "GOFLAGS": "-mod=mod"})
    if out.returncode != 0:
        raise BuildError(f"go mod download {module}@{version} failed: {out.stdout.strip()} "
                         f"{out.stderr.strip()}")
    return Path(json.loads(out.stdout)["Dir"])


class Cache:
    """The folders under ${KUBELINE_CACHE}/images."""

    def __init__(self) -> None:
        root = os.environ.get("KUBELINE_CACHE") or str(Path.home() / ".cache" / "kubeline")
        self.root = Path(root) / "images"
        self.store = BlobStore(self.root / "blobs")
        for sub in ("rootfs", "layers", "work", "archives", "wheels", "debs", "pip"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One build at a time per cache (worktrees and the cluster share it); scratch
        folders a killed build left behind are removed once the lock is held."""
        with (self.root / ".lock").open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log("waiting for another image build using this cache")
                fcntl.flock(lock, fcntl.LOCK_EX)
            for stale in (self.root / "work").iterdir():
                remove(stale)
            yield

    def work(self, name: str) -> Path:
        """A fresh scratch folder."""
        path = self.root / "work" / name
        remove(path)
        path.mkdir(parents=True)
        return path

    def layer(self, name: str, key: str, make: Callable[[Path], None] | None = None,
              source: Path | None = None) -> Layer:
        """The layer ``name`` for ``key``: from the cache, or packed from the folder
        ``source`` or from a scratch folder that ``make`` fills."""
        record = self.root / "layers" / f"{name}-{key}.json"
        if record.exists():
            layer = Layer.from_json(json.loads(record.read_text()))
            if self.store.path(layer.digest).exists():
                record.touch()  # recently used: kept by prune()
                return layer
        with timed(f"layer {name}"):
            if source is not None:
                layer = write_layer(source, self.store, comment=f"kubeline {name} layer")
            else:
                assert make is not None
                folder = self.work(f"layer-{name}")
                make(folder)
                layer = write_layer(folder, self.store, comment=f"kubeline {name} layer")
                remove(folder)
        record.write_text(json.dumps(layer.to_json()))
        return layer


def remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=True)


# --- root folders made by debootstrap ------------------------------------------------------

def debootstrap(cache: Cache, name: str, packages: tuple[str, ...]) -> tuple[Path, str]:
    """A Debian minbase root folder with ``packages``, cleaned as a slim image is; cached."""
    mirror = debian_mirror()
    key = key_of("rootfs", SUITE, mirror, sorted(packages))
    done = cache.root / "rootfs" / f"{name}-{key}"
    if (done / "usr" / "bin").is_dir():
        return done, key
    target = cache.work(f"rootfs-{name}")
    with timed(f"debootstrap {name} ({SUITE}, {mirror})"):
        run(["debootstrap", "--variant=minbase", f"--include={','.join(packages)}",
             f"--cache-dir={cache.root / 'debs'}", SUITE, str(target), mirror])
    slim(target)
    for old in (cache.root / "rootfs").glob(f"{name}-*"):
        remove(old)
    target.rename(done)
    return done, key


def slim(root: Path) -> None:
    """What Debian's slim images leave out, and nothing of the build host."""
    for pattern in ("var/cache/apt/*.bin", "var/cache/apt/archives/*.deb", "var/lib/apt/lists/*",
                    "usr/share/doc/*", "usr/share/man/*", "usr/share/info/*", "var/log/*",
                    "var/cache/debconf/*-old", "var/lib/dpkg/*-old", "tmp/*", "root/.cache",
                    "etc/hostname", "etc/hosts", "etc/resolv.conf", "etc/machine-id"):
        for path in root.glob(pattern):
            remove(path)
    # kubelet writes a pod's hosts and resolv.conf; images ship none of the build machine's
    (root / "etc" / "resolv.conf").write_text("")
    (root / "etc" / "hosts").write_text("127.0.0.1\tlocalhost\n::1\tlocalhost\n")
    # as in python:3.11-slim, pip installs into the image's Python without a venv
    for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()


def rootfs_layer(cache: Cache, name: str, packages: tuple[str, ...],
                 finish: Callable[[Path], None] | None = None) -> tuple[Layer, Path, str]:
    root, key = debootstrap(cache, name, packages)
    if finish is not None:
        finish(root)
    return cache.layer(name, key, source=root), root, key


def hardlink_duplicates(root: Path, prefer: str = "usr/") -> None:
    """Make identical files in one layer one file: the layer stores the others as tar hard
    links. kubeline and its pure-Python dependencies are the same files in /usr/local and in
    each /opt/kubeline bundle. The copy under ``prefer`` is kept (its mtime matches its
    compiled bytecode)."""
    groups: dict[tuple[int, int, int, int], list[Path]] = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            st = path.lstat()
            if st.st_size:
                groups.setdefault((st.st_size, st.st_mode, st.st_uid, st.st_gid), []).append(path)
    for paths in groups.values():
        if len(paths) < 2:
            continue
        by_content: dict[bytes, list[Path]] = {}
        for path in paths:
            by_content.setdefault(hashlib.sha256(path.read_bytes()).digest(), []).append(path)
        for same in by_content.values():
            same.sort(key=lambda p: (not str(p.relative_to(root)).startswith(prefer), str(p)))
            keep = same[0]
            for other in same[1:]:
                if not other.samefile(keep):
                    link = other.with_name(f".{other.name}.link")
                    os.link(keep, link)
                    link.replace(other)


# --- running a command in an image under construction --------------------------------------

def in_overlay(lowers: list[Path], upper: Path, command: list[str],
               binds: dict[str, Path] | None = None) -> None:
    """Run ``command`` as root inside the union of ``lowers`` (first on top) with changes
    going to ``upper``: the folder then holds exactly one layer's worth of files, with
    deletions as overlayfs whiteouts. No network; /proc, /dev and /tmp are private."""
    work = upper.with_name(upper.name + ".work")
    merged = upper.with_name(upper.name + ".merged")
    for folder in (work, merged):
        remove(folder)
        folder.mkdir()
    options = f"lowerdir={':'.join(map(str, lowers))},upperdir={upper},workdir={work}"
    bwrap = ["bwrap", "--bind", str(merged), "/", "--proc", "/proc", "--dev", "/dev",
             "--tmpfs", "/tmp", "--unshare-net", "--unshare-ipc", "--die-with-parent",
             "--clearenv", "--setenv", "PATH", PATH_ENV.split("=", 1)[1],
             "--setenv", "HOME", "/root", "--setenv", "LANG", "C.UTF-8"]
    for inside, outside in (binds or {}).items():
        bwrap += ["--ro-bind", str(outside), inside]
    script = (f"mount -t overlay overlay -o {shlex.quote(options)} {shlex.quote(str(merged))}"
              f" && exec {shlex.join([*bwrap, '--', *command])}")
    try:
        run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script])
    finally:
        remove(work)
        remove(merged)


# --- the images ----------------------------------------------------------------------------

@dataclass
class Built:
    """An archive and the images in it."""

    name: str
    archive: Path
    images: list[Image]


def archive(cache: Cache, name: str, images: list[Image]) -> Built:
    """Write ``<name>.tar`` unless the one there holds the same images."""
    out = cache.root / "archives" / f"{name}.tar"
    stamp = out.with_suffix(".json")
    content = [[image.manifest_digest, list(image.refs)] for image in images]
    if not (out.exists() and stamp.exists() and json.loads(stamp.read_text()) == content):
        with timed(f"archive {out.name}"):
            write_archive(cache.store, images, out)
        stamp.write_text(json.dumps(content))
    return Built(name, out, images)


def build_pause(cache: Cache) -> Built:
    """registry.k8s.io/pause from pause.c of the pinned k8s module, as its Dockerfile does:
    scratch + a static /pause run as 65535."""
    k8s = module_dir("k8s.io/kubernetes", K8S_VERSION)
    source = k8s / "build" / "pause" / "linux" / "pause.c"
    match = re.search(r"^TAG \?= (\S+)", (k8s / "build" / "pause" / "Makefile").read_text(),
                      re.MULTILINE)
    if not match:
        raise BuildError(f"no TAG in {k8s}/build/pause/Makefile")
    tag = match.group(1)
    gcc = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True,
                         check=False).stdout.strip()

    def make(folder: Path) -> None:
        run(["gcc", "-Os", "-Wall", "-Werror", "-static", f'-DVERSION=v{tag}-{K8S_VERSION}',
             "-o", str(folder / "pause"), str(source)])
        run(["strip", str(folder / "pause")])
        (folder / "pause").chmod(0o755)

    layer = cache.layer("pause", key_of("pause", source.read_bytes().hex(), tag, gcc), make)
    image = write_image(cache.store, [layer],
                        ImageConfig(entrypoint=["/pause"], user="65535:65535"),
                        [f"registry.k8s.io/pause:{t}" for t in (tag, *PAUSE_ALIASES)])
    return archive(cache, "pause", [image])


def runtime_ref() -> str:
    """The image compiled manifests name by default (kubeline.workspace.config)."""
    tree = ast.parse((REPO / "src/kubeline/workspace/config.py").read_text())
    for node in tree.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                and any(isinstance(t, ast.Name) and t.id == "RUNTIME_IMAGE"
                        for t in node.targets)):
            return qualify(str(node.value.value))
    raise BuildError("RUNTIME_IMAGE not found in src/kubeline/workspace/config.py")


def pip(*args: str) -> list[str]:
    python = os.environ.get("PYTHON") or sys.executable
    command = [python, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    if args[0] == "install":
        # --target folders are not this interpreter's environment: no conflict report
        command += ["--no-warn-conflicts", "--root-user-action=ignore"]
    return command


def source_wheel(cache: Cache, source: Path, dist: str) -> Path:
    """The wheel of the project in ``source`` (named ``dist``), built once per source content
    from a copy of the sources (so the checkout gets no build/ or egg-info)."""
    names = [n for n in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "setup.cfg",
                         "setup.py", "src", f"{dist}.py") if (source / n).exists()]
    folder = cache.root / "wheels" / tree_hash(source, names)[:20]
    wheels = sorted(folder.glob(f"{dist}-*.whl"))
    if wheels:
        return wheels[0]
    with timed(f"{dist} wheel"):
        scratch = cache.work("wheel-src")
        for name in names:
            path = source / name
            if path.is_dir():
                shutil.copytree(path, scratch / name, ignore=shutil.ignore_patterns(
                    "__pycache__", "*.pyc", "*.egg-info"))
            else:
                shutil.copy2(path, scratch / name)
        tmp = cache.work("wheel-out")
        run(pip("wheel", "--no-deps", "--quiet", "-w", str(tmp), str(scratch)))
        built = sorted(tmp.glob(f"{dist}-*.whl"))
        if not built:
            raise BuildError(f"pip wheel made no {dist} wheel")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.move(str(built[0]), folder / built[0].name)
        remove(scratch)
        remove(tmp)
    return next(folder.glob(f"{dist}-*.whl"))


def wheel_metadata(wheel: Path) -> tuple[str, list[str]]:
    """(a hash of every file in the wheel, its Requires-Dist lines) from RECORD/METADATA."""
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        record = next(n for n in names if n.endswith(".dist-info/RECORD"))
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requires = email.parser.Parser().parsestr(zf.read(metadata).decode()).get_all(
            "Requires-Dist") or []
        return hashlib.sha256(zf.read(record)).hexdigest()[:20], sorted(requires)


def bundle_args(version: str) -> list[str]:
    """pip options that pick wheels for CPython ``version`` on glibc (the Dockerfile's)."""
    return ["--only-binary=:all:", "--implementation", "cp", "--python-version", version,
            "--platform", f"manylinux2014_{ARCH}"]


def build_runtime(cache: Cache) -> Built:
    """kubeline's runtime image: python:3.11-slim's contents from debootstrap, kubeline's
    dependencies in one layer (rebuilt only when they change), kubeline itself in a small
    top layer; /opt/kubeline for the inject mode (decision 0005)."""
    py_layer, py_root, py_key = rootfs_layer(cache, "python", PYTHON_PACKAGES)
    wheel = source_wheel(cache, REPO, "kubeline")
    wheel_key, requires = wheel_metadata(wheel)
    # the `azureml` import name (compat/azureml, decision 0016): AML step scripts run as they are
    compat = REPO / "compat" / "azureml"
    if not (compat / "setup.py").is_file():
        raise BuildError(f"{compat} is missing: the runtime image carries kubeline-azureml "
                         "from it (build from a full checkout)")
    finder = source_wheel(cache, compat, "kubeline_azureml")
    finder_key, _ = wheel_metadata(finder)
    pip_env = {**os.environ, "PIP_CACHE_DIR": str(cache.root / "pip")}
    deps_key = key_of("deps", "linked", py_key, requires, BUNDLE_PYTHONS, EXTRAS, ARCH)

    def make_deps(upper: Path) -> None:
        house = cache.work("wheelhouse")
        run(pip("download", "--quiet", "-d", str(house), *bundle_args("3.11"),
                f"kubeline[{EXTRAS}] @ {wheel.as_uri()}"), env=pip_env)
        in_overlay([py_root], upper, [
            "sh", "-c",
            "python3 -m pip install --quiet --no-index --find-links /wheels --no-cache-dir"
            f" --root-user-action=ignore 'kubeline[{EXTRAS}]'"
            " && python3 -m pip uninstall --quiet --yes --root-user-action=ignore kubeline"],
            binds={"/wheels": house})
        for version in BUNDLE_PYTHONS:
            target = upper / "opt" / "kubeline" / f"py{version}"
            run(pip("install", "--quiet", "--no-compile", *bundle_args(version),
                    "--target", str(target), f"kubeline[{EXTRAS}] @ {wheel.as_uri()}"),
                env=pip_env)
            for own in [target / "kubeline", target / "bin", *target.glob("kubeline-*.dist-info")]:
                remove(own)
        remove(house)
        run(["chmod", "-R", "a+rX", str(upper / "opt")])
        hardlink_duplicates(upper)

    # kept as a folder: it is the lower layer kubeline is installed over at every change
    deps_root = cache.root / "rootfs" / f"runtime-deps-{deps_key}"
    if not deps_root.is_dir():
        with timed("runtime dependencies"):
            folder = cache.work("runtime-deps")
            make_deps(folder)
            for old in (cache.root / "rootfs").glob("runtime-deps-*"):
                remove(old)
            folder.rename(deps_root)
        # the layer is packed from this very folder, not from an earlier build of it
        (cache.root / "layers" / f"runtime-deps-{deps_key}.json").unlink(missing_ok=True)
    deps = cache.layer("runtime-deps", deps_key, source=deps_root)

    def make_kubeline(upper: Path) -> None:
        house = cache.work("wheelhouse")
        for each in (wheel, finder):
            shutil.copy2(each, house / each.name)
        in_overlay([deps_root, py_root], upper, [
            "python3", "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
            "--no-cache-dir", "--root-user-action=ignore", f"/wheels/{wheel.name}",
            f"/wheels/{finder.name}"],
            binds={"/wheels": house})
        lib = upper / "opt" / "kubeline" / "lib"
        run(pip("install", "--quiet", "--no-compile", "--no-deps", "--target", str(lib),
                str(wheel)))
        remove(lib / "bin")
        for version in BUNDLE_PYTHONS:
            (upper / "opt" / "kubeline" / f"py{version}").mkdir()
            run(["cp", "-al", *map(str, sorted(lib.iterdir())),
                 str(upper / "opt" / "kubeline" / f"py{version}")])
        shutil.copy2(REPO / "src/kubeline/runtime/boot.py", upper / "opt/kubeline/boot.py")
        run(["chmod", "-R", "a+rX", str(upper / "opt")])
        hardlink_duplicates(upper)
        remove(house)

    top = cache.layer("runtime-kubeline", key_of("kubeline", deps_key, wheel_key, finder_key),
                      make_kubeline)
    config = ImageConfig(entrypoint=["python3", "-m", "kubeline.runtime"], user="65532:65532",
                         env=[PATH_ENV, "LANG=C.UTF-8"])
    return archive(cache, "runtime", [write_image(cache.store, [py_layer, deps, top], config,
                                                  [runtime_ref()])])


def add_busybox_applets(root: Path) -> None:
    """busybox's applets as /usr/local/bin links, for commands Debian does not already have
    (wget, nc, ...), as in the busybox and alpine images."""
    stamp = root / "usr/local/bin/.busybox-applets"
    if stamp.exists():
        return
    listing = subprocess.run(["chroot", str(root), "busybox", "--list"], capture_output=True,
                             text=True, check=True).stdout.split()
    for applet in listing:
        if applet in {"busybox", "init", "linuxrc"}:
            continue
        if any((root / d / applet).exists() or (root / d / applet).is_symlink()
               for d in ("usr/local/bin", "usr/bin", "usr/sbin", "bin", "sbin")):
            continue
        (root / "usr/local/bin" / applet).symlink_to("/bin/busybox")
    stamp.write_text("")


# Public names Argo's examples use, their stand-in's settings (docs/cluster-images.md).
STANDINS: dict[str, dict[str, list[str]]] = {
    "busybox": {"cmd": ["sh"]},
    "alpine:3.23": {"cmd": ["/bin/sh"]},
    "alpine:latest": {"cmd": ["/bin/sh"]},
    "alpine:3.6": {"cmd": ["/bin/sh"]},
    "debian:latest": {"cmd": ["bash"]},
    "debian:9.1": {"cmd": ["bash"]},
    "debian:8.9": {"cmd": ["bash"]},
    "ubuntu:17.10": {"cmd": ["/bin/bash"]},
    "python:alpine3.23": {"cmd": ["python3"]},
    "python:3.11": {"cmd": ["python3"]},
    "python:3.11-slim": {"cmd": ["python3"]},
    "curlimages/curl:latest": {"entrypoint": ["curl"], "cmd": ["--help"]},
    "stedolan/jq:latest": {"entrypoint": ["jq"], "cmd": ["--help"]},
    "nginx:1.13": {"cmd": ["nginx", "-g", "daemon off;"]},
    "influxdb:1.2": {"cmd": ["influxd"]},
    "node:9.1-alpine": {"cmd": ["node"]},
    "docker/whalesay:latest": {"cmd": ["/bin/bash"]},
    "argoproj/argosay:v1": {"cmd": ["cowsay"]},
}
ARGOSAY = "argoproj/argosay:v2"


def build_standins(cache: Cache) -> Built:
    """One Debian layer (shell, coreutils, busybox applets, Python, curl, jq, cowsay, nginx,
    influxd, node) shared by every stand-in; argosay adds its program on top."""
    base, _, _ = rootfs_layer(cache, "standin", STANDIN_PACKAGES, add_busybox_applets)
    env = [PATH_ENV + ":/usr/games", "LANG=C.UTF-8"]
    images = [write_image(cache.store, [base],
                          ImageConfig(entrypoint=spec.get("entrypoint"), cmd=spec.get("cmd"),
                                      env=env), [qualify(name)])
              for name, spec in STANDINS.items()]
    program = HERE / "argosay"

    def make_argosay(folder: Path) -> None:
        shutil.copy2(program, folder / "argosay")
        (folder / "argosay").chmod(0o755)

    argosay = cache.layer("argosay", key_of("argosay", program.read_bytes().hex()), make_argosay)
    images.append(write_image(cache.store, [base, argosay],
                              ImageConfig(entrypoint=["/argosay"], env=env), [qualify(ARGOSAY)]))
    return archive(cache, "standins", images)


def argo_binaries() -> dict[str, Path]:
    """argoexec and workflow-controller from the cluster build (scripts/cluster/build.sh)."""
    script = Path(os.environ.get("KUBELINE_CLUSTER_BUILD_SH")
                  or REPO / "scripts" / "cluster" / "build.sh")
    if not script.exists():
        raise BuildError(f"{script} is missing: it builds argoexec and workflow-controller "
                         "(set KUBELINE_CLUSTER_BUILD_SH to the cluster's build script)")
    out = subprocess.run(["bash", str(script), "argoexec", "workflow-controller"],
                         stdout=subprocess.PIPE, text=True, check=False)
    if out.returncode != 0:
        raise BuildError(f"{script} argoexec workflow-controller failed "
                         f"(exit {out.returncode}; output above)")
    paths = [Path(line) for line in out.stdout.split() if line.strip()]
    found = {p.name: p for p in paths}
    for name in ("argoexec", "workflow-controller"):
        if name not in found or not found[name].is_file():
            raise BuildError(f"{script} did not print a path to {name}: {out.stdout!r}")
    return found


def distroless_layer(cache: Cache) -> Layer:
    """What gcr.io/distroless/static holds (users root/nobody/nonroot, CA certificates, time
    zones, /tmp) plus the files Argo's Dockerfile adds (mime.types, nsswitch.conf,
    ssh_known_hosts), taken from Debian's packages and Argo's module."""
    _, py_root, py_key = rootfs_layer(cache, "python", PYTHON_PACKAGES)
    hack = module_dir(ARGO_MODULE, ARGO_VERSION) / "hack"

    def make(folder: Path) -> None:
        etc = folder / "etc"
        (etc / "ssl/certs").mkdir(parents=True)
        (etc / "ssh").mkdir()
        (etc / "passwd").write_text(
            "root:x:0:0:root:/root:/sbin/nologin\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
            "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")
        (etc / "group").write_text("root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n")
        shutil.copy2(py_root / "etc/ssl/certs/ca-certificates.crt", etc / "ssl/certs")
        shutil.copy2(py_root / "etc/mime.types", etc / "mime.types")
        shutil.copy2(hack / "nsswitch.conf", etc / "nsswitch.conf")
        shutil.copy2(hack / "ssh_known_hosts", etc / "ssh" / "ssh_known_hosts")
        (folder / "usr/share").mkdir(parents=True)
        run(["cp", "-a", str(py_root / "usr/share/zoneinfo"), str(folder / "usr/share/")])
        (folder / "tmp").mkdir(mode=0o1777)
        (folder / "tmp").chmod(0o1777)
        (folder / "root").mkdir(mode=0o700)
        home = folder / "home" / "nonroot"
        home.mkdir(parents=True, mode=0o700)
        os.chown(home, 65532, 65532)
        run(["chmod", "-R", "u+w,a+rX", str(etc)])

    return cache.layer("distroless", key_of("distroless", py_key, ARGO_VERSION), make)


def binary_layer(cache: Cache, name: str, binary: Path, owner: int) -> Layer:
    digest = hashlib.sha256(binary.read_bytes()).hexdigest()

    def make(folder: Path) -> None:
        (folder / "bin").mkdir()
        shutil.copy2(binary, folder / "bin" / name)
        (folder / "bin" / name).chmod(0o755)
        os.chown(folder / "bin" / name, owner, owner)

    return cache.layer(name, key_of(name, digest, owner), make)


def build_argo(cache: Cache, which: list[str], binaries: dict[str, Path]) -> list[Built]:
    """Argo's executor and controller images as its Dockerfile makes them (distroless base,
    the binary in /bin, entrypoint its name; the controller runs as 8737)."""
    base = distroless_layer(cache)
    env = [PATH_ENV, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"]
    built = []
    if "argoexec" in which:
        layer = binary_layer(cache, "argoexec", binaries["argoexec"], 0)
        image = write_image(cache.store, [base, layer],
                            ImageConfig(entrypoint=["argoexec"], env=env),
                            [f"quay.io/argoproj/argoexec:{ARGO_VERSION}",
                             "quay.io/argoproj/argoexec:latest"])
        built.append(archive(cache, "argoexec", [image]))
    if "workflow-controller" in which:
        layer = binary_layer(cache, "workflow-controller", binaries["workflow-controller"], 8737)
        image = write_image(cache.store, [base, layer],
                            ImageConfig(entrypoint=["workflow-controller"], env=env, user="8737"),
                            [f"quay.io/argoproj/workflow-controller:{ARGO_VERSION}",
                             "quay.io/argoproj/workflow-controller:latest"])
        built.append(archive(cache, "workflow-controller", [image]))
    return built


def prune(cache: Cache, keep: int = 3) -> None:
    """Drop what no archive uses beyond the ``keep`` newest layers of each kind (so switching
    between a few checkouts stays fast): old layer records and blobs nothing refers to."""
    used: set[str] = set()
    for stamp in (cache.root / "archives").glob("*.json"):
        for manifest_digest, _ in json.loads(stamp.read_text()):
            manifest = json.loads(cache.store.read(manifest_digest))
            used |= {manifest_digest, manifest["config"]["digest"],
                     *(layer["digest"] for layer in manifest["layers"])}
    records: dict[str, list[Path]] = {}
    for record in (cache.root / "layers").glob("*.json"):
        records.setdefault(record.stem.rsplit("-", 1)[0], []).append(record)
    kept = set(used)
    for group in records.values():
        group.sort(key=lambda path: path.stat().st_mtime, reverse=True)
        for number, record in enumerate(group):
            digest = json.loads(record.read_text())["digest"]
            if number < keep or digest in used:
                kept.add(digest)
            else:
                record.unlink()
    for blob in (cache.root / "blobs" / "sha256").iterdir():
        if blob.is_file() and f"sha256:{blob.name}" not in kept:
            blob.unlink()


def write_index(cache: Cache) -> Path:
    """index.tsv: every archive in the cache and its references (one line each)."""
    lines = []
    for stamp in sorted((cache.root / "archives").glob("*.json")):
        tar = stamp.with_suffix(".tar")
        if tar.exists():
            lines += [f"{tar}\t{ref}" for _, refs in json.loads(stamp.read_text()) for ref in refs]
    index = cache.root / "index.tsv"
    index.write_text("".join(line + "\n" for line in lines))
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build.sh", description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="*", metavar="IMAGE",
                        help=f"any of {', '.join(IMAGES)} (default: all), or 'registry' "
                             "alone: build the mirror registry and print its path")
    args = parser.parse_args(argv)
    # a stop request unwinds the build: run() then stops the tool that is running
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.images == ["registry"]:
        return subprocess.run(["bash", str(HERE / "registry.sh")], check=False).returncode
    wanted = args.images or list(IMAGES)
    unknown = [name for name in wanted if name not in IMAGES]
    if unknown:
        print(f"images: error: unknown image {unknown[0]!r}; choose from {', '.join(IMAGES)} "
              "(or 'registry' alone)", file=sys.stderr)
        return 2
    try:
        tools = ["unshare", "bwrap", "go"]
        if {"runtime", "standins", "argoexec", "workflow-controller"} & set(wanted):
            tools.append("debootstrap")
        if "pause" in wanted:
            tools.append("gcc")
        require_tools(tools)
        cache = Cache()
        built: list[Built] = []
        start = time.monotonic()
        steps: dict[str, Callable[[Cache], Built]] = {
            "pause": build_pause, "runtime": build_runtime, "standins": build_standins}
        argo = [name for name in wanted if name in ("argoexec", "workflow-controller")]
        # the cluster's binaries first: their build takes its own lock
        binaries = argo_binaries() if argo else {}
        with cache.locked():
            for name in wanted:
                if name in steps:
                    with timed(f"image {name}"):
                        built.append(steps[name](cache))
            if argo:
                with timed(f"image {' '.join(argo)}"):
                    built += build_argo(cache, argo, binaries)
            index = write_index(cache)
            prune(cache)
        log(f"all requested images in {time.monotonic() - start:.1f}s; index of every "
            f"archive: {index}")
    except BuildError as error:
        print(f"images: error: {error}", file=sys.stderr)
        return 1
    for item in built:
        size = item.archive.stat().st_size / 2**20
        log(f"{item.archive} ({size:.0f} MiB)")
        for image in item.images:
            for ref in image.refs:
                print(f"{item.archive}\t{ref}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
