"""Fixtures for the image tests: the images built by scripts/cluster/images/build.sh (cached,
so only a cold cache takes minutes), their layers unpacked into root folders, and a real
distribution registry started on 127.0.0.1 by the tests.

The tests need root (debootstrap, overlay mounts) and are marked ``cluster``: they run with
the in-box cluster's tests (`make cluster-test`) although they need no cluster.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPTS = REPO / "scripts" / "cluster" / "images"
BASE_IMAGES = ("pause", "runtime", "standins")
ARGO_IMAGES = ("argoexec", "workflow-controller")
BUILD_TIMEOUT = 3600


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cluster: needs the in-box cluster or its build (root); make cluster-test")


def script_module(name: str) -> ModuleType:
    """A module of scripts/cluster/images (they are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"kubeline_images_{name}", SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def need(condition: bool, reason: str) -> None:
    """A missing prerequisite fails under CI and skips (with the reason) elsewhere."""
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def run_script(name: str, *args: str, timeout: float = BUILD_TIMEOUT,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPTS / name), *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})},
                          check=False)


@dataclass(frozen=True)
class Built:
    """build.sh's answer: reference -> archive, and what it logged."""

    archives: dict[str, Path]
    stderr: str


def build(*images: str, env: dict[str, str] | None = None) -> Built:
    need(os.geteuid() == 0, "building images needs root (debootstrap, overlay mounts)")
    need(shutil.which("debootstrap") is not None, "debootstrap is missing: apt-get install "
         "debootstrap")
    result = run_script("build.sh", *images, env=env)
    assert result.returncode == 0, f"build.sh {' '.join(images)} failed:\n{result.stderr[-4000:]}"
    archives = {}
    for line in result.stdout.splitlines():
        archive, _, ref = line.partition("\t")
        archives[ref] = Path(archive)
    return Built(archives, result.stderr)


@pytest.fixture(scope="session")
def base_images() -> Built:
    return build(*BASE_IMAGES)


@pytest.fixture(scope="session")
def argo_images() -> Built:
    script = os.environ.get("KUBELINE_CLUSTER_BUILD_SH") or str(REPO / "scripts/cluster/build.sh")
    need(Path(script).exists(), f"{script} (the cluster's binary build) is missing; set "
         "KUBELINE_CLUSTER_BUILD_SH")
    return build(*ARGO_IMAGES)


def write_index(built: Built, path: Path) -> Path:
    """An index file for push.sh holding exactly ``built``'s images."""
    path.write_text("".join(f"{archive}\t{ref}\n" for ref, archive in built.archives.items()))
    return path


@dataclass(frozen=True)
class ArchiveImage:
    """One image read from an archive: its manifest, config and the archive's files."""

    manifest: dict
    config: dict
    files: dict[str, bytes]

    def layer(self, index: int) -> bytes:
        digest = self.manifest["layers"][index]["digest"]
        return self.files["blobs/" + digest.replace(":", "/")]


def read_archive(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in tar.getmembers() if m.isfile()}


def image_in(files: dict[str, bytes], ref: str) -> ArchiveImage:
    index = json.loads(files["index.json"])
    entry = next(e for e in index["manifests"]
                 if e["annotations"]["org.opencontainers.image.ref.name"] == ref)
    manifest = json.loads(files["blobs/" + entry["digest"].replace(":", "/")])
    config = json.loads(files["blobs/" + manifest["config"]["digest"].replace(":", "/")])
    return ArchiveImage(manifest, config, files)


def unpack(image: ArchiveImage, root: Path) -> Path:
    """Apply the image's layers in order as a container runtime does (whiteouts delete)."""
    root.mkdir(parents=True, exist_ok=True)
    for number in range(len(image.manifest["layers"])):
        data = gzip.decompress(image.layer(number))
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            members = tar.getmembers()
            keep = []
            for member in members:
                folder, _, base = member.name.rpartition("/")
                if base == ".wh..wh..opq":
                    target = root / folder
                    for child in target.iterdir() if target.is_dir() else []:
                        shutil.rmtree(child) if child.is_dir() and not child.is_symlink() \
                            else child.unlink()
                elif base.startswith(".wh."):
                    target = root / folder / base[4:]
                    if target.is_dir() and not target.is_symlink():
                        shutil.rmtree(target)
                    elif target.exists() or target.is_symlink():
                        target.unlink()
                else:
                    keep.append(member)
            tar.extractall(root, members=keep, numeric_owner=True)
    return root


def in_rootfs(root: Path, *command: str, user: str | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with ``root`` as /, no network, as the image's user if given."""
    need(shutil.which("bwrap") is not None, "bubblewrap is missing: apt-get install bubblewrap")
    env = ["--clearenv", "--setenv", "PATH",
           "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games",
           "--setenv", "HOME", "/tmp", "--setenv", "LANG", "C.UTF-8"]
    ids: list[str] = []
    if user:
        uid, _, gid = user.partition(":")
        ids = ["--unshare-user", "--uid", uid, "--gid", gid or uid]
    return subprocess.run(["bwrap", "--bind", str(root), "/", "--proc", "/proc", "--dev", "/dev",
                           "--tmpfs", "/tmp", "--unshare-net", "--die-with-parent", *env, *ids,
                           "--", *command],
                          capture_output=True, text=True, timeout=timeout, check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Registry:
    host: str
    storage: Path


def answers(host: str, process: subprocess.Popen[bytes], wait: float = 60) -> bool:
    """The registry at ``host`` answers ``GET /v2/`` before ``wait`` seconds or its exit."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://{host}/v2/", timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            time.sleep(0.2)
    return False


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """The distribution registry (registry.sh), on 127.0.0.1, storage in a temp folder."""
    built = run_script("registry.sh", timeout=1800)
    assert built.returncode == 0, built.stderr[-3000:]
    binary = built.stdout.strip().splitlines()[-1]
    folder = tmp_path_factory.mktemp("registry")
    for _ in range(5):
        host = f"127.0.0.1:{free_port()}"
        config = folder / "config.yml"
        config.write_text(run_script("registry.sh", "--config", str(folder / "data"), host).stdout)
        log = (folder / "registry.log").open("w")
        process = subprocess.Popen([binary, "serve", str(config)], stdout=log,
                                   stderr=subprocess.STDOUT)
        if answers(host, process):
            break
        process.kill()
        process.wait()
        log.close()  # most likely the port was taken between picking and binding
    else:
        pytest.fail(f"the registry did not start: {(folder / 'registry.log').read_text()}")
    try:
        yield Registry(host, folder / "data")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
