"""The shim refuses datastore paths that leave their datastore, whatever wrote the spec: a
hand-written step spec (input paths, output names), DataPath values (any way they arrive),
direct mode, and symbolic links in a local datastore (reading and writing). The script never
runs and nothing leaves the datastore."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from kubeline.graph.model import DataRef, Step, StepInput, StepOutput
from tests.runtime.conftest import PROBE, read_report
from tests.runtime.harness import Harness

ESCAPING = ["../../outside", "data/../../outside", "/etc", "..\\outside", "a\x00b",
            "C:/outside", "s3://bucket/x"]


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _step(inputs: tuple[StepInput, ...] = (), outputs: tuple[StepOutput, ...] = ()) -> Step:
    names = [i.name for i in inputs] + [o.name for o in outputs]
    return Step(id="read", name="read", kind="python_script", image="x", script="main.py",
                arguments=tuple(DataRef(n) for n in names), inputs=inputs, outputs=outputs)


def _outside(h: Harness) -> Path:
    """A folder beside the datastore with a file a bad path would reach."""
    outside = h.workspace / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_text("outside")
    return outside


def _refused(h: Harness, done: object, *parts: str) -> None:
    stderr = done.stderr  # type: ignore[attr-defined]
    assert done.returncode == 2, stderr  # type: ignore[attr-defined]
    lines = [line for line in stderr.splitlines() if line.startswith("kubeline: error:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    for part in parts:
        assert part in lines[0], (part, lines[0])
    assert not Path(h.env["REPORT"]).exists(), "the script ran"


@pytest.mark.parametrize("path", ESCAPING)
@pytest.mark.parametrize("mode", ["mount", "download", "direct"])
def test_hand_written_input_path_is_refused_before_anything(harness: Harness, path: str,
                                                            mode: str) -> None:
    _outside(harness)
    harness.add(_step((StepInput("raw", "datastore", "main", mode=mode,  # type: ignore[arg-type]
                                 path=path),)), {"main.py": PROBE})
    before = _files(harness.workspace)
    done = harness.run("read")
    _refused(harness, done, "step 'read': input 'raw': path", repr(path),
             "could leave datastore 'main'")
    assert _files(harness.workspace) == before  # not even the step's key record
    assert not harness.out_dir.exists() or not (harness.out_dir / "key").exists()


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", "x\\y"])
def test_hand_written_output_name_is_refused_before_the_script(harness: Harness,
                                                               name: str) -> None:
    harness.add(_step(outputs=(StepOutput(name, "main"),)), {"main.py": PROBE})
    before = _files(harness.workspace)
    done = harness.run("read")
    _refused(harness, done, "step 'read': output: name", repr(name))
    assert _files(harness.workspace) == before


@pytest.mark.parametrize("how", ["indexed", "json"])
@pytest.mark.parametrize("path", ["../outside", "/etc", "in/../../outside", "a\\..\\b"])
def test_datapath_value_leaving_the_datastore_is_refused(harness: Harness, how: str,
                                                         path: str) -> None:
    _outside(harness)
    harness.parameters = [{"name": "input_path", "type": "datapath",
                           "default": {"datastore": "main", "path": "ok"}}]
    harness.add(_step((StepInput("input_path", "datapath_param", "main", mode="download",
                                 parameter="input_path"),)), {"main.py": PROBE})
    value = json.dumps({"datastore": "main", "path": path})
    env = {"KUBELINE_PARAM_0": value} if how == "indexed" else {}
    done = harness.run("read", parameters={"input_path": value} if how == "json" else None,
                       env=env)
    _refused(harness, done, "parameter 'input_path': path", repr(path))
    result = harness.result("read")  # the refusal is recorded; no output, no key record
    assert result["status"] == "error" and "could leave datastore 'main'" in result["error"]
    keys = _files(harness.workspace / "store" / "kubeline")
    recorded = [k for k in keys if not k.startswith("snapshots/")]
    assert f"runs/{harness.run_id}/steps/read/result.json" in recorded
    assert all(k.startswith(f"runs/{harness.run_id}/steps/read/") for k in recorded), recorded


def test_datapath_value_is_made_canonical(harness: Harness) -> None:
    (harness.workspace / "store" / "in" / "set").mkdir(parents=True)
    (harness.workspace / "store" / "in" / "set" / "a.txt").write_text("A")
    harness.parameters = [{"name": "p", "type": "datapath",
                           "default": {"datastore": "main", "path": "in/set"}}]
    harness.add(_step((StepInput("p", "datapath_param", "main", parameter="p"),)),
                {"main.py": PROBE})
    for number, spelling in enumerate(("in/set", "./in//set/", "in/./set")):
        harness.run_id = f"run-{number}"
        done = harness.run("read", env={"KUBELINE_PARAM_0": json.dumps(
            {"datastore": "main", "path": spelling}), "KUBELINE_REGENERATE_OUTPUTS": "1"})
        assert done.returncode == 0, done.stderr
        report = read_report(harness)
        assert report["listings"][report["argv"][0]] == {"a.txt": "A"}


# -- symbolic links in a local datastore -------------------------------------------------------


@pytest.mark.parametrize("mode", ["mount", "download", "direct"])
def test_input_through_a_link_leading_out_is_refused(harness: Harness, mode: str) -> None:
    outside = _outside(harness)
    store = harness.workspace / "store"
    store.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, store / "data")
    harness.add(_step((StepInput("raw", "datastore", "main", mode=mode,  # type: ignore[arg-type]
                                 path="data/secret.txt"),)), {"main.py": PROBE})
    done = harness.run("read")
    _refused(harness, done, "'data/secret.txt' is a symbolic link", "outside the datastore")
    assert (outside / "secret.txt").read_text() == "outside"


def test_folder_input_leaves_out_links_leading_out(harness: Harness) -> None:
    outside = _outside(harness)
    folder = harness.workspace / "store" / "set"
    folder.mkdir(parents=True)
    (folder / "real.txt").write_text("inside")
    os.symlink(outside / "secret.txt", folder / "leak.txt")
    os.symlink(outside, folder / "leak-dir")
    harness.add(_step((StepInput("set", "datastore", "main", mode="download", path="set"),)),
                {"main.py": PROBE})
    done = harness.run("read")
    assert done.returncode == 0, done.stderr
    report = read_report(harness)
    assert report["listings"][report["argv"][0]] == {"real.txt": "inside"}
    assert "'set/leak.txt' is a symbolic link" in done.stderr  # said, not silently dropped


def test_outputs_are_not_written_through_a_link_leading_out(harness: Harness) -> None:
    """The datastore's own kubeline/outputs folder replaced by a link to elsewhere: the
    commit is refused and nothing lands outside."""
    outside = _outside(harness)
    store = harness.workspace / "store"
    (store / "kubeline").mkdir(parents=True)
    os.symlink(outside, store / "kubeline" / "outputs")
    script = "import sys, pathlib\npathlib.Path(sys.argv[1]).write_text('model')\n"
    harness.add(_step(outputs=(StepOutput("model", "main"),)), {"main.py": script})
    done = harness.run("read")
    assert done.returncode == 2, done.stderr
    assert "is a symbolic link" in done.stderr and "outside the datastore" in done.stderr
    assert _files(outside) == ["secret.txt"]


@pytest.mark.parametrize("entry", ["../../evil.txt", "sub/../../../evil.txt", "/evil.txt",
                                   "a\\..\\..\\evil.txt"])
def test_an_edited_completion_record_cannot_lead_out(harness: Harness, tmp_path: Path,
                                                     entry: str) -> None:
    """A completion record is data in the datastore too: a file path in it that climbs out
    is refused by the driver's key check before anything lands outside the input folder."""
    from kubeline.datapaths import DatastorePathError
    from kubeline.runtime import records
    from kubeline.runtime.layout import completion_record

    store = harness.store("main")
    key = "ab" * 32
    store.put_bytes(f"kubeline/outputs/{key}/model/ok.txt", b"ok")
    record = {"version": 1, "output": "model", "kind": "dir", "key": key, "datastore": "main",
              "location": f"kubeline/outputs/{key}/model",
              "files": [{"path": "ok.txt", "size": 2,
                         "sha256": hashlib.sha256(b"ok").hexdigest()},
                        {"path": entry, "size": 1, "sha256": "0" * 64}]}
    store.put_bytes(completion_record(key, "model"), json.dumps(record).encode())
    dest = tmp_path / "fetched" / "model"
    with pytest.raises(DatastorePathError, match=r"datastore 'main': invalid key"):
        records.fetch(store, key, "model", "producer", dest)
    assert (dest / "ok.txt").read_bytes() == b"ok"  # the good entry was fetched first
    assert not list(tmp_path.rglob("evil.txt"))
