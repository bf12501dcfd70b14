"""Cluster tests run against the box started by `make cluster-up`; a box that is down stops
the session with one line saying so (never a skip)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.box import BOX_CONFIG, Box, BoxDown


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
