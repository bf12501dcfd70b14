"""Inputs: one layout in mount and download mode, path_on_compute, direct mode, DataPath."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Literal

import pytest

from kubeline.graph.model import DataRef, Step, StepInput, StepOutput
from tests.runtime.conftest import PROBE, read_report
from tests.runtime.harness import Harness

FILES = {"a.txt": "A", "nested/b.txt": "B", "nested/deeper/c.txt": "C"}


def _seed(h: Harness, prefix: str = "data/set") -> None:
    root = h.workspace / "store" / prefix
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _reader(h: Harness, item: StepInput) -> dict[str, object]:
    h.add(Step(id="read", name="read", kind="python_script", image="x", script="main.py",
               arguments=(DataRef(item.name),), inputs=(item,)), {"main.py": PROBE})
    h.run_id = str(uuid.uuid4())  # a new run that regenerates outputs: never a cache hit
    done = h.run("read", env={"KUBELINE_REGENERATE_OUTPUTS": "1"})
    assert done.returncode == 0, done.stderr
    report = read_report(h)
    (arg,) = report["argv"]
    return {"arg": arg, "listing": report["listings"].get(arg), "cwd": report["cwd"]}


@pytest.mark.parametrize("mode", ["mount", "download"])
def test_datastore_folder_same_layout_in_every_mode(harness: Harness,
                                                  mode: Literal["mount", "download"]) -> None:
    _seed(harness)
    seen = _reader(harness, StepInput("set", "datastore", "main", mode=mode, path="data/set"))
    assert seen["listing"] == FILES
    # as Argo's artifact driver leaves it: already under the inputs folder
    shutil.copytree(harness.workspace / "store" / "data" / "set", harness.inputs_dir / "set")
    seen = _reader(harness, StepInput("set", "datastore", "main", mode=mode, path="data/set"))
    assert seen["arg"] == str(harness.inputs_dir / "set")
    assert seen["listing"] == FILES


def test_datastore_file_input_is_a_file(harness: Harness) -> None:
    _seed(harness)
    modes: tuple[Literal["mount", "download"], ...] = ("mount", "download")
    for mode in modes:
        seen = _reader(harness, StepInput("one", "datastore", "main", mode=mode,
                                          path="data/set/nested/b.txt"))
        assert seen["listing"] == {"": "B"}


@pytest.mark.parametrize("mode", ["mount", "download"])
def test_pipeline_data_same_layout_in_every_mode(harness: Harness,
                                                mode: Literal["mount", "download"]) -> None:
    script = ("import os, sys\nfor rel, text in " + repr(FILES) + ".items():\n"
              "    p = os.path.join(sys.argv[1], rel)\n"
              "    os.makedirs(os.path.dirname(p), exist_ok=True)\n"
              "    open(p, 'w').write(text)\n")
    harness.add(Step(id="prod", name="prod", kind="python_script", image="x",
                     script="main.py", arguments=(DataRef("d"),),
                     outputs=(StepOutput("d", "main"),)), {"main.py": script})
    assert harness.run("prod").returncode == 0
    key = harness.key()
    harness.add(Step(id="read", name="read", kind="python_script", image="x", script="main.py",
                     arguments=(DataRef("d"),),
                     inputs=(StepInput("d", "pipeline_data", "main", mode=mode,
                                       producer="prod"),)), {"main.py": PROBE})
    done = harness.run("read", {"prod": key})
    assert done.returncode == 0, done.stderr
    report = read_report(harness)
    assert report["listings"][report["argv"][0]] == FILES


def test_path_on_compute_is_honoured_for_inputs_and_outputs(harness: Harness) -> None:
    _seed(harness)
    absolute = harness.root / "elsewhere" / "in"
    harness.add(Step(id="read", name="read", kind="python_script", image="x", script="main.py",
                     arguments=(DataRef("rel"), DataRef("abs"), DataRef("out")),
                     inputs=(StepInput("rel", "datastore", "main", mode="download",
                                       path="data/set", path_on_compute="local/in"),
                             StepInput("abs", "datastore", "main", path="data/set/a.txt",
                                       path_on_compute=str(absolute))),
                     outputs=(StepOutput("out", "main", path_on_compute="results/out.txt"),)),
                {"main.py": PROBE + "open(sys.argv[3], 'w').write('done')\n"})
    done = harness.run("read")
    assert done.returncode == 0, done.stderr
    report = read_report(harness)
    rel, abs_, out = report["argv"]
    assert rel == str(Path(report["cwd"]) / "local" / "in")
    assert report["listings"][rel] == FILES
    assert abs_ == str(absolute) and absolute.read_text() == "A"
    assert out == str(Path(report["cwd"]) / "results" / "out.txt")
    output = harness.result("read")["outputs"]["out"]
    assert harness.store("main").get_bytes(output["location"]) == b"done"
    # a second run finds path_on_compute taken and says how to fix it
    harness.run_id = "second-run"
    done = harness.run("read", env={"KUBELINE_REGENERATE_OUTPUTS": "1"})
    assert done.returncode == 2
    assert f"input 'abs': path_on_compute '{absolute}' already exists" in done.stderr


def test_direct_mode_passes_the_datastore_address(harness: Harness) -> None:
    _seed(harness)
    seen = _reader(harness, StepInput("set", "datastore", "main", mode="direct",
                                      path="data/set"))
    assert seen["arg"] == str((harness.workspace / "store" / "data" / "set").absolute())


def test_datapath_parameter_from_argo_substituted_text(harness: Harness) -> None:
    _seed(harness, "first")
    _seed(harness, "second/run")
    harness.parameters = [
        {"name": "input_path", "type": "datapath",
         "default": {"datastore": "main", "path": "first"}},
        {"name": "n", "type": "int", "default": 1},
    ]
    item = StepInput("input_path", "datapath_param", "main", mode="download",
                     parameter="input_path")
    seen = _reader(harness, item)
    assert seen["listing"] == FILES and "first" not in str(seen["arg"])
    # Argo inserts values raw into the JSON template: the env var is not valid JSON
    raw = ('{"input_path": "{"datastore": "main", "path": "second/run"}", "n": "2"}')
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    harness.env["KUBELINE_PARAMETERS"] = raw
    done = harness.run("read")
    assert done.returncode == 0, done.stderr
    key_second = harness.key()
    harness.env["KUBELINE_PARAMETERS"] = raw.replace("second/run", "first")
    assert harness.run("read").returncode == 0
    assert harness.key() != key_second  # the DataPath value is part of the key


def test_missing_datastore_data_is_a_clear_error(harness: Harness) -> None:
    harness.add(Step(id="read", name="read", kind="python_script", image="x", script="main.py",
                     arguments=(DataRef("x"),),
                     inputs=(StepInput("x", "datastore", "main", path="no/such"),)),
                {"main.py": PROBE})
    done = harness.run("read")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "kubeline: error: input 'x': nothing found at datastore 'main' path 'no/such' "
        "(upload the data first or fix path_on_datastore)")
