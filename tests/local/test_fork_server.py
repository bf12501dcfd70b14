"""The fork server (decision 0012): step shims forked from one sandboxed interpreter per run
behave exactly as steps started on their own, each with its own /tmp and mounts, and none
outlives the run or a killed runner."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from kubeline.local import RunSummary, run_manifest
from kubeline.local.forkclient import ForkServers, qualifies, runs_shim
from kubeline.local.sandbox import ContainerFS, Sandbox, default_passthrough
from kubeline.local.warmpool import RECORD, Launch
from tests.pipelines import workspace

from .conftest import HAS_BWRAP
from .procscan import holders, kill_and_wait

pytestmark = pytest.mark.skipif(not HAS_BWRAP, reason="the fork server needs bubblewrap")

PROBE = textwrap.dedent("""\
    import json, os, sys, time
    from kubeline import Run
    out = sys.argv[sys.argv.index("--out") + 1]
    os.makedirs(out, exist_ok=True)
    with open("/tmp/mine", "w") as handle:  # every step's own /tmp
        handle.write(os.environ["KUBELINE_STEP_ID"])
    time.sleep(float(os.environ.get("PROBE_SLEEP", "0")))
    with open("/tmp/mine") as handle:
        mine = handle.read()
    with open(os.path.join(out, "v.txt"), "w") as handle:
        handle.write(mine)
    Run.get_context().log("value", len(mine))
    print(json.dumps({"argv": sys.argv[1:], "name": __name__, "tmp": mine,
                      "cwd_is_src": os.path.exists("probe.py"),
                      "step": os.environ["KUBELINE_STEP_ID"],
                      "flags": [sys.flags.no_site, sys.flags.isolated],
                      "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())},
                     sort_keys=True))
    print("on stderr", file=sys.stderr)
    if os.environ["KUBELINE_STEP_ID"] == "bad":
        sys.exit(3)
""")

PIPELINE = textwrap.dedent("""\
    from kubeline import Pipeline, PipelineData, PythonScriptStep, Workspace
    ws = Workspace.from_config()
    a, b, c = PipelineData("a"), PipelineData("b"), PipelineData("c")
    steps = [
        PythonScriptStep("probe.py", name=name, arguments=["--out", out], outputs=[out],
                         inputs=inputs, source_directory="scripts", allow_reuse=False)
        for name, out, inputs in (("left", a, []), ("right", b, []), ("bad", c, [a]))
    ]
    pipeline = Pipeline(ws, steps=steps)
""")


def _pipeline(root: Path) -> list[dict[str, object]]:
    from kubeline.compiler.api import compile_file

    workspace(root)
    (root / "scripts" / "probe.py").write_text(PROBE, encoding="utf-8")
    (root / "pipeline.py").write_text(PIPELINE, encoding="utf-8")
    return compile_file(root / "pipeline.py")  # type: ignore[return-value]


def _record(summary: RunSummary, name: str) -> str | None:
    path = Path(summary.node(name).log_dir) / RECORD
    return path.read_text(encoding="utf-8").strip() if path.exists() else None


def _probe(summary: RunSummary, name: str) -> dict[str, object]:
    lines = [line for line in summary.node(name).logs().splitlines() if line.startswith("{")]
    # the step's working folder has a random name (mkdtemp) in every run
    return json.loads(re.sub(r"/(\w+)-\w{8}/", r"/\1-X/", lines[0]))  # type: ignore[no-any-return]


def _run(root: Path, state: str, monkeypatch: pytest.MonkeyPatch, forked: bool
         ) -> RunSummary:
    monkeypatch.setenv("KUBELINE_FORKSERVER", "1" if forked else "0")
    monkeypatch.setenv("KUBELINE_WARM", "0")
    docs = _pipeline(root)
    return run_manifest(docs, parameters={}, state_dir=root / state)  # type: ignore[arg-type]


def test_forked_steps_behave_as_steps_started_on_their_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROBE_SLEEP", "0.5")  # left and right overlap: /tmp must not be shared
    forked = _run(tmp_path, "forked", monkeypatch, forked=True)
    cold = _run(tmp_path, "cold", monkeypatch, forked=False)
    assert forked.phase == cold.phase == "Failed"  # 'bad' exits 3
    for name in ("left", "right", "bad"):
        assert _record(forked, name) == "forked", name
        assert _record(cold, name) is None, name
        mine, theirs = forked.node(name), cold.node(name)
        assert (mine.phase, mine.exit_code) == (theirs.phase, theirs.exit_code), name
        probe = _probe(forked, name)
        # its own pid namespace with its own /proc: pid 1, the shim, its script (a step under
        # bubblewrap has its own pid namespace too, but sees the host's /proc)
        assert probe.pop("pids") == [1, 2, 3], name
        cold_probe = _probe(cold, name)
        cold_probe.pop("pids")
        assert probe == cold_probe, name
        assert probe["tmp"] == probe["step"] == name  # its own /tmp, though they overlapped
        assert probe["name"] == "__main__" and probe["cwd_is_src"] is True
        assert probe["flags"] == [0, 0]  # an ordinary interpreter, site and all
        assert "on stderr" in mine.logs()
        assert sorted(mine.output_parameters) == sorted(theirs.output_parameters)
    assert forked.node("bad").exit_code == 3
    assert forked.node("left").output_parameters["metrics"] == \
        cold.node("left").output_parameters["metrics"]


def test_only_the_step_shim_under_bubblewrap_qualifies() -> None:
    def launch(*program: str, bwrap: bool = True) -> Launch:
        return Launch(wrapper=("bwrap",), program=program, env=(), cwd="/",
                      stdout=Path("o"), stderr=Path("e"), bwrap=bwrap)

    exe = sys.executable
    assert qualifies(launch(exe, "-m", "kubeline.runtime", "--node", "n"))
    assert not qualifies(launch(exe, "-m", "kubeline.runtime", bwrap=False))
    assert not qualifies(launch(exe, "-m", "other"))
    assert not qualifies(launch(exe, "-u", "-m", "kubeline.runtime"))
    assert not qualifies(launch("/usr/bin/python3", "-m", "kubeline.runtime"))
    # told from the template alone, as prewarm does, the same answer
    assert runs_shim({"container": {"command": ["python3", "-m", "kubeline.runtime"]}})
    assert runs_shim({"container": {"command": ["python", "-m", "kubeline.runtime"],
                                    "args": ["--node", "x"]}})
    assert not runs_shim({"container": {"command": ["python3", "/kubeline/runtime/boot.py"]}})
    assert not runs_shim({"container": {"command": ["python3", "-m", "other"]}})
    assert not runs_shim({"script": {"command": ["python3"], "source": "print(1)"}})


def test_the_server_mounts_runs_reports_and_kills(tmp_path: Path) -> None:
    """The server itself: a child's private /tmp and read-only mount, its env, cwd, log files
    and exit code; a kill ends a child at once; closing the server ends the rest."""
    sandbox = Sandbox("bwrap", default_passthrough(tmp_path))
    node = tmp_path / "node"
    fs = ContainerFS(root=node)
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "spec").write_text("fixed", encoding="utf-8")
    fs.binds.append((ro, "/kubeline/spec"))
    fs.readonly.add("/kubeline/spec")
    sandbox.prepare(fs)
    code = ("import os, sys; open('/tmp/x', 'w').write(os.environ['WHO']); "
            "print(open('/kubeline/spec/spec').read(), os.getcwd()); "
            "w = os.access('/kubeline/spec', os.W_OK); print('writable', w, file=sys.stderr); "
            "sys.exit(7)")
    probe_caps = textwrap.dedent("""\
        import ctypes, os
        status = dict(line.split(":", 1) for line in open("/proc/self/status"))
        libc = ctypes.CDLL(None, use_errno=True)
        remount = libc.mount(None, b"/kubeline/spec", None, 32 | 4096, None)  # rw again
        unmount = libc.umount2(b"/tmp", 2)
        exec_env = open("/proc/self/environ", "rb").read()  # the server's: no step's values
        print(int(status["CapEff"], 16) >> 21 & 1, int(status["CapAmb"], 16) >> 21 & 1,
              status["NoNewPrivs"].strip(), remount, unmount, os.environ["WHO"],
              b"WHO=" in exec_env)
    """)
    program = (sys.executable, "-c", code)
    view = sandbox.view(fs)
    wrapper = sandbox.wrap_view([], view, str(tmp_path))
    env = {**os.environ, "WHO": "child"}

    def launch(program: tuple[str, ...], name: str) -> Launch:
        return Launch(wrapper=tuple(wrapper), program=program, env=tuple(sorted(env.items())),
                      cwd=str(tmp_path), stdout=tmp_path / f"{name}.out",
                      stderr=tmp_path / f"{name}.err", bwrap=True, view=tuple(view))

    async def scenario() -> tuple[int, int, float]:
        server = ForkServers(tmp_path, sandbox)._server(launch(program, "one"), 0)
        try:
            step = await server.spawn(launch(program, "one"))
            first = await asyncio.wait_for(step.wait(), 60)
            sleeper = await server.spawn(
                launch((sys.executable, "-c", "import time; time.sleep(60)"), "two"))
            start = time.monotonic()
            sleeper.kill()
            second = await asyncio.wait_for(sleeper.wait(), 30)
            took = time.monotonic() - start
            caps = await server.spawn(launch((sys.executable, "-c", probe_caps), "caps"))
            assert await asyncio.wait_for(caps.wait(), 60) == 0
            return first, second, took
        finally:
            await server.close()

    first, second, took = asyncio.run(scenario())
    # the child gave up CAP_SYS_ADMIN (it needed it for its mounts) and cannot undo them
    assert (tmp_path / "caps.out").read_text(encoding="utf-8") == "0 0 1 -1 -1 child False\n"
    assert (ro / "spec").read_text(encoding="utf-8") == "fixed"
    assert first == 7
    assert (tmp_path / "one.out").read_text(encoding="utf-8") == f"fixed {tmp_path}\n"
    assert (tmp_path / "one.err").read_text(encoding="utf-8") == "writable False\n"
    assert (node / "tmp" / "x").read_text(encoding="utf-8") == "child"  # its own /tmp
    assert not Path("/tmp/x").exists() or Path("/tmp/x").read_text() != "child"
    assert second == -9 and took < 20


RUNNER = textwrap.dedent("""\
    import json, sys
    from pathlib import Path
    from kubeline.local import run_manifest
    docs = json.loads(Path(sys.argv[1]).read_text())
    run_manifest(docs, parameters={}, state_dir=Path(sys.argv[2]))
""")


def test_a_killed_runner_leaves_no_forked_step(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROBE_SLEEP", "120")
    marker = uuid.uuid4().hex
    monkeypatch.setenv("KILL_MARKER", marker)
    docs = _pipeline(tmp_path)
    (tmp_path / "docs.json").write_text(json.dumps(docs), encoding="utf-8")
    (tmp_path / "runner.py").write_text(RUNNER, encoding="utf-8")
    runner = subprocess.Popen([sys.executable, "runner.py", "docs.json", "state"],
                              cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list((tmp_path / "state").rglob("mine")) and time.monotonic() < deadline:
        time.sleep(0.05)  # a step has started: it wrote its /tmp/mine
    # the server and its forked steps carry the server's command line, which names this
    # test's state folder (their environment is the server's, without the marker)
    forked = holders(marker, b"forkserver", folder=tmp_path / "state")
    assert len(forked) >= 3, "the fork server and two forked steps should be running"
    assert kill_and_wait(runner, marker, tmp_path / "state") == []


def test_steps_start_on_their_own_when_the_server_cannot_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine whose bubblewrap refuses the server (say, no user namespaces for it) still
    runs every step, each started as its own interpreter."""
    import kubeline.local.forkclient as forkclient

    monkeypatch.setattr(forkclient, "SERVER_MODULE", "kubeline.no_such_server")
    monkeypatch.chdir(tmp_path)
    summary = _run(tmp_path, "state", monkeypatch, forked=True)
    assert summary.phase == "Failed" and summary.node("bad").exit_code == 3
    for name in ("left", "right", "bad"):
        assert _record(summary, name) is None, name
        assert _probe(summary, name)["step"] == name
    log = next((tmp_path / "state").rglob("forkserver-0.log")).read_text(encoding="utf-8")
    assert "No module named kubeline.no_such_server" in log


def test_output_at_server_start_does_not_disturb_it(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the interpreter prints as it starts (a sitecustomize, a .pth hook) goes to the
    server's log; its replies travel on a pipe of their own."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text('print("noise {\\"id\\": 1}")\n', encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(hooks))
    monkeypatch.chdir(tmp_path)
    summary = _run(tmp_path, "state", monkeypatch, forked=True)
    for name in ("left", "right", "bad"):
        assert _record(summary, name) == "forked", name
    assert summary.node("left").phase == "Succeeded"
    log = next((tmp_path / "state").rglob("forkserver-0.log")).read_text(encoding="utf-8")
    assert 'noise {"id": 1}' in log
