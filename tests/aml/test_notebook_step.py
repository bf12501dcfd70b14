"""NotebookRunnerStep: a notebook run with papermill as a step, parameters injected, the
executed notebook kept as the step's output."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from kubeline import Experiment, Pipeline, PipelineParameter, Workspace
from kubeline.azureml.contrib.notebook import NotebookRunConfig, NotebookRunnerStep
from kubeline.exceptions import KubelineError


@pytest.fixture
def notebook_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace in tmp_path (the current folder) with an empty nb/ folder."""
    (tmp_path / "kubeline.yaml").write_text("name: nb\n", encoding="utf-8")
    (tmp_path / "nb").mkdir()
    monkeypatch.chdir(tmp_path)
    return Workspace(_root=tmp_path)


def _notebook(path: Path, body: str) -> None:
    """A notebook: a cell tagged parameters (factor, label), then body."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("factor = 1\nlabel = 'none'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)


def test_notebook_runs_with_parameters_and_is_kept(notebook_ws: Workspace) -> None:
    ws = notebook_ws
    _notebook(ws.root / "nb" / "report.ipynb", "print('RESULT', label, factor * 21)")
    factor = PipelineParameter("factor", default_value=2)
    config = NotebookRunConfig(source_directory="nb", notebook="report.ipynb",
                               parameters={"factor": factor, "label": "weekly"})
    step = NotebookRunnerStep(config, name="report",
                              output_notebook_pipeline_data_name="executed")
    run = Experiment(ws, "notebooks").submit(Pipeline(ws, steps=[step]),
                                            pipeline_parameters={"factor": 3})
    assert run.wait_for_completion(show_output=False) == "Finished"
    path = Path(run.find_step_run("report")[0].get_output_data("executed")
                .download(str(ws.root / "out")))
    executed = json.loads((path / "report.output.ipynb").read_text(encoding="utf-8"))
    text = "".join("".join(o.get("text", "")) for c in executed["cells"]
                   for o in c.get("outputs", []))
    assert "RESULT weekly 63" in text  # the submitted value 3 reached the notebook


def test_a_failing_notebook_fails_the_step_in_one_line(notebook_ws: Workspace) -> None:
    ws = notebook_ws
    _notebook(ws.root / "nb" / "bad.ipynb", "raise ValueError('no data for ' + label)")
    step = NotebookRunnerStep(NotebookRunConfig("nb", "bad.ipynb"))
    run = Experiment(ws, "notebooks").submit(Pipeline(ws, steps=[step]))
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    stderr = run.find_step_run("bad")[0].get_stderr_log()
    assert "kubeline: error: notebook bad.ipynb: cell 2 raised ValueError: no data for none" \
        in stderr
    with pytest.raises(KubelineError, match=r"is not an \.ipynb file"):
        NotebookRunConfig("nb", "bad.py")
