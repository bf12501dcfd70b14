"""containerd pulls the pushed images by their public names through a registry mirror, as
the box's kubelet makes it do: Debian's containerd in a private mount namespace with its own
root, state and socket, and a hosts.toml per mirrored registry naming the test registry."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cluster.images.conftest import Built, Registry, need, run_script, write_index

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(1800)]

Pull = Callable[[str], subprocess.CompletedProcess[str]]


@pytest.fixture
def containerd(tmp_path: Path, registry: Registry) -> Iterator[Pull]:
    need(shutil.which("containerd") is not None and shutil.which("ctr") is not None,
         "containerd is not installed (apt-get install containerd)")
    hosts = tmp_path / "hosts"
    for upstream in ("docker.io", "ghcr.io", "quay.io", "registry.k8s.io"):
        (hosts / upstream).mkdir(parents=True)
        (hosts / upstream / "hosts.toml").write_text(
            f'[host."http://{registry.host}"]\n  capabilities = ["pull", "resolve"]\n')
    socket = tmp_path / "containerd.sock"
    config = tmp_path / "containerd.toml"
    config.write_text(f'version = 2\nroot = "{tmp_path / "root"}"\nstate = "{tmp_path / "state"}"\n'
                      f'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                      f'[grpc]\n  address = "{socket}"\n'
                      f'[ttrpc]\n  address = "{socket}.ttrpc"\n')
    log = (tmp_path / "containerd.log").open("w")
    daemon = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "containerd",
                               "--config", str(config)], stdout=log, stderr=subprocess.STDOUT)

    def ctr(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ctr", "--address", str(socket), "--namespace", "kubeline-test",
                               *args], capture_output=True, text=True, timeout=timeout,
                              check=False)

    def pull(ref: str) -> subprocess.CompletedProcess[str]:
        return ctr("images", "pull", "--hosts-dir", str(hosts), ref)

    try:
        deadline = time.monotonic() + 60
        while ctr("version", timeout=20).returncode != 0:
            assert daemon.poll() is None, (tmp_path / "containerd.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "containerd did not answer within 60 s"
            time.sleep(0.3)
        yield pull
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
        subprocess.run(["rm", "-rf", "--one-file-system", str(tmp_path / "root"),
                        str(tmp_path / "state")], check=False)


def test_containerd_pulls_public_names_from_the_mirror(base_images: Built, registry: Registry,
                                                       containerd: Pull, tmp_path: Path) -> None:
    pushed = run_script("push.sh", registry.host, "--index",
                        str(write_index(base_images, tmp_path / "index.tsv")), timeout=1800)
    assert pushed.returncode == 0, pushed.stderr[-2000:]
    digests = {line.split("\t")[0]: line.split("\t")[2] for line in pushed.stdout.splitlines()}
    # the names manifests use, short and long; each is unpacked into containerd's snapshotter
    for name, ref in (("busybox", "docker.io/library/busybox:latest"),
                      ("argoproj/argosay:v2", "docker.io/argoproj/argosay:v2"),
                      ("ghcr.io/kubeline/runtime:0.1.0", "ghcr.io/kubeline/runtime:0.1.0"),
                      ("registry.k8s.io/pause:3.10.1", "registry.k8s.io/pause:3.10.1")):
        result = containerd(ref)
        assert result.returncode == 0, f"{name}: {result.stderr}"
        assert f"unpacking linux/amd64 {digests[ref]}" in result.stdout + result.stderr, \
            result.stdout + result.stderr
