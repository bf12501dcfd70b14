"""The shim as a subprocess: AML argument semantics, outputs, upstream inputs, reuse, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kubeline.graph.model import DataRef, Lit, ParamRef, Step, StepInput, StepOutput
from tests.runtime.conftest import PROBE, read_report
from tests.runtime.harness import Harness

WRITE_DIR = '''\
import os, sys
os.makedirs(sys.argv[1], exist_ok=True)
with open(os.path.join(sys.argv[1], "data.txt"), "w") as f:
    f.write(sys.argv[2])
os.makedirs(os.path.join(sys.argv[1], "sub"), exist_ok=True)
with open(os.path.join(sys.argv[1], "sub", "more.txt"), "w") as f:
    f.write("more")
print("wrote", sys.argv[2])
'''


def _step(step_id: str, **fields: object) -> Step:
    base: dict[str, object] = {"id": step_id, "name": f"{step_id}.py", "kind": "python_script",
                               "image": "python:3.11-slim", "script": "main.py"}
    base.update(fields)
    return Step(**base)  # type: ignore[arg-type]


def _producer(h: Harness, text: str = "hello", **fields: object) -> str:
    """Run a producer of output 'd' (a folder); return its key."""
    h.add(_step("prod", arguments=(DataRef("d"), Lit(text)),
                outputs=(StepOutput("d", "main"),), **fields), {"main.py": WRITE_DIR})
    done = h.run("prod")
    assert done.returncode == 0, done.stderr
    return h.key()


def test_arguments_become_paths_values_and_literals(harness: Harness) -> None:
    harness.parameters = [{"name": "lr", "type": "float", "default": 0.5},
                          {"name": "epochs", "type": "int", "default": 3}]
    harness.add(_step("train", arguments=(Lit("--lr"), ParamRef("lr"), Lit("--epochs"),
                                          ParamRef("epochs"), Lit("--out"), DataRef("model")),
                      outputs=(StepOutput("model", "main"),)), {"main.py": PROBE})
    done = harness.run("train", parameters={"lr": "0.01", "epochs": "{{not-a-tag"})
    assert done.returncode == 0, done.stderr
    report = read_report(harness)
    argv = report["argv"]
    assert argv[:5] == ["--lr", "0.01", "--epochs", "{{not-a-tag", "--out"]
    out = Path(argv[5])
    assert out.is_absolute() and out.parts[-2:] == ("outputs", "model")
    assert Path(report["cwd"]).name == "src"  # the extracted snapshot
    assert list(harness.work_root.iterdir()) == []  # the step's workdir is removed after it


def test_parameter_defaults_fill_missing_values(harness: Harness) -> None:
    harness.parameters = [{"name": "flag", "type": "bool", "default": True}]
    harness.add(_step("s", arguments=(ParamRef("flag"),)), {"main.py": PROBE})
    done = harness.run("s")  # no KUBELINE_PARAMETERS at all
    assert done.returncode == 0, done.stderr
    assert read_report(harness)["argv"] == ["True"]


def test_params_become_aml_parameter_env_vars(harness: Harness) -> None:
    harness.parameters = [{"name": "alpha", "type": "string", "default": "a"}]
    harness.add(_step("s", params=(("alpha", ParamRef("alpha")), ("mode", Lit("fast")),
                                   ("where", DataRef("o"))),
                      outputs=(StepOutput("o", "main"),)), {"main.py": PROBE})
    done = harness.run("s", parameters={"alpha": "beta"})
    assert done.returncode == 0, done.stderr
    env = read_report(harness)["env"]
    assert env["AML_PARAMETER_alpha"] == "beta"
    assert env["AML_PARAMETER_mode"] == "fast"
    assert env["AML_PARAMETER_where"].endswith("/outputs/o")


def test_output_committed_with_completion_record(harness: Harness) -> None:
    key = _producer(harness)
    store = harness.store("main")
    record = json.loads(store.get_bytes(f"kubeline/outputs/{key}/d.complete.json"))
    assert record["kind"] == "dir" and record["key"] == key
    assert [f["path"] for f in record["files"]] == ["data.txt", "sub/more.txt"]
    assert record["files"][0]["size"] == 5
    import hashlib

    assert record["files"][0]["sha256"] == hashlib.sha256(b"hello").hexdigest()
    assert store.get_bytes(f"kubeline/outputs/{key}/d/sub/more.txt") == b"more"
    result = harness.result("prod")
    assert result["status"] == "succeeded" and result["exit_code"] == 0
    assert result["outputs"]["d"]["location"] == f"kubeline/outputs/{key}/d"
    assert store.get_bytes(f"kubeline/runs/{harness.run_id}/keys/prod").decode() == key
    assert store.get_bytes(f"kubeline/runs/{harness.run_id}/steps/prod/stdout.txt") \
        == b"wrote hello\n"


def test_stdout_and_stderr_stream_through_and_are_captured(harness: Harness) -> None:
    script = "import sys\nprint('to out')\nprint('to err', file=sys.stderr)\n"
    harness.add(_step("s"), {"main.py": script})
    done = harness.run("s")
    assert done.returncode == 0
    assert "to out" in done.stdout and "to err" in done.stderr
    store = harness.store("main")
    base = f"kubeline/runs/{harness.run_id}/steps/s"
    assert store.get_bytes(f"{base}/stderr.txt") == b"to err\n"


def test_crash_after_writing_output_commits_nothing(harness: Harness) -> None:
    script = WRITE_DIR + "import sys\nprint('boom', file=sys.stderr)\nsys.exit(3)\n"
    harness.add(_step("prod", arguments=(DataRef("d"), Lit("x")),
                      outputs=(StepOutput("d", "main"),)), {"main.py": script})
    done = harness.run("prod")
    assert done.returncode == 3
    key = harness.key()
    store = harness.store("main")
    assert list(store.list(f"kubeline/outputs/{key}/")) == []
    assert not store.exists(f"kubeline/cache/{key}.json")
    result = harness.result("prod")
    assert result["status"] == "failed" and result["exit_code"] == 3
    assert result["outputs"] == {}
    assert store.get_bytes(f"kubeline/runs/{harness.run_id}/steps/prod/stderr.txt") \
        == b"boom\n"


def test_file_output_and_upstream_inputs(harness: Harness) -> None:
    harness.add(_step("prod", arguments=(DataRef("f"),), outputs=(StepOutput("f", "main"),)),
                {"main.py": "import sys\nopen(sys.argv[1], 'w').write('single')\n"})
    assert harness.run("prod").returncode == 0
    file_key = harness.key()
    dir_key = _producer(harness, "folder")
    harness.add(_step("cons", arguments=(DataRef("f"), DataRef("d")),
                      inputs=(StepInput("f", "pipeline_data", "main", producer="prod"),
                              StepInput("d", "pipeline_data", "main", producer="prod"))),
                {"main.py": PROBE})
    # both inputs name the same producer id; pass one key for the test's two producer runs
    done = harness.run("cons", {"prod": file_key})
    assert done.returncode == 2
    assert "upstream output not committed" in done.stderr  # 'd' was never made under file_key
    harness.add(_step("cons", arguments=(DataRef("f"),),
                      inputs=(StepInput("f", "pipeline_data", "main", producer="prod"),)),
                {"main.py": PROBE})
    done = harness.run("cons", {"prod": file_key})
    assert done.returncode == 0, done.stderr
    (arg,) = read_report(harness)["argv"]
    assert read_report(harness)["listings"][arg] == {"": "single"}
    harness.add(_step("cons", arguments=(DataRef("d"),),
                      inputs=(StepInput("d", "pipeline_data", "main", producer="prod"),)),
                {"main.py": PROBE})
    done = harness.run("cons", {"prod": dir_key})
    assert done.returncode == 0, done.stderr
    (arg,) = read_report(harness)["argv"]
    assert read_report(harness)["listings"][arg] == {"data.txt": "folder", "sub/more.txt": "more"}


def test_missing_upstream_record_is_a_clear_error(harness: Harness) -> None:
    harness.add(_step("cons", arguments=(DataRef("d"),),
                      inputs=(StepInput("d", "pipeline_data", "main", producer="prod"),)),
                {"main.py": PROBE})
    done = harness.run("cons", {"prod": "ab" * 32})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith("kubeline: error: upstream output not committed: output 'd' "
                               "of step 'prod'")
    result = harness.result("cons")
    assert result["status"] == "error" and "upstream output not committed" in result["error"]


def test_tampered_output_is_refused(harness: Harness) -> None:
    key = _producer(harness)
    target = harness.workspace / "store" / "kubeline" / "outputs" / key / "d" / "data.txt"
    target.write_text("HELLO")
    harness.add(_step("cons", arguments=(DataRef("d"),),
                      inputs=(StepInput("d", "pipeline_data", "main", producer="prod"),)),
                {"main.py": PROBE})
    done = harness.run("cons", {"prod": key})
    assert done.returncode == 2
    assert "does not match its completion record" in done.stderr


def test_second_run_reuses_and_allow_reuse_false_reruns(harness: Harness) -> None:
    key = _producer(harness)
    first = harness.run_id
    harness.run_id = "run-two"
    done = harness.run("prod")
    assert done.returncode == 0 and "wrote" not in done.stdout
    assert harness.key() == key
    result = harness.result("prod")
    assert result["status"] == "reused"
    assert result["reused_from"] == {"run_id": first, "step_id": "prod"}
    assert result["outputs"]["d"]["location"] == f"kubeline/outputs/{key}/d"
    # regenerate_outputs (env) and allow_reuse=False change the key and run the script
    harness.run_id = "run-three"
    done = harness.run("prod", env={"KUBELINE_REGENERATE_OUTPUTS": "true"})
    assert done.returncode == 0 and "wrote" in done.stdout and harness.key() != key
    harness.run_id = "run-four"
    key4 = _producer(harness, allow_reuse=False)
    assert key4 not in (key,) and harness.result("prod")["status"] == "succeeded"


def test_upstream_keys_change_the_key(harness: Harness) -> None:
    harness.add(_step("cons", arguments=(DataRef("d"),),
                      inputs=(StepInput("d", "pipeline_data", "main", producer="prod"),)),
                {"main.py": PROBE})
    keys = []
    for upstream in ("a" * 64, "b" * 64):
        harness.run("cons", {"prod": upstream})
        keys.append(harness.key())
    assert keys[0] != keys[1]


def test_command_step_runs_its_tokens(harness: Harness) -> None:
    harness.add(Step(id="cmd", name="cmd", kind="command", image="x",
                     arguments=(Lit(sys.executable), Lit("-c"),
                                Lit("import sys; open(sys.argv[1], 'w').write('ok')"),
                                DataRef("o")),
                     outputs=(StepOutput("o", "main"),)), {"placeholder.txt": "x"})
    done = harness.run("cmd")
    assert done.returncode == 0, done.stderr
    record = harness.result("cmd")["outputs"]["o"]
    assert record["kind"] == "file"
    assert harness.store("main").get_bytes(record["location"]) == b"ok"


def test_command_not_found_exits_127_with_one_line(harness: Harness) -> None:
    harness.add(Step(id="cmd", name="cmd", kind="command", image="x",
                     arguments=(Lit("no-such-program-kl"),)), {"a.txt": "x"})
    done = harness.run("cmd")
    assert done.returncode == 127
    assert done.stderr.strip() == ("kubeline: error: command 'no-such-program-kl' is not found "
                                   "in the step image (install it in the image or fix the "
                                   "step's command)")


def test_missing_snapshot_and_bad_arguments_are_clear(harness: Harness) -> None:
    harness.add(_step("s", snapshot="f" * 64))
    done = harness.run("s")
    assert done.returncode == 2
    assert "source snapshot ffffffffffff is not in datastore 'main'" in done.stderr
    done = harness.run("s", {"prod": "short"})
    assert "--upstream item 'prod:short' is not 'step-id:KEY'" in done.stderr
    done = harness.run("nope")
    assert "step 'nope':" in done.stderr and "does not exist" in done.stderr
    assert all("Traceback" not in d for d in (done.stderr,))


def test_key_written_for_argo(harness: Harness) -> None:
    harness.add(_step("s"), {"main.py": "pass\n"})
    assert harness.run("s").returncode == 0
    key = harness.key()
    assert len(key) == 64 and int(key, 16) >= 0
    assert json.loads((harness.out_dir / "metrics.json").read_text()) == {}


def test_unwritable_out_dir_is_a_clear_error(harness: Harness) -> None:
    harness.add(_step("s"), {"main.py": "pass\n"})
    blocker = harness.root / "a-file"
    blocker.write_text("x")
    done = harness.run("s", env={"KUBELINE_OUT_DIR": str(blocker / "out")})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"kubeline: error: cannot write {blocker}/out/key: Not a "
                                  "directory (mount a writable volume there or set "
                                  "KUBELINE_OUT_DIR)")


def test_direct_pipeline_data_is_the_committed_location(harness: Harness) -> None:
    key = _producer(harness)
    harness.add(_step("cons", arguments=(DataRef("d"),),
                      inputs=(StepInput("d", "pipeline_data", "main", mode="direct",
                                        producer="prod"),)), {"main.py": PROBE})
    done = harness.run("cons", {"prod": key})
    assert done.returncode == 0, done.stderr
    (arg,) = read_report(harness)["argv"]
    assert arg == str((harness.workspace / "store" / "kubeline" / "outputs" / key / "d")
                      .absolute())
    done = harness.run("cons", {"prod": "0" * 64})
    assert done.returncode == 2 and "upstream output not committed" in done.stderr
