"""Warm start (decision 0010): a DAG task's interpreter is pre-started while its upstream
runs, and the node then behaves exactly as a cold one; anything unpredictable starts cold,
and no warm process outlives its task or the run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from kubeline.local.procs import RUN_MARK
from kubeline.local.warmpool import RECORD, WARM_SCRIPT, python_mode

from .conftest import SANDBOX_MODES, run_yaml
from .procscan import holders, kill_and_wait

PROBE = """\
import json, os, sys
env = {k: v for k, v in os.environ.items() if k != "KUBELINE_WARM"}
print(json.dumps({"argv": sys.argv, "orig": sys.orig_argv[1:], "path": sys.path,
                  "cwd": os.getcwd(), "env": env, "name": __name__,
                  "file": globals().get("__file__"), "stdin": sys.stdin.read(),
                  "mods": "kubeline.local.warm" in sys.modules}, sort_keys=True))
print("to stderr", file=sys.stderr)
tmp = os.environ["TMPDIR"]  # a module file's /tmp is not rewritten without bubblewrap
with open(os.path.join(tmp, "out"), "w") as handle:
    handle.write(" ".join(sys.argv[1:]))
with open(os.path.join(tmp, "cmdline"), "wb") as handle:
    handle.write(open("/proc/self/cmdline", "rb").read().replace(b"\\0", b" "))
"""

OUTPUTS = """\
    outputs:
      parameters:
      - {name: out, valueFrom: {path: /tmp/out, default: none}}
      - {name: cmdline, valueFrom: {path: /tmp/cmdline, default: none}}
"""

WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: warm}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: first, template: first}
      - name: script
        template: script
        depends: first
        arguments: {parameters: [{name: msg, value: "{{tasks.first.outputs.parameters.word}}"}]}
      - {name: inline, template: inline, depends: first}
      - {name: module, template: module, depends: first}
      - {name: fails, template: fails, depends: first}
      - {name: exits, template: exits, depends: first}
      - {name: shell, template: shell, depends: first}
      - {name: mispredicted, template: mispredicted, depends: first}
      - {name: skipped, template: inline, depends: first,
         when: "{{tasks.first.outputs.parameters.word}} == nope"}
      - {name: deadline, template: deadline, depends: first}
  - name: first
    container:
      image: python
      command: [python, -c, "open('/tmp/word', 'w').write('hello')"]
    outputs:
      parameters:
      - {name: word, globalName: word, valueFrom: {path: /tmp/word}}
  - name: script
    inputs: {parameters: [{name: msg}]}
    script:
      image: python
      command: [python]
      args: ["{{inputs.parameters.msg}}", two]
      source: |
PROBE_SCRIPT
OUTPUTS
  - name: inline
    container:
      image: python
      command: [python, -c, PROBE_JSON, one]
OUTPUTS
  - name: module
    container:
      image: python
      command: [python, -m, probe_mod, "--flag", x]
      env: [{name: PYTHONPATH, value: MODS}]
OUTPUTS
  - name: fails
    script:
      image: python
      command: [python]
      source: |
        def broken():
            raise ValueError("boom")
        print("before")
        broken()
  - name: exits
    container:
      image: python
      command: [python, -c, "import sys; print('bye'); sys.exit(3)"]
  - name: shell
    container:
      image: busybox
      command: [sh, -c, "echo shell says hi"]
  - name: mispredicted
    container:
      image: python
      command: [python, -c, "import os; print(os.environ['WORD'])"]
      env: [{name: WORD, value: "{{workflow.outputs.parameters.word}}"}]
  - name: deadline
    activeDeadlineSeconds: 1
    container:
      image: python
      command: [python, -c, "import time; time.sleep(120)"]
"""

WARMED = ("script", "inline", "module", "fails", "exits", "deadline")


def _workflow(tmp_path: Path) -> str:
    mods = tmp_path / "mods"
    mods.mkdir(exist_ok=True)
    (mods / "probe_mod.py").write_text(PROBE, encoding="utf-8")
    script = "\n".join("        " + line for line in PROBE.splitlines())
    return (WORKFLOW.replace("PROBE_SCRIPT", script)
            .replace("OUTPUTS\n", OUTPUTS)
            .replace("PROBE_JSON", json.dumps(PROBE))
            .replace("MODS", str(mods)))


def _record(node_dir: str) -> str | None:
    path = Path(node_dir) / RECORD
    return path.read_text(encoding="utf-8").strip() if path.exists() else None


def _comparable(node: object, state: Path) -> tuple[object, ...]:
    """What a node shows, with the state folder's path and the run's mark (its uid), which
    differ per run, masked."""
    from kubeline.local.summary import NodeSummary

    assert isinstance(node, NodeSummary)
    params = {k: v for k, v in node.output_parameters.items() if k != "cmdline"}
    logs = re.sub(f'"{RUN_MARK}": "[^"]*"', "<run>", node.logs().replace(str(state), "<state>"))
    return node.phase, node.message, node.exit_code, params, logs


@pytest.mark.parametrize("mode", SANDBOX_MODES)
def test_warm_nodes_behave_as_cold_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("KUBELINE_SANDBOX", mode)
    monkeypatch.chdir(tmp_path)
    marker = uuid.uuid4().hex
    monkeypatch.setenv("KILL_MARKER", marker)
    text = _workflow(tmp_path)
    monkeypatch.setenv("KUBELINE_WARM", "0")
    cold = run_yaml(text, tmp_path / "cold", parallelism=6)
    monkeypatch.delenv("KUBELINE_WARM")
    warm = run_yaml(text, tmp_path / "warm", parallelism=6)

    # the warm path really ran these nodes: their process was started as warm.py
    for name in WARMED:
        assert _record(warm.node(name).log_dir) == "warm", name
        assert _record(cold.node(name).log_dir) is None, name
    for name in ("script", "inline", "module"):
        assert "warm.py" in warm.node(name).output_parameters["cmdline"]
        assert "warm.py" not in cold.node(name).output_parameters["cmdline"]
    # ... and nothing a node shows differs from the cold run
    for name in (*WARMED, "first", "shell", "mispredicted", "skipped"):
        assert _comparable(warm.node(name), tmp_path / "warm") == \
            _comparable(cold.node(name), tmp_path / "cold"), name
    assert warm.phase == cold.phase == "Failed"

    script = json.loads(warm.node("script").logs().splitlines()[0])
    assert script["argv"][1:] == ["hello", "two"] and script["name"] == "__main__"
    assert not script["mods"] and script["stdin"] == ""
    module = json.loads(warm.node("module").logs().splitlines()[0])
    assert module["argv"][1:] == ["--flag", "x"]
    assert module["path"][:2] == [str(tmp_path), str(tmp_path / "mods")]
    assert module["env"]["PYTHONPATH"] == str(tmp_path / "mods")
    fails = warm.node("fails")
    assert fails.exit_code == 1 and "ValueError: boom" in fails.logs()
    assert "Traceback" in fails.logs() and "warm.py" not in fails.logs()
    assert warm.node("exits").exit_code == 3
    assert "deadline" in warm.node("deadline").message

    # not python: never warmed; mispredicted (a global output unknown beforehand): cold
    assert _record(warm.node("shell").log_dir) is None
    assert warm.node("shell").logs() == "shell says hi\n"
    assert _record(warm.node("mispredicted").log_dir) == "cold: the environment differs"
    assert warm.node("mispredicted").logs() == "hello\n"
    # a skipped task's warm process went with its folder; none outlived the run
    skipped = warm.node("skipped")
    assert skipped.phase == "Skipped"
    assert not (tmp_path / "warm" / "runs" / warm.id / "nodes" / skipped.id).exists()
    assert holders(marker) == []


def test_only_plain_python_commands_are_warmed() -> None:
    exe = sys.executable
    assert python_mode((exe, "-m", "kubeline.runtime", "--step", "a")) == \
        ("-m", "kubeline.runtime")
    assert python_mode((exe, "-c", "print(1)")) == ("-c",)
    assert python_mode((exe, "/argo/staging/script", "x")) == ("script",)
    assert python_mode((exe, "-u", "script.py")) is None  # interpreter flags: cold
    assert python_mode((exe,)) is None
    assert python_mode(("/bin/sh", "-c", "python x.py")) is None


CASES = [
    ["probe.py", "a", "b"],
    ["-c", PROBE, "x"],
    ["-m", "pkg", "y"],
    ["pkg", "z"],
    ["missing.py"],
    ["-m", "missing_module"],
    ["-c", "def f():\n    raise KeyError('k')\nf()"],
    ["-c", "import sys; sys.exit('a message')"],
    ["-c", "import atexit, sys; atexit.register(print, 'at exit'); sys.exit(4)"],
]


def _cold(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, *argv], cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False,
                          env={**os.environ, "TMPDIR": str(cwd)})
    return done.returncode, done.stdout, done.stderr


def _warm(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    mode = python_mode((sys.executable, *argv))
    assert mode is not None
    proc = subprocess.Popen([sys.executable, WARM_SCRIPT, *mode], cwd=cwd,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "TMPDIR": str(cwd)})
    out, err = proc.communicate(b"\0".join(os.fsencode(a) for a in argv))
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("argv", CASES, ids=lambda a: " ".join(a)[:30])
def test_warm_interpreter_is_the_cold_one(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "probe.py").write_text(PROBE, encoding="utf-8")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__main__.py").write_text(PROBE, encoding="utf-8")

    def masked(result: tuple[int, str, str]) -> tuple[int, str, str]:
        code, out, err = result
        out = re.sub(r"0x[0-9a-f]+", "0x", out)  # object addresses
        return code, out, err

    cold = masked(_cold(argv, tmp_path))
    cold_cmdline = (tmp_path / "cmdline").read_text() if (tmp_path / "cmdline").exists() else ""
    assert masked(_warm(argv, tmp_path)) == cold
    if cold_cmdline:
        assert "warm.py" in (tmp_path / "cmdline").read_text()


def test_an_unused_warm_interpreter_exits_quietly(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, WARM_SCRIPT, "-m", "kubeline.runtime"], cwd=tmp_path,
                          input=b"", capture_output=True, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


KILL_WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: warm-kill}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: sleeper, template: sleeper}
      - {name: after, template: after, depends: sleeper}
  - name: sleeper
    container:
      image: python
      command: [python, -c, "import time; time.sleep(120)"]
  - name: after
    container:
      image: python
      command: [python, -c, "print('after')"]
"""

RUNNER = """\
import sys
from pathlib import Path
import yaml
from kubeline.local import run_manifest
docs = [d for d in yaml.safe_load_all(Path(sys.argv[1]).read_text()) if d]
run_manifest(docs, parameters={}, state_dir=Path(sys.argv[2]))
"""


@pytest.mark.parametrize("mode", SANDBOX_MODES)
def test_sigkill_of_the_runner_kills_warm_processes(tmp_path: Path, mode: str) -> None:
    (tmp_path / "wf.yaml").write_text(KILL_WORKFLOW, encoding="utf-8")
    (tmp_path / "runner.py").write_text(RUNNER, encoding="utf-8")
    marker = uuid.uuid4().hex
    env = {**os.environ, "KILL_MARKER": marker, "KUBELINE_SANDBOX": mode}
    env.pop("KUBELINE_WARM", None)
    runner = subprocess.Popen([sys.executable, "runner.py", "wf.yaml", "state"], cwd=tmp_path,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not holders(marker, b"warm.py") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert holders(marker, b"warm.py"), "the next task's warm process never started"
        assert kill_and_wait(runner, marker) == [], "processes outlived the killed runner"
    finally:
        if runner.poll() is None:
            runner.kill()


MEMO_WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: warm-memo-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: memo, arguments: {parameters: [{name: key, value: k-a}]}}
      - {name: b, template: memo, depends: a, arguments: {parameters: [{name: key, value: k-b}]}}
  - name: memo
    inputs: {parameters: [{name: key}]}
    memoize:
      key: "{{inputs.parameters.key}}"
      cache: {configMap: {name: warm-memo}}
    container:
      image: python
      command: [python, -c, "print('computed')"]
"""


def test_memoized_tasks_are_warmed_only_after_an_upstream_miss(tmp_path: Path) -> None:
    first = run_yaml(MEMO_WORKFLOW, tmp_path)
    assert first.phase == "Succeeded"
    assert _record(first.node("b").log_dir) == "warm"  # a ran, so b was prepared
    again = run_yaml(MEMO_WORKFLOW, tmp_path)
    assert [again.node(n).memoized for n in ("a", "b")] == [True, True]
    assert again.processes_started == 0
    # a was a hit, so nothing was prepared for b: no folder of b in this run
    assert not (tmp_path / "runs" / again.id / "nodes").exists() or \
        not any((tmp_path / "runs" / again.id / "nodes").iterdir())
