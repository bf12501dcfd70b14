"""Cluster tests run against the box started by `make cluster-up`; a box that is down stops
the session with one line saying so (never a skip)."""

from __future__ import annotations

import pytest

from tests.cluster.box import Box, BoxDown


@pytest.fixture(scope="session")
def box() -> Box:
    the_box = Box()
    try:
        the_box.check()
    except BoxDown as exc:
        pytest.exit(f"the in-box cluster is down ({exc}): run `make cluster-up` first",
                    returncode=1)
    return the_box
