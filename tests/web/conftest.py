"""Fixtures of the web page tests: a workspace whose runs wait at a gate the test opens, the
serve app on a loopback socket, and headless Chromium.

The gate makes "watch a run finish" deterministic without timing: the ``gate`` step waits
until the file ``<workspace>/gates/<run id>`` exists, so the test sees the run Running,
then opens the gate and waits for the page to show it Finished.
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.web.browser import require_browser, start_chromium

START_TIMEOUT = 60.0

XSS_STEP = "gate <script>document.title='pwned-step'</script>"
XSS_TAG = "<img src=x onerror=\"document.title='pwned-tag'\">"
XSS_METRIC = "<script>document.title='pwned-metric'</script>"

GATE = '''
"""Wait for the test's gate file, then log metrics of every kind and write an output."""
import argparse, base64, os, sys, time
from pathlib import Path
from kubeline import Run

p = argparse.ArgumentParser()
p.add_argument("--out", required=True)
p.add_argument("--label", default="")
a = p.parse_args()
run = Run.get_context()
gate = Path(os.environ["KUBELINE_WORKSPACE"]) / "gates" / os.environ["KUBELINE_RUN_ID"]
print("waiting for the gate", flush=True)
deadline = time.monotonic() + 300
while not gate.exists():
    if time.monotonic() > deadline:
        sys.exit("the test never opened the gate")
    time.sleep(0.1)
if a.label == "fail":
    sys.exit("failing on purpose <script>document.title='pwned-stderr'</script>")
print("hello <script>document.title='pwned-stdout'</script> " + a.label, flush=True)
print("a warning <b>bold</b> on stderr", file=sys.stderr, flush=True)
for loss in (0.9, 0.5, 0.3, 0.2):
    run.log("loss", loss)
run.log("accuracy", 0.93)
run.log_list("per_class", [0.8, 0.95, 0.7])
for epoch in range(5):
    run.log_row("curve", epoch=epoch, score=epoch * epoch / 10)
run.log_table("confusion", {"label": ["a", "b"], "hits": [4, 7]})
run.log(XSS_METRIC, 1)
run.tag(XSS_TAG, "<script>document.title='pwned-tagvalue'</script>")
Path("report.txt").write_text("report of " + a.label + "\\n")
run.upload_file("notes/report.txt", "report.txt")
Path("chart.png").write_bytes(base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAACgAAAAUCAIAAABwJOjsAAAAJElEQVR4nGPQr304IIhh1OJRi0ctHrV41OJRi0ctHrV45FgMABj92N3VlM9dAAAAAElFTkSuQmCC"))
run.log_image("chart", path="chart.png")
os.makedirs(a.out, exist_ok=True)
Path(a.out, "result.txt").write_text("result of " + a.label + "\\n")
Path(a.out, "sub").mkdir(exist_ok=True)
Path(a.out, "sub", "more.json").write_text('{"ok": true}\\n')
'''

PREP = '''
"""A quick step whose result later runs reuse."""
import argparse, os
from pathlib import Path
p = argparse.ArgumentParser()
p.add_argument("--out", required=True)
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
Path(a.out, "prep.txt").write_text("prepared\\n")
print("prepared")
'''

AFTER = '''
"""Read both upstream outputs."""
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--a", required=True)
p.add_argument("--b", required=True)
a = p.parse_args()
print(sorted(os.listdir(a.a)), sorted(os.listdir(a.b)))
'''

PIPELINE = '''
from kubeline import (Pipeline, PipelineData, PipelineParameter, PythonScriptStep,
                      Workspace)

ws = Workspace.from_config()
store = ws.get_default_datastore()
label = PipelineParameter(name="label", default_value="first")
prepared = PipelineData("prepared", datastore=store)
result = PipelineData("result", datastore=store)
prep = PythonScriptStep(name="prep", script_name="prep.py", source_directory="steps",
                        arguments=["--out", prepared], outputs=[prepared])
gate = PythonScriptStep(name=XSS_STEP, script_name="gate.py", source_directory="steps",
                        arguments=["--out", result, "--label", label], outputs=[result],
                        allow_reuse=False)
after = PythonScriptStep(name="after", script_name="after.py", source_directory="steps",
                         arguments=["--a", prepared, "--b", result], inputs=[prepared, result])
pipeline = Pipeline(workspace=ws, steps=[after])
'''


def _source(text: str) -> str:
    names = {"XSS_STEP": XSS_STEP, "XSS_TAG": XSS_TAG, "XSS_METRIC": XSS_METRIC}
    out = textwrap.dedent(text)
    for name, value in names.items():
        out = out.replace(name, repr(value))
    return out


def gate_workspace(root: Path) -> Path:
    """A workspace with the prep -> after <- gate pipeline in pipeline.py."""
    (root / "steps").mkdir(parents=True)
    (root / "gates").mkdir()
    (root / "kubeline.yaml").write_text("name: webtest\n", encoding="utf-8")
    (root / "steps" / "gate.py").write_text(_source(GATE), encoding="utf-8")
    (root / "steps" / "prep.py").write_text(_source(PREP), encoding="utf-8")
    (root / "steps" / "after.py").write_text(_source(AFTER), encoding="utf-8")
    (root / "pipeline.py").write_text(_source(PIPELINE), encoding="utf-8")
    return root


def open_gate(workspace: Path, run_id: str) -> None:
    (workspace / "gates" / run_id).write_text("open\n", encoding="utf-8")


@dataclass
class Server:
    """The serve app running in a child process on 127.0.0.1."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str) -> tuple[int, bytes]:
        """A plain HTTP GET (status, body), 4xx and 5xx included."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()


def start_server(workspace: Path, log: Path) -> Server:
    """``kubeline serve --port 0`` for the workspace; the port is read from its own log line,
    so there is no pick-then-bind race. Waits until the page's API answers."""
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "kubeline.cli", "serve", "--port", "0", "-w", str(workspace)],
            cwd=workspace, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    pattern = re.compile(r"listening on (http://\S+)")
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise AssertionError(f"kubeline serve exited {process.returncode}:\n"
                                 f"{log.read_text(errors='replace')}")
        match = pattern.search(log.read_text(errors="replace"))
        if match:
            server = Server(match.group(1), process, log)
            with contextlib.suppress(OSError):
                if server.get("/ui/api/runs")[0] == 200:
                    return server
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise AssertionError(f"kubeline serve did not answer in {START_TIMEOUT}s:\n"
                                 f"{log.read_text(errors='replace')}")
        time.sleep(0.1)


def stop_server(server: Server) -> None:
    """Ctrl-C, as a user stops it; killed if it does not stop."""
    server.process.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def kubeline(*args: str, cwd: Path) -> str:
    """The real ``kubeline`` command; its stdout."""
    done = subprocess.run([sys.executable, "-m", "kubeline.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"kubeline {' '.join(args)}: {done.stderr}"
    return done.stdout


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Any]:
    require_browser()
    driver = start_chromium(tmp_path / "chromium-profile")
    try:
        yield driver
    finally:
        driver.quit()


