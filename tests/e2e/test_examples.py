"""Every example in examples/ runs end to end with ``kubeline run`` and produces the data
and metrics it should, recorded in the run history."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import EXAMPLES, example, kubeline, runs_json, show_json

# every example and the test that runs it end to end (some need servers or Spark: their
# tests live with those fixtures)
END_TO_END = {
    "compare_models": ("tests/e2e/test_examples.py", "test_compare_models"),
    "data_dependency": ("tests/e2e/test_examples.py", "test_data_dependency"),
    "spark_wordcount": ("tests/spark/test_local_spark.py",
                        "test_wordcount_runs_and_the_next_step_reads_it"),
    "data_transfer": ("tests/spark/test_transfer.py", "test_s3_to_blob_to_local"),
    "gpu_training": ("tests/compute/test_local_gpu.py", "test_gpu_step_runs_on_cpu_with_a_warning"),
    "parallel_scoring": ("tests/aml/test_parallel_run.py", "test_the_parallel_scoring_example"),
}


def test_every_example_is_covered() -> None:
    names = sorted(p.name for p in EXAMPLES.iterdir() if (p / "pipeline.py").is_file())
    assert names == sorted(END_TO_END), "add an end-to-end test for it to END_TO_END"
    repo = EXAMPLES.parent
    for module, function in END_TO_END.values():
        assert f"def {function}(" in (repo / module).read_text(encoding="utf-8")


def _out_file(store: Path, location: str, name: str) -> Path:
    return store.joinpath(*location.split("/")) / name


def test_compare_models(tmp_path: Path) -> None:
    folder = example("compare_models", tmp_path)
    done = kubeline("run", "pipeline.py", "-p", "pipeline_arg=20", cwd=folder)
    assert "phase:   Succeeded" in done.stdout
    # the file's own __main__ block ran: wait_for_completion output, then its download
    assert "PipelineRun Status: Finished" in done.stdout
    (run,) = runs_json(folder)
    assert (run["experiment"], run["pipeline"], run["status"]) == (
        "Compare_Models_Exp", "compare_models", "Finished")
    assert run["started_by"] == "kubeline run"
    assert run["parameters"] == {"pipeline_arg": "20"}
    shown = show_json(run["id"], folder)
    steps = {s["name"]: s for s in shown["steps"]}
    assert list(steps) == ["train.py", "extract.py", "compare.py"]
    for step in steps.values():
        assert (step["status"], step["attempts"], step["exit_code"], step["reused"]) == (
            "Finished", 1, 0, False)
    store = folder / ".kubeline" / "datastores" / "workspaceblobstore"
    out = steps["compare.py"]["outputs"]["out_data3"]
    best = json.loads(_out_file(store, out["location"], "best.json").read_text())
    assert best["param1"] == 20
    assert best["best"] in ("model_a", "model_b")
    assert best["accuracy"] == max(c["accuracy"] for c in best["candidates"])
    # Run.get_context().log in compare.py reached the step and the pipeline run
    assert steps["compare.py"]["metrics"] == {"accuracy": best["accuracy"],
                                              "best_model": best["best"]}
    assert shown["metrics"] == {"best_accuracy": best["accuracy"]}
    assert set(steps["extract.py"]["outputs"]) == {"comp_data1", "comp_data2"}
    for name in ("comp_data1", "comp_data2"):
        loc = steps["extract.py"]["outputs"][name]["location"]
        assert json.loads(_out_file(store, loc, "result.json").read_text())["model"] in (
            "model_a", "model_b")
    # the how-to's download: ./out/<path on datastore>/best.json
    downloaded = folder / "out" / Path(*out["location"].split("/")) / "best.json"
    assert json.loads(downloaded.read_text()) == best
    assert all(len(h) == 64 for h in shown["snapshots"].values())
    assert sorted(shown["snapshots"]) == ["compare-py", "extract-py", "train-py"]


def test_data_dependency(tmp_path: Path) -> None:
    folder = example("data_dependency", tmp_path)
    done = kubeline("run", "pipeline.py", "-p", "top=2", cwd=folder)
    assert "phase:   Succeeded" in done.stdout
    (run,) = runs_json(folder)
    # no submit in the file: the run is recorded under the pipeline's name
    assert (run["experiment"], run["pipeline"], run["status"]) == (
        "data_dependency", "data_dependency", "Finished")
    assert run["parameters"]["top"] == "2"
    assert json.loads(run["parameters"]["raw_data"]) == {"datastore": "workspaceblobstore",
                                                         "path": "sales/2026"}
    shown = show_json(run["id"], folder)
    assert [s["name"] for s in shown["steps"]] == ["clean", "featurize", "report"]
    assert all(s["status"] == "Finished" and s["exit_code"] == 0 for s in shown["steps"])
    assert all(s["metrics"] == {} for s in shown["steps"])
    report = shown["steps"][2]["outputs"]["report"]
    store = folder / ".kubeline" / "datastores" / "workspaceblobstore"
    top = json.loads(_out_file(store, report["location"], "report.json").read_text())["top"]
    assert len(top) == 2
    assert top == sorted(top, key=lambda kv: (-kv[1], kv[0]))
    # logs of a step through the CLI: the script's own stdout
    logs = kubeline("runs", "logs", run["id"], "report", cwd=folder).stdout
    assert logs.splitlines()[:2] == [f"{region}: {total}" for region, total in top]
