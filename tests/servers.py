"""Session fixtures that start real storage servers on loopback for any test folder.

Use them through ``pytest_plugins = ["tests.servers"]`` in the root conftest:

* ``s3_server``: moto's S3 server in its own process (``python -m moto.server``);
* ``azurite``: the Azurite blob service from ``scripts/install-test-deps.sh``.

Each server binds 127.0.0.1 on a port the OS picks (port 0; the port is read back from the
server's own log line, so there is no pick-then-bind race), nothing global is set: fixtures
return the endpoint and credentials to use, and stop their process at session end.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
AZURITE_BIN = REPO_ROOT / ".tools" / "node_modules" / ".bin" / "azurite-blob"
INSTALL_HINT = "run scripts/install-test-deps.sh (installs Azurite from npm into .tools/)"

# Azurite's documented development account: public test constants, not secrets.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

START_TIMEOUT = 60.0


@dataclass(frozen=True)
class S3Server:
    """A running S3-compatible endpoint and the (arbitrary) credentials it accepts."""

    endpoint_url: str
    access_key: str = "kubeline-test-access"
    secret_key: str = "kubeline-test-secret"
    region: str = "us-east-1"

    def client(self) -> Any:
        """A boto3 S3 client bound to this server only."""
        import boto3
        from botocore.config import Config

        return boto3.session.Session(
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        ).client(
            "s3", endpoint_url=self.endpoint_url, config=Config(s3={"addressing_style": "path"})
        )

    def create_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a fresh unique name by default) and return its name."""
        bucket = name or f"kl-{uuid.uuid4().hex[:20]}"
        self.client().create_bucket(Bucket=bucket)
        return bucket

    def env(self) -> dict[str, str]:
        """AWS_* variables for a subprocess that should use this server via the default chain."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "AWS_EC2_METADATA_DISABLED": "true",
        }


@dataclass(frozen=True)
class AzuriteServer:
    """A running Azurite blob service and its well-known development account."""

    endpoint_url: str  # http://127.0.0.1:<port>/devstoreaccount1
    account_name: str = AZURITE_ACCOUNT
    account_key: str = AZURITE_KEY

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={self.account_name};"
            f"AccountKey={self.account_key};BlobEndpoint={self.endpoint_url};"
        )

    def service_client(self) -> Any:
        """An azure-storage-blob BlobServiceClient bound to this server."""
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(self.connection_string)

    def create_container(self, name: str | None = None) -> str:
        """Create a container (a fresh unique name by default) and return its name."""
        container = name or f"kl-{uuid.uuid4().hex[:20]}"
        self.service_client().create_container(container)
        return container


class _Server:
    """A child process whose log is a file; started, awaited on a log line, then stopped."""

    def __init__(self, name: str, cmd: list[str], cwd: Path, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in pytest doesn't kill it before teardown
        )

    def wait_for_port(self, pattern: str) -> int:
        """Wait for the log line announcing the bound port, then for it to accept."""
        deadline = time.monotonic() + START_TIMEOUT
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            match = regex.search(self.log_path.read_text(errors="replace"))
            if match:
                port = int(match.group(1))
                self._wait_accepting(port, deadline)
                return port
            if self.proc.poll() is not None:
                self._fail(f"exited with code {self.proc.returncode}")
            time.sleep(0.05)
        self._fail(f"did not announce its port within {START_TIMEOUT:.0f}s")

    def _wait_accepting(self, port: int, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        self._fail(f"never accepted connections on port {port}")

    def _fail(self, why: str) -> NoReturn:
        self.stop()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        pytest.fail(f"{self.name} {why}; its log ({self.log_path}):\n{tail}", pytrace=False)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's S3 server on 127.0.0.1 in a child process; yields its endpoint and creds."""
    workdir = tmp_path_factory.mktemp("moto")
    cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"]
    server = _Server("moto S3 server", cmd, workdir, workdir / "moto.log")
    try:
        port = server.wait_for_port(r"Running on http://127\.0\.0\.1:(\d+)")
        yield S3Server(endpoint_url=f"http://127.0.0.1:{port}")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteServer]:
    """Azurite's blob service on 127.0.0.1, in memory; fails (not skips) if not installed."""
    binary = Path(os.environ.get("KUBELINE_AZURITE_BLOB", AZURITE_BIN))
    if not binary.exists():
        pytest.fail(f"Azurite is not installed at {binary}: {INSTALL_HINT}", pytrace=False)
    if shutil.which("node") is None:
        pytest.fail(f"Azurite needs Node.js (node) on PATH: {INSTALL_HINT}", pytrace=False)
    workdir = tmp_path_factory.mktemp("azurite")
    cmd = [
        str(binary),
        "--blobHost", "127.0.0.1",
        "--blobPort", "0",
        "--inMemoryPersistence",
        "--extentMemoryLimit", "1024",
        "--skipApiVersionCheck",
        "--loose",
        "--disableTelemetry",
    ]  # fmt: skip
    server = _Server("Azurite", cmd, workdir, workdir / "azurite.log")
    try:
        port = server.wait_for_port(r"listens on http://127\.0\.0\.1:(\d+)")
        yield AzuriteServer(endpoint_url=f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}")
    finally:
        server.stop()
