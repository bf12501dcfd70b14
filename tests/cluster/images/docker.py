"""A private Docker daemon for one test: Debian's dockerd in its own network and mount
namespaces (no bridge, no iptables, nothing on the host changed), its socket, data and state
in a temporary folder, stopped and removed at the end."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.cluster.images.conftest import need

Docker = Callable[..., subprocess.CompletedProcess[str]]


@contextmanager
def docker_daemon() -> Iterator[Docker]:
    need(shutil.which("dockerd") is not None and shutil.which("docker") is not None,
         "dockerd is not installed (apt-get install docker.io)")
    folder = Path(tempfile.mkdtemp(prefix="kubeline-dockerd."))
    socket = folder / "docker.sock"
    log = (folder / "dockerd.log").open("w")
    daemon = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "--net", "dockerd",
         "--host", f"unix://{socket}", "--data-root", str(folder / "data"),
         "--exec-root", str(folder / "exec"), "--pidfile", str(folder / "docker.pid"),
         "--bridge", "none", "--iptables=false", "--ip-masq=false", "--userland-proxy=false"],
        stdout=log, stderr=subprocess.STDOUT)

    def docker(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker", "-H", f"unix://{socket}", *args], capture_output=True,
                              text=True, timeout=timeout, check=False)

    try:
        deadline = time.monotonic() + 120
        while docker("version", timeout=30).returncode != 0:
            assert daemon.poll() is None, (folder / "dockerd.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "dockerd did not answer within 120 s"
            time.sleep(0.5)
        yield docker
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
        # its mounts lived in its own mount namespace and ended with it
        subprocess.run(["rm", "-rf", "--one-file-system", str(folder)], check=False)
