"""Fixtures of the AML compatibility tests: the reference notebooks, a kubeline serve."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.aml.harness import notebooks_root
from tests.server.conftest import Server, start_server


@pytest.fixture(scope="session")
def aml_notebooks() -> Path:
    """../shared/reference/aml-notebooks (found upward from this checkout)."""
    root = notebooks_root()
    if root is None:
        pytest.fail("shared/reference/aml-notebooks not found above the checkout")
    return root


@pytest.fixture
def serve_here(tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Callable[[Path], Server]]:
    """Start ``kubeline serve`` for a workspace folder (its log kept outside the folder, which
    notebooks snapshot as source_directory='.'); stopped after the test."""
    started: list[Server] = []
    logs = tmp_path_factory.mktemp("serve-logs")

    def start(root: Path) -> Server:
        server = start_server(root, log_dir=logs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
