"""ParallelRunStep end to end on this machine: the compiled planner / fan-out / gather run by
the local executor, over files and over rows, with thresholds, retries, timeouts, logs per
mini-batch, summary_only outputs and reuse; bad configurations fail in one line."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from kubeline import (
    DataReference,
    Experiment,
    ParallelRunConfig,
    ParallelRunStep,
    Pipeline,
    PipelineData,
    PipelineParameter,
    TabularInput,
    Workspace,
)
from kubeline.aml_surface.checker import ArgumentError
from kubeline.exceptions import KubelineError
from tests.pipelines import example, kubeline

FILES_SCRIPT = '''
import argparse, os
from azureml_user.parallel_run import EntryScript

def init():
    global scale
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, required=True)
    scale = parser.parse_known_args()[0].scale
    EntryScript().logger.info("init scale=%d", scale)

def run(mini_batch):
    out = []
    for path in mini_batch:
        value = int(open(path).read())
        print("read", os.path.basename(path))
        out.append(f"{os.path.basename(path)} {value * scale}")
    return out
'''

FAILING_SCRIPT = '''
import os, time

def run(mini_batch):
    out = []
    for path in mini_batch:
        name = os.path.basename(path)
        if name.startswith("bad"):
            raise ValueError("cannot score " + name)
        if name.startswith("slow"):
            time.sleep(60)
        if name.startswith("flaky"):
            marker = os.path.join(os.environ["MARKERS"], name)
            if not os.path.exists(marker):
                open(marker, "w").close()
                raise RuntimeError("first try of " + name)
        out.append(name)
    return out
'''


def _workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str],
               scripts: dict[str, str]) -> Workspace:
    (tmp_path / "kubeline.yaml").write_text("name: prs\n", encoding="utf-8")
    for rel, text in {**files, **{f"src/{k}": v for k, v in scripts.items()}}.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    ws = Workspace(_root=tmp_path)
    ws.get_default_datastore().upload(src_dir="data", target_path="data", overwrite=True,
                                      show_progress=False)
    return ws


def _config(script: str, **changes: Any) -> ParallelRunConfig:
    args: dict[str, Any] = {"environment": None, "entry_script": script,
                            "error_threshold": 0, "output_action": "append_row",
                            "compute_target": None, "node_count": 2,
                            "process_count_per_node": 2, "source_directory": "src"}
    args.update(changes)
    return ParallelRunConfig(**args)


def _submit(ws: Workspace, step: ParallelRunStep, **params: Any) -> Any:
    run = Experiment(ws, "prs").submit(Pipeline(ws, steps=[step]), pipeline_parameters=params)
    run.wait_for_completion(show_output=False, raise_on_error=False)
    return run


def _output(run: Any, tmp_path: Path, step: str, name: str, where: str) -> Path:
    return Path(run.find_step_run(step)[0].get_output_data(name).download(str(tmp_path / where)))


def _numbers(count: int) -> dict[str, str]:
    return {f"data/in/n{i:02d}.txt": str(i) for i in range(count)}


def test_files_in_mini_batches_append_rows_in_order(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _workspace(tmp_path, monkeypatch, _numbers(9), {"score.py": FILES_SCRIPT})
    store = ws.get_default_datastore()
    out = PipelineData("scores", datastore=store)
    size = PipelineParameter("size", default_value="4")
    step = ParallelRunStep("score", _config("score.py", mini_batch_size=size),
                           inputs=[DataReference(store, "numbers", "data/in")], output=out,
                           arguments=["--scale", 3])
    run = _submit(ws, step, size="2")
    assert run.get_status() == "Finished"
    folder = _output(run, tmp_path, "score", "scores", "out")
    lines = (folder / "parallel_run_step.txt").read_text(encoding="utf-8").splitlines()
    assert lines == [f"n{i:02d}.txt {i * 3}" for i in range(9)]
    metrics = run.find_step_run("score")[0].get_metrics()
    assert (metrics["mini_batches"], metrics["items"], metrics["failed_items"]) == (5, 9, 0)
    logs = kubeline("runs", "logs", run.id, "score", cwd=tmp_path).stdout
    for index in range(5):  # each mini-batch's own log, under its header, in order
        assert f"=== mini-batch {index} (numbers: " in logs
    assert logs.index("read n02.txt") > logs.index("=== mini-batch 1 ")
    assert logs.index("read n02.txt") < logs.index("=== mini-batch 2 ")
    assert "init scale=3" in logs  # EntryScript().logger lines reach the log


def test_rows_split_by_size_cover_every_row_once(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [f"{r},{r % 7},{'abc' * (r % 5)}" for r in range(150)]
    files = {"data/t/a.csv": "id;k;text\n" + "\n".join(r.replace(",", ";") for r in rows[:90])
             + "\n",
             "data/t/b.csv": "id;k;text\n" + "\n".join(r.replace(",", ";") for r in rows[90:])
             + "\n"}
    script = "def run(frame):\n    return frame[['id', 'k']]\n"
    ws = _workspace(tmp_path, monkeypatch, files, {"rows.py": script})
    store = ws.get_default_datastore()
    out = PipelineData("rows", datastore=store)
    step = ParallelRunStep("rows", _config("rows.py", mini_batch_size="300"),
                           inputs=[TabularInput(DataReference(store, "t", "data/t"),
                                                separator=";")], output=out)
    run = _submit(ws, step)
    assert run.get_status() == "Finished"
    folder = _output(run, tmp_path, "rows", "rows", "out")
    got = (folder / "parallel_run_step.txt").read_text(encoding="utf-8").splitlines()
    assert got == [f"{r} {r % 7}" for r in range(150)]
    assert run.find_step_run("rows")[0].get_metrics()["mini_batches"] > 4


def test_partition_keys_give_one_mini_batch_per_key(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    regions = ["north", "south", "east"]
    body = "\n".join(f"{regions[i % 3]},{i}" for i in range(31))
    script = ("def run(frame):\n"
              "    assert frame['region'].nunique() == 1\n"
              "    return frame.assign(n=len(frame))[['region', 'n']]\n")
    ws = _workspace(tmp_path, monkeypatch, {"data/p/x.csv": "region,value\n" + body + "\n"},
                    {"part.py": script})
    store = ws.get_default_datastore()
    out = PipelineData("parts", datastore=store)
    step = ParallelRunStep("parts", _config("part.py", partition_keys=["region"]),
                           inputs=[TabularInput(DataReference(store, "p", "data/p"))], output=out)
    run = _submit(ws, step)
    assert run.get_status() == "Finished"
    folder = _output(run, tmp_path, "parts", "parts", "out")
    frame = pd.read_csv(folder / "parallel_run_step.txt", sep=" ", header=None,
                        names=["region", "n"])
    assert sorted(set(map(tuple, frame.values.tolist()))) == [("east", 10), ("north", 11),
                                                               ("south", 10)]
    assert run.find_step_run("parts")[0].get_metrics()["mini_batches"] == 3


def _failing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int) -> Any:
    names = ["a", "bad", "flaky", "slow", "z"]
    markers = tmp_path / "markers"
    markers.mkdir()
    ws = _workspace(tmp_path, monkeypatch, {f"data/f/{n}.txt": n for n in names},
                    {"fail.py": FAILING_SCRIPT})
    store = ws.get_default_datastore()
    config = _config("fail.py", mini_batch_size=1, error_threshold=threshold,
                     run_invocation_timeout=2, run_max_try=2,
                     environment_variables={"MARKERS": str(markers)})
    out = PipelineData("names", datastore=store)
    step = ParallelRunStep("names", config, inputs=[DataReference(store, "f", "data/f")],
                           output=out)
    return _submit(ws, step)


def test_failures_over_error_threshold_fail_the_step(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    run = _failing(tmp_path, monkeypatch, threshold=1)
    assert run.get_status() == "Failed"
    step = run.find_step_run("names")[0]
    assert step.get_status() == "Failed"
    shown = json.loads(kubeline("runs", "show", run.id, "--json", cwd=tmp_path).stdout)
    message = next(s for s in shown["steps"] if s["name"] == "names")["message"]
    assert "2 failed item(s) exceed error_threshold 1" in message


def test_retries_and_timeouts_within_the_threshold(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    run = _failing(tmp_path, monkeypatch, threshold=2)
    assert run.get_status() == "Finished"
    metrics = run.find_step_run("names")[0].get_metrics()
    assert (metrics["failed_mini_batches"], metrics["failed_items"]) == (2, 2)
    assert metrics["retried_mini_batches"] == 3  # bad, flaky and slow were tried twice
    folder = _output(run, tmp_path, "names", "names", "out")
    assert (folder / "parallel_run_step.txt").read_text(encoding="utf-8").split() == \
        ["a.txt", "flaky.txt", "z.txt"]  # flaky succeeded on its second try
    logs = kubeline("runs", "logs", run.id, "names", cwd=tmp_path).stdout
    assert "run() took longer than run_invocation_timeout (2s)" in logs
    assert "ValueError: cannot score bad.txt" in logs
    assert "RuntimeError: first try of flaky.txt" in logs


def test_summary_only_gathers_what_the_script_wrote(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    script = ("import os\nfrom azureml_user.parallel_run import EntryScript\n"
              "def run(batch):\n"
              "    for path in batch:\n"
              "        name = os.path.basename(path) + '.done'\n"
              "        open(os.path.join(EntryScript().output_dir, name), 'w').write('ok')\n"
              "    return batch\n")
    ws = _workspace(tmp_path, monkeypatch, _numbers(5), {"own.py": script})
    store = ws.get_default_datastore()
    out = PipelineData("own", datastore=store)
    step = ParallelRunStep("own", _config("own.py", output_action="summary_only",
                                          mini_batch_size=2),
                           inputs=[DataReference(store, "numbers", "data/in")], output=out)
    run = _submit(ws, step)
    assert run.get_status() == "Finished"
    folder = _output(run, tmp_path, "own", "own", "out")
    assert sorted(p.name for p in folder.iterdir()) == [f"n{i:02d}.txt.done" for i in range(5)]


def test_the_step_is_reused_and_its_key_follows_its_settings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _workspace(tmp_path, monkeypatch, _numbers(4), {"score.py": FILES_SCRIPT})
    store = ws.get_default_datastore()
    size = PipelineParameter("size", default_value="2")

    def step() -> ParallelRunStep:
        return ParallelRunStep("score", _config("score.py", mini_batch_size=size),
                               inputs=[DataReference(store, "numbers", "data/in")],
                               output=PipelineData("scores", datastore=store),
                               arguments=["--scale", 2])

    first, second, third = (_submit(ws, step()), _submit(ws, step()), _submit(ws, step(),
                                                                              size="3"))
    assert [r.get_status() for r in (first, second, third)] == ["Finished"] * 3
    shown = [json.loads(kubeline("runs", "show", r.id, "--json", cwd=tmp_path).stdout)
             for r in (first, second, third)]
    reused = [(s["steps"][0]["reused_from"] or {}).get("run_id") for s in shown]
    assert reused == [None, first.id, None]
    folder = _output(second, tmp_path, "score", "scores", "again")
    assert (folder / "parallel_run_step.txt").read_text(encoding="utf-8").split("\n")[0] == \
        "n00.txt 0"


def test_bad_configurations_fail_where_they_are_made(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _workspace(tmp_path, monkeypatch, _numbers(1),
                    {"norun.py": "def init():\n    pass\n", "ok.py": FILES_SCRIPT})
    store = ws.get_default_datastore()
    data = DataReference(store, "numbers", "data/in")
    with pytest.raises(KubelineError, match=r"entry script 'norun.py' has no run\(mini_batch\)"):
        ParallelRunStep("x", _config("norun.py"), inputs=[data])
    with pytest.raises(KubelineError, match="output_action 'rows' is not one of append_row"):
        _config("ok.py", output_action="rows")
    with pytest.raises(KubelineError, match="mini_batch_size '1XB' is not a size"):
        _config("ok.py", mini_batch_size="1XB")
    with pytest.raises(KubelineError, match="give partition_keys or mini_batch_size, not both"):
        _config("ok.py", mini_batch_size=3, partition_keys=["k"])
    with pytest.raises(KubelineError, match="node_count must be at least 1, not 0"):
        _config("ok.py", node_count=0)
    with pytest.raises(ArgumentError, match="mini_batch_sise"):
        _config("ok.py", mini_batch_sise=3)
    with pytest.raises(KubelineError, match="inputs must be a non-empty list"):
        ParallelRunStep("x", _config("ok.py"), inputs=[])


def test_an_entry_script_without_run_stops_the_cli_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "kubeline.yaml").write_text("name: prs\n", encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.txt").write_text("1", encoding="utf-8")
    (tmp_path / "pipeline.py").write_text(textwrap.dedent('''
        from kubeline import (DataReference, ParallelRunConfig, ParallelRunStep, Pipeline,
                              Workspace)
        ws = Workspace.from_config()
        store = ws.get_default_datastore()
        step = ParallelRunStep("s", ParallelRunConfig(
            environment=None, entry_script="score.py", error_threshold=0,
            output_action="append_row", compute_target=None, node_count=1,
            source_directory="src"), inputs=[DataReference(store, "d", "data")])
        open("src/score.py", "w").write("def init():\\n    pass\\n")  # written after the step
        pipeline = Pipeline(ws, steps=[step])
        '''), encoding="utf-8")
    done = kubeline("run", "pipeline.py", cwd=tmp_path, check=False)
    assert done.returncode != 0
    assert "step 's': entry script 'score.py' has no run(mini_batch) function" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / ".kubeline" / "runs").exists()


def test_the_azureml_names_are_kubelines() -> None:
    from kubeline.azureml._user.parallel_run import EntryScript
    from kubeline.azureml.pipeline.steps import ParallelRunConfig as AmlConfig
    from kubeline.azureml.pipeline.steps import ParallelRunStep as AmlStep
    from kubeline.runtime.parallel.entry_script import EntryScript as Ours

    assert (AmlStep, AmlConfig, EntryScript) == (ParallelRunStep, ParallelRunConfig, Ours)


def test_the_parallel_scoring_example(tmp_path: Path) -> None:
    folder = example("parallel_scoring", tmp_path)
    done = kubeline("run", "pipeline.py", "-p", "batch_size=6", cwd=folder)
    assert "phase:   Succeeded" in done.stdout
    run_id = done.stdout.split("run:", 1)[1].split()[0]
    shown = json.loads(kubeline("runs", "show", run_id, "--json", cwd=folder).stdout)
    steps = {s["name"]: s for s in shown["steps"]}
    assert [steps[n]["status"] for n in ("score-files", "report")] == ["Finished"] * 2
    assert steps["score-files"]["metrics"]["mini_batches"] == 4  # 22 files, 6 a mini-batch
    expected = max((sum(int(v) for v in p.read_text().split()) + 1000, p.name)
                   for p in (folder / "data" / "readings").iterdir())
    logs = kubeline("runs", "logs", run_id, "report", cwd=folder).stdout
    assert f"files scored: 22, best {expected[1]} ({expected[0]})" in logs


def test_entry_scripts_import_azureml_user_without_the_compat_package(tmp_path: Path) -> None:
    code = ("import sys\nfrom kubeline.runtime.parallel import worker\n"
            "assert 'kubeline_azureml' not in sys.modules\n"
            "worker._provide_azureml_user()\n"
            "from azureml_user.parallel_run import EntryScript\n"
            "print(type(EntryScript().logger).__name__)\n")
    src = Path(__file__).resolve().parents[2] / "src"
    done = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, text=True,
                          capture_output=True, env={"PYTHONPATH": str(src)}, timeout=120,
                          check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "Logger"), done.stderr


@pytest.mark.parametrize(("node_count", "parallelism"), [("3", 3), ("count", None)])
def test_compiled_fan_out_is_bounded_by_node_count(tmp_path: Path, node_count: str,
                                                   parallelism: int | None) -> None:
    from kubeline.compiler.api import compile_to_files

    (tmp_path / "kubeline.yaml").write_text("name: prs\n", encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "s.py").write_text(FILES_SCRIPT, encoding="utf-8")
    (tmp_path / "pipeline.py").write_text(textwrap.dedent(f'''
        from kubeline import (DataReference, ParallelRunConfig, ParallelRunStep, Pipeline,
                              PipelineParameter, Workspace)
        ws = Workspace.from_config()
        store = ws.get_default_datastore()
        count = PipelineParameter("count", default_value=2)
        step = ParallelRunStep("s", ParallelRunConfig(
            environment=None, entry_script="s.py", error_threshold=0,
            output_action="append_row", compute_target=None, node_count={node_count},
            source_directory="src"), inputs=[DataReference(store, "d", "data")])
        pipeline = Pipeline(ws, steps=[step])
        '''), encoding="utf-8")
    files = compile_to_files(tmp_path / "pipeline.py")
    docs = [d for text in files.values() for d in yaml.safe_load_all(text)
            if d and d["kind"] == "Workflow"]
    templates = {t["name"]: t for t in docs[0]["spec"]["templates"]}
    (task,) = templates["main"]["dag"]["tasks"]
    fan = templates[task["template"]]
    assert fan.get("parallelism") == parallelism
    tasks = {t["name"]: t for t in fan["dag"]["tasks"]}
    assert tasks["work"]["withParam"] == "{{tasks.plan.outputs.parameters.tasks}}"
    assert (tasks["work"]["depends"], tasks["gather"]["depends"]) == ("plan", "work")
    phases = {name: templates[t["template"]]["container"]["args"]
              for name, t in tasks.items()}
    assert phases["work"] == ["--step", "s", "--phase", "work", "--task",
                              "{{inputs.parameters.task}}"]
    assert fan["outputs"]["parameters"][0] == {
        "name": "key", "valueFrom": {"parameter": "{{tasks.gather.outputs.parameters.key}}"}}


def test_datasets_split_by_files_and_by_rows(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from kubeline.azureml.core import Dataset

    rows = "\n".join(f"{i},{i * i}" for i in range(12))
    ws = _workspace(tmp_path, monkeypatch, {**_numbers(5), "data/csv/t.csv": "x,y\n" + rows + "\n"},
                    {"score.py": FILES_SCRIPT,
                     "rows.py": "def run(frame):\n    return frame[['y']]\n"})
    store = ws.get_default_datastore()
    files = Dataset.File.from_files(path=(store, "data/in"))
    table = Dataset.Tabular.from_delimited_files(path=(store, "data/csv/t.csv"))
    by_files = ParallelRunStep("files", _config("score.py", mini_batch_size=2),
                               inputs=[files.as_named_input("numbers")],
                               output=PipelineData("f", datastore=store),
                               arguments=["--scale", 1])
    by_rows = ParallelRunStep("rows", _config("rows.py", mini_batch_size="20"),
                              inputs=[table.as_named_input("table")],
                              output=PipelineData("r", datastore=store))
    run = Experiment(ws, "prs").submit(Pipeline(ws, steps=[by_files, by_rows]))
    run.wait_for_completion(show_output=False, raise_on_error=False)
    assert run.get_status() == "Finished"
    got = (_output(run, tmp_path, "files", "f", "a") / "parallel_run_step.txt").read_text()
    assert got.split("\n")[:5] == [f"n{i:02d}.txt {i}" for i in range(5)]
    got = (_output(run, tmp_path, "rows", "r", "b") / "parallel_run_step.txt").read_text()
    assert got.split() == [str(i * i) for i in range(12)]
    assert run.find_step_run("rows")[0].get_metrics()["mini_batches"] > 1
