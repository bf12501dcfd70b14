"""A private Docker daemon (Debian's docker.io) started by the tests, with kubeline's runtime
image loaded from the archive the cluster images build writes.

The daemon gets its own socket, pid file, exec root and data root, and no bridge network or
iptables rules: its containers run with network_mode "none" (loopback only) or "host" (to
reach the tests' own servers on 127.0.0.1), so no test traffic leaves the machine. The data
root is cached under ~/.cache/kubeline so the image's layers load once; a second test
session at the same time (the lock is taken) gets a throwaway data root instead. The runtime
image is the tarball's (python, kubeline's dependencies) with this tree's src/kubeline laid
over the installed package, so the test exercises the code under test even when the tarball
was built from another commit.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("KUBELINE_CACHE") or Path.home() / ".cache" / "kubeline")
RUNTIME_ARCHIVE = CACHE / "images" / "archives" / "runtime.tar"
RUNTIME_IMAGE = "ghcr.io/kubeline/runtime:0.1.0"
# replace the installed package, wherever the image's python keeps it, with this tree's
_REPLACE = ("import kubeline, os, shutil; d = os.path.dirname(kubeline.__file__); "
            "shutil.rmtree(d); shutil.copytree('/tmp/kubeline-src', d); "
            "shutil.rmtree('/tmp/kubeline-src')")


@dataclass(frozen=True)
class DockerDaemon:
    """A running private dockerd: its DOCKER_HOST and the runtime image's reference."""

    host: str
    image: str


def _fail(message: str) -> None:
    """A missing prerequisite fails the test: it must run, never skip (issue 15)."""
    pytest.fail(message)


def _overlay_context(base: str) -> bytes:
    """A build context: this tree's src/kubeline over the image's installed kubeline."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        dockerfile = (f"FROM {base}\nUSER 0\nCOPY kubeline /tmp/kubeline-src\n"
                      f"RUN {json.dumps(['python3', '-c', _REPLACE])}\nUSER 65532:65532\n").encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
        tar.add(REPO / "src" / "kubeline", "kubeline",
                filter=lambda t: None if "__pycache__" in t.name else t)
    return buffer.getvalue()


def _data_root(root: Path) -> Path:
    """The cached data root when no other session holds it, else one under root. The lock
    is released when this process exits."""
    import fcntl

    cached = CACHE / "kfp-docker"
    cached.mkdir(parents=True, exist_ok=True)
    handle = (CACHE / "kfp-docker.lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return root / "data"
    _LOCKS.append(handle)
    return cached


_LOCKS: list[object] = []


def start(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    if not Path(dockerd).exists():
        _fail("dockerd not found: install Debian's docker.io (apt-get install docker.io)")
    socket = root / "docker.sock"
    data = _data_root(root)
    log = (root / "dockerd.log").open("wb")
    # a mount namespace of its own: its mounts (exec/netns/default) end with it, not left in
    # the host's /tmp; the network stays the host's (its containers reach the tests' servers)
    proc = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private",
         dockerd, "--host", f"unix://{socket}", "--data-root", str(data),
         "--exec-root", str(root / "exec"), "--pidfile", str(root / "dockerd.pid"),
         "--bridge", "none", "--iptables=false", "--ip-masq=false"],
        stdout=log, stderr=subprocess.STDOUT)
    host = f"unix://{socket}"
    import docker

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (root / "dockerd.log").read_text(errors="replace").strip().splitlines()[-3:]
            _fail(f"dockerd exited with {proc.returncode}: {' | '.join(tail)}")
        try:
            client = docker.DockerClient(base_url=host)
            client.ping()
            client.close()
            return proc, host
        except Exception:  # not listening yet
            time.sleep(0.5)
    proc.terminate()
    _fail("dockerd did not answer within 120 s (see its log)")
    raise AssertionError("unreachable")


def load_runtime(host: str) -> str:
    """Load the runtime archive and lay this tree's kubeline over it; the image reference."""
    if not RUNTIME_ARCHIVE.is_file():
        _fail(f"{RUNTIME_ARCHIVE} is missing: build it with "
              "scripts/cluster/images/build.sh runtime (make image)")
    import docker

    client = docker.DockerClient(base_url=host)
    try:
        with RUNTIME_ARCHIVE.open("rb") as handle:
            client.images.load(handle.read())
        client.images.get(RUNTIME_IMAGE).tag("kubeline-kfp-test/runtime-base", "latest")
        client.images.build(fileobj=io.BytesIO(_overlay_context("kubeline-kfp-test/runtime-base")),
                            custom_context=True, tag=RUNTIME_IMAGE, rm=True, network_mode="none")
    finally:
        client.close()
    return RUNTIME_IMAGE


@pytest.fixture(scope="session")
def docker_daemon() -> Iterator[DockerDaemon]:
    # a short folder: unix socket paths are capped at 108 bytes, pytest's can be long
    root = Path(tempfile.mkdtemp(prefix="kl-docker-"))
    proc, host = start(root)
    try:
        yield DockerDaemon(host, load_runtime(host))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)
