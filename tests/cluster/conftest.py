"""Cluster tests run against the box started by `make cluster-up`; a box that is down stops
the session with one line saying so (never a skip)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.box import BOX_CONFIG, Box, BoxDown
from tests.cluster.submitting import create_namespace, point_at


@pytest.fixture(scope="session")
def box() -> Box:
    the_box = Box()
    try:
        the_box.check()
    except BoxDown as exc:
        pytest.exit(f"the in-box cluster is down ({exc}): run `make cluster-up` first",
                    returncode=1)
    return the_box


@pytest.fixture
def box_env(box: Box, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The box's workspace for one test (a private copy of its kubeline.yaml, which examples
    extend with their compute targets) and the host's view of its S3 store."""
    config = tmp_path / "kubeline.yaml"
    shutil.copy(BOX_CONFIG, config)
    env = {**box.s3_env(), "KUBELINE_CONFIG": str(config)}
    saved = dict(os.environ)
    os.environ.update(env)
    yield env
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def namespace(box: Box) -> Iterator[str]:
    """A namespace of the test's own holding what a kubeline run needs; deleted after."""
    name = f"kl-submit-{uuid.uuid4().hex[:6]}"
    create_namespace(box, name)
    yield name
    box.kubectl("delete", "namespace", name, "--wait=false")


@pytest.fixture
def cluster_env(box: Box, box_env: dict[str, str], namespace: str) -> dict[str, str]:
    """box_env with kubeline.yaml's cluster section submitting to the test's namespace."""
    point_at(Path(box_env["KUBELINE_CONFIG"]), namespace=namespace,
             kubeconfig=str(box.kubeconfig), submit=True)
    os.environ.pop("KUBELINE_SUBMIT", None)
    return {**box_env, "KUBELINE_SUBMIT": ""}
