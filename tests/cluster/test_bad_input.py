"""Bad input to the box's commands: one line naming the problem and the fix, nothing started.
These run without a box (they are in the default test run)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.cluster.box import REPO

UP = REPO / "scripts" / "cluster" / "up.sh"
BUILD = REPO / "scripts" / "cluster" / "build.sh"


def _errors(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_cluster_up_refuses_a_taken_port_in_one_line(tmp_path: Path) -> None:
    images = tmp_path / "images"  # image scripts that must never run: the port stops it first
    images.mkdir()
    for name in ("build.sh", "push.sh", "registry.sh"):
        (images / name).write_text("#!/bin/sh\necho ran >&2; exit 9\n")
        (images / name).chmod(0o755)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "KUBELINE_CLUSTER_API_PORT": str(port),
               "KUBELINE_CLUSTER_IMAGES_DIR": str(images),
               "KUBELINE_CLUSTER_DIR": str(tmp_path / "state")}
        done = subprocess.run(["bash", str(UP)], env=env, capture_output=True, text=True,
                              timeout=60, check=False)
    assert done.returncode == 1
    [line] = _errors(done.stderr)
    if os.geteuid() != 0:
        assert line.startswith("cluster: error: cluster-up needs root")
        return
    assert line == (f"cluster: error: port 127.0.0.1:{port} is taken by another process; free "
                    "it or set KUBELINE_CLUSTER_API_PORT / KUBELINE_CLUSTER_S3_PORT")
    assert not (tmp_path / "state").exists()  # stopped before making anything


def test_cluster_up_names_missing_image_scripts(tmp_path: Path) -> None:
    env = {**os.environ, "KUBELINE_CLUSTER_IMAGES_DIR": str(tmp_path / "none"),
           "KUBELINE_CLUSTER_DIR": str(tmp_path / "state")}
    done = subprocess.run(["bash", str(UP)], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 1
    [line] = _errors(done.stderr)
    assert line.startswith("cluster: error:")
    assert "root" in line or "KUBELINE_CLUSTER_IMAGES_DIR" in line


def test_build_refuses_an_unknown_component() -> None:
    done = subprocess.run(["bash", str(BUILD), "kube-apiservr"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 1 and done.stdout == ""
    [line] = _errors(done.stderr)
    assert line.startswith("cluster/build: error: unknown component 'kube-apiservr'")
    assert "kube-apiserver" in line


def test_cluster_test_against_a_box_that_is_down_says_so_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "KUBELINE_CLUSTER_DIR": str(tmp_path / "no-box")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-m", "cluster", "tests/cluster/test_placement_on_box.py",
                           "-k", "advertises"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode != 0
    lines = [ln for ln in (done.stdout + done.stderr).splitlines() if "cluster is down" in ln]
    assert len(lines) == 1, done.stdout + done.stderr
    assert "run `make cluster-up` first" in lines[0]
    assert "Traceback" not in done.stdout + done.stderr
