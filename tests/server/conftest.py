"""A real ``kubeline serve`` on a free loopback port, and a workspace with a published
pipeline of one trivial step, for the REST, schedule and benchmark tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from kubeline import Pipeline, PipelineParameter, PythonScriptStep, Workspace
from kubeline.dsl.publish import PublishedPipeline

START_TIMEOUT = 60.0
STEP = """import argparse
p = argparse.ArgumentParser()
p.add_argument("--count", type=int)
p.add_argument("--rate", type=float)
p.add_argument("--name")
args = p.parse_args()
print("MARK", "{marker}", args.count, args.rate, args.name)
"""


def make_workspace(root: Path, config: str = "name: serve-test\n",
                   marker: str = "v1") -> Workspace:
    """A workspace with src/step.py printing a marker and its parameters."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "kubeline.yaml").write_text(config, encoding="utf-8")
    (root / "src").mkdir(exist_ok=True)
    write_step(root, marker)
    return Workspace(_root=root)


def write_step(root: Path, marker: str) -> None:
    (root / "src" / "step.py").write_text(STEP.replace("{marker}", marker), encoding="utf-8")


def pipeline(ws: Workspace) -> Pipeline:
    count = PipelineParameter("count", default_value=1)
    rate = PipelineParameter("rate", default_value=0.5)
    name = PipelineParameter("name", default_value="x")
    step = PythonScriptStep("step.py", name="echo", source_directory="src",
                            arguments=["--count", count, "--rate", rate, "--name", name])
    built = Pipeline(ws, steps=[step])
    built.name = "echo"
    built._base_dir = ws.root
    return built


def publish(ws: Workspace, version: str = "1.0", name: str = "Echo") -> PublishedPipeline:
    return pipeline(ws).publish(name=name, description="echo", version=version)


@dataclass
class Server:
    """A running ``kubeline serve`` child process."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    root: Path

    def post(self, path: str, body: Any = None, token: str | None = None,
             **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.post(f"{self.url}{path}", json=body, headers=headers, timeout=30,
                             **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(f"{self.url}{path}", timeout=30, **kwargs)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def kubeline(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "kubeline.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr
    return done.stdout


def start_server(root: Path, *extra: str, env: dict[str, str] | None = None,
                 log_dir: Path | None = None) -> Server:
    log = (log_dir or root) / f"serve-{time.monotonic_ns()}.log"
    out = open(log, "wb")  # noqa: SIM115 - the child owns it; closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "kubeline.cli", "serve", "--port", "0", "-w", str(root),
         *extra], cwd=root, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})}, start_new_session=True)
    out.close()
    deadline = time.monotonic() + START_TIMEOUT
    pattern = re.compile(r"listening on (http://\S+)")
    while time.monotonic() < deadline:
        match = pattern.search(log.read_text(errors="replace"))
        if match:
            server = Server(match.group(1), process, log, root)
            while time.monotonic() < deadline:
                try:
                    if server.get("/api/health").status_code == 200:
                        return server
                except requests.ConnectionError:
                    pass
                time.sleep(0.05)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"kubeline serve did not start:\n{log.read_text(errors='replace')}")


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """Start servers for a test; each is stopped (SIGINT, then kill) afterwards."""
    started: list[Server] = []

    def start(root: Path, *extra: str, env: dict[str, str] | None = None) -> Server:
        server = start_server(root, *extra, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    """Poll until predicate() is truthy; fail naming what did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
