"""The how-to page's submission code: ``python pipeline.py`` and ``kubeline run pipeline.py``
make the same run, and the PipelineRun API reads it back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubeline import Experiment, PipelineRun, StepRunError, Workspace
from tests.e2e.conftest import (
    example,
    kubeline,
    load_pipeline,
    python,
    runs_json,
    show_json,
    words_workspace,
)

_SAME = ("experiment", "pipeline", "parameters", "snapshots", "tags")


def _comparable(shown: dict[str, Any]) -> dict[str, Any]:
    steps = [{k: s[k] for k in ("id", "name", "status", "exit_code", "key", "metrics")}
             | {"outputs": {n: o["location"] for n, o in s["outputs"].items()}}
             for s in shown["steps"]]
    return {**{k: shown[k] for k in _SAME}, "steps": steps}


def test_python_and_kubeline_run_make_the_same_run(tmp_path: Path) -> None:
    folder = example("compare_models", tmp_path)
    first = python(folder / "pipeline.py", cwd=folder)
    assert "PipelineRun Status: Finished" in first.stdout
    assert "compare.py: Finished reused=False {'accuracy':" in first.stdout
    done = kubeline("run", "pipeline.py", "--json", cwd=folder)
    summary = json.loads(done.stdout)  # the file's own prints went to stderr
    second, first_run = runs_json(folder)  # newest first
    assert (summary["phase"], summary["historyId"]) == ("Succeeded", second["id"])
    assert first_run["started_by"] == "Experiment.submit"
    assert second["started_by"] == "kubeline run"
    a, b = show_json(first_run["id"], folder), show_json(second["id"], folder)
    assert _comparable(a) == _comparable(b)
    assert a["workflow"] != b["workflow"] and a["id"] != b["id"]
    # the second run reused every step of the first
    assert all(s["reused"] and s["reused_from"]["run_id"] == first_run["id"]
               for s in b["steps"])
    assert not any(s["reused"] for s in a["steps"])


def test_pipeline_run_api(tmp_path: Path, in_folder: Any) -> None:
    folder = words_workspace(tmp_path / "ws")
    in_folder(folder)
    ns = load_pipeline(folder)
    ws: Workspace = ns["ws"]
    exp = Experiment(ws, "words-api")
    run = exp.submit(ns["pipeline"], tags={"team": "a"}, pipeline_parameters={"sleep": 0})
    assert run.get_status() in ("Running", "Finished")
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert [s.name for s in run.get_steps()] == ["count", "top"]
    (count,) = run.find_step_run("count")
    assert count.get_status() == "Finished" and not count.reused and count.reused_from is None
    assert count.get_metrics() == {"words": 8, "distinct": 5}
    assert count.get_metrics("words") == {"words": 8}
    assert "8 words" in count.get_stdout_log()
    assert run.get_metrics() == {"input_words": 8}
    recursive = run.get_metrics(recursive=True)
    assert recursive[f"{run.id}_top"] == {"top_count": 3}
    details = run.get_details()
    assert details["status"] == "Finished" and details["tags"] == {"team": "a"}
    assert [e["status"] for e in details["statusHistory"]] == ["NotStarted", "Running",
                                                              "Finished"]
    assert details["submittedBy"] == "Experiment.submit"
    top = run.find_step_run("top")[0].get_output_data("report")
    path = Path(top.download(tmp_path / "dl", show_progress=False))
    assert path == tmp_path / "dl" / Path(*top.path_on_datastore.split("/"))
    assert json.loads((path / "top.json").read_text()) == {"word": "the", "count": 3}
    with pytest.raises(Exception, match="has no output 'nope'"):
        count.get_output_data("nope")
    # the run can be found again by id, in another PipelineRun object
    again = PipelineRun(exp, run.id)
    assert again.get_status() == "Finished"
    assert "words-api" in ws.experiments
    assert [r.id for r in exp.get_runs()] == [run.id]

    # a second submit reuses both steps; regenerate_outputs=True runs them again
    reused = exp.submit(ns["pipeline"])
    reused.wait_for_completion(show_output=False)
    assert all(s.reused and s.reused_from == run.id for s in reused.get_steps())
    fresh = exp.submit(ns["pipeline"], regenerate_outputs=True)
    fresh.wait_for_completion(show_output=False)
    assert not any(s.reused for s in fresh.get_steps())
    assert fresh.get_details()["properties"]["regenerate_outputs"] is True
    keys = {s.id: s.get_details()["key"] for s in fresh.get_steps()}
    assert keys != {s.id: s.get_details()["key"] for s in reused.get_steps()}


def test_bad_submissions_are_one_line_errors(tmp_path: Path, in_folder: Any) -> None:
    folder = words_workspace(tmp_path / "ws")
    in_folder(folder)
    ns = load_pipeline(folder)
    with pytest.raises(Exception, match="Experiment name 'bad name!' is not valid"):
        Experiment(ns["ws"], "bad name!")
    with pytest.raises(Exception, match="pipeline_parameters nope not in pipeline"):
        Experiment(ns["ws"], "words").submit(ns["pipeline"], pipeline_parameters={"nope": 1})
    with pytest.raises(Exception, match="not in the history"):
        PipelineRun(Experiment(ns["ws"], "words"), "no-such-run")
    assert StepRunError.exit_code == 1
