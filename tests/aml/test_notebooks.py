"""Microsoft's AML pipeline notebooks, run cell by cell and unedited on kubeline.

Each test copies a notebook's folder into a fresh workspace folder and runs its code cells in
a real Jupyter kernel (tests/aml/harness.py). Where a notebook downloads data from the
internet, the harness serves a small local file of the same shape at that URL and says so
in its first output; where a notebook needs data an earlier notebook (or the user) put in
the datastore, the test stages a small file there and says so; where it reads Microsoft's
public storage account through a datastore, the test serves stand-ins from Azurite
containers of the same names (tests/aml/stand_ins.py) and kubeline.yaml points the
datastore there, and the harness says so too. Notebooks that reach a part
kubeline refuses or does not have yet are asserted to stop at that cell with one line.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.aml.harness import DATA, NotebookResult, run_notebook
from tests.aml.stand_ins import iris_files, mnist_pngs, mnist_tf_model, serve_account
from tests.server.conftest import Server
from tests.servers import AzuriteServer

INTRO = "intro-to-pipelines"
NO_INTERNET_FOR_STEPS = {"https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
                         "no_proxy": "127.0.0.1,localhost"}


def _wait_runs(workdir: Path, expected: int, timeout: float = 240.0) -> list[tuple[str, str]]:
    """(experiment, status) of every run of the workspace once all have ended."""
    from kubeline.dsl.workspace import Workspace
    from kubeline.history.db import History

    ws = Workspace(_root=workdir)
    deadline = time.monotonic() + timeout
    while True:
        with History(ws.state_dir) as db:
            runs = [(r.experiment, r.status) for r in db.list_runs(None)]
        if len(runs) >= expected and all(s in ("Finished", "Failed", "Canceled")
                                          for _, s in runs):
            return sorted(runs)
        assert time.monotonic() < deadline, f"runs did not end: {runs}"
        time.sleep(0.5)


def _run(aml_notebooks: Path, name: str, tmp_path: Path, **kwargs: object) -> NotebookResult:
    workdir = tmp_path / "ws"
    workdir.mkdir(exist_ok=True)
    folder = aml_notebooks / (name.partition("/")[0] if "/" in name else INTRO)
    notebook = folder / f"{name.rpartition('/')[2]}.ipynb"
    return run_notebook(notebook, workdir, **kwargs)  # type: ignore[arg-type]


def test_getting_started_runs(aml_notebooks: Path, tmp_path: Path) -> None:
    result = _run(aml_notebooks, "aml-pipelines-getting-started", tmp_path)
    assert result.ran_all, result.summary()
    assert "stand-in for https://dprepdata.blob.core.windows.net/demo/Titanic.csv" in \
        result.harness_output
    assert "Upload call completed" in result.cells[3].output
    assert "creating new compute target" in result.cells[5].output
    assert "Pipeline is submitted for execution" in result.cells[11].output
    assert "Hello_World1" in result.cells[12].output  # RunDetails' table
    assert _wait_runs(tmp_path / "ws", 2) == [("Hello_World1", "Finished"),
                                              ("Hello_World2", "Finished")]
    uploaded = tmp_path / "ws/.kubeline/datastores/workspaceblobstore/titanic/Titanic.csv"
    assert uploaded.read_bytes() == (DATA / "Titanic.csv").read_bytes()


def test_data_dependency_runs(aml_notebooks: Path, tmp_path: Path) -> None:
    result = _run(aml_notebooks, "aml-pipelines-with-data-dependency-steps", tmp_path,
                  staged={"titanic/Titanic.csv": DATA / "Titanic.csv"})
    assert result.ran_all, result.summary()
    assert result.notes == ["harness: staged Titanic.csv at workspaceblobstore/titanic/"
                            "Titanic.csv"]
    outputs = result.cells[17].output
    assert "name: processed_data1" in outputs and "datastore: workspaceblobstore" in outputs
    assert "PipelineRun Status: Finished" in result.cells[16].output
    downloaded = list((tmp_path / "ws/outputs").rglob("*"))
    assert downloaded, "cell 19 downloads processed_data1 into ./outputs"


def test_schedule_notebook_runs(aml_notebooks: Path, tmp_path: Path) -> None:
    from kubeline.dsl.schedule import Schedule
    from kubeline.dsl.workspace import Workspace

    result = _run(aml_notebooks, "aml-pipelines-setup-schedule-for-a-published-pipeline",
                  tmp_path)
    assert result.ran_all, result.summary()
    assert "New name: My_Updated_Schedule" in result.cells[13].output
    assert "New frequency: Hour" in result.cells[13].output
    schedules = Schedule.list(Workspace(_root=tmp_path / "ws"), active_only=False)
    by_name = {s.name: s for s in schedules}
    assert by_name["My_Updated_Schedule"].status == "Disabled"  # cell 19 disables it again
    assert by_name["My_Endpoint_Schedule"].pipeline_endpoint_id == "ScheduledPipelineEndpoint"
    assert "Count: 1" in result.cells[17].output


def test_datapath_and_parameter_notebook_runs_over_rest(
        aml_notebooks: Path, tmp_path: Path, serve_here: Callable[[Path], Server]) -> None:
    sample = tmp_path / "sample.txt"
    sample.write_text("sample\n", encoding="utf-8")
    (tmp_path / "ws").mkdir()
    server = serve_here(tmp_path / "ws")
    workdir = tmp_path / "ws"
    result = run_notebook(
        aml_notebooks / INTRO / "aml-pipelines-showcasing-datapath-and-pipelineparameter.ipynb",
        workdir, env={"KUBELINE_SERVE_URL": server.url},
        staged={f"sample_datapath{i}/sample.txt": sample for i in (1, 2, 3)})
    assert result.ran_all, result.summary()
    assert "Submitted pipeline run:" in result.cells[16].output
    assert f'href="{server.url}/ui/#/runs/' in result.cells[8].output  # RunDetails' link
    runs = _wait_runs(workdir, 3)
    assert ("MyRestPipeline", "Finished") in runs
    assert runs.count(("showcasing-datapath", "Finished")) == 2


def test_commandstep_notebook_runs_its_command(aml_notebooks: Path, tmp_path: Path) -> None:
    """Every cell runs; the step runs `python train.py --epochs 30` as the notebook says: it
    imports TensorFlow (tensorflow-cpu, decision 0035), then fails at Horovod, which is not
    installed here (the notebook's conda file lists it for the image)."""
    from kubeline.dsl.workspace import Workspace
    from kubeline.history.db import History

    result = _run(aml_notebooks, "aml-pipelines-with-commandstep", tmp_path)
    assert result.ran_all, result.summary()
    assert _wait_runs(tmp_path / "ws", 1) == [("train-commandstep-pipeline", "Failed")]
    ws = Workspace(_root=tmp_path / "ws")
    with History(ws.state_dir) as db:
        run = db.list_runs(None)[0]
        step = db.steps(run.id)[0]
    assert step.name == "train-mnist"
    assert "No module named 'horovod'" in step.stderr_tail
    assert "No module named 'tensorflow'" not in step.stderr_tail


def test_versioned_endpoints_notebook_runs_over_rest(
        aml_notebooks: Path, tmp_path: Path, serve_here: Callable[[Path], Server]) -> None:
    """All cells run. Cell 19 POSTs ParameterAssignments {"1", "2"} that the pipeline does not
    define: as AML's service does, the run starts and ignores them, and its record says so
    (decision 0034). Every run (REST, endpoint submits) then runs the notebook's step, whose
    script (publish_run_train/train.py) opens its --input_data argument, which the notebook's
    step never passes: the runs fail in the script itself, as they would on AML."""
    from kubeline.dsl.workspace import Workspace
    from kubeline.history.db import History

    (tmp_path / "ws").mkdir()
    server = serve_here(tmp_path / "ws")
    result = run_notebook(
        aml_notebooks / INTRO / "aml-pipelines-setup-versioned-pipeline-endpoints.ipynb",
        tmp_path / "ws", env={"KUBELINE_SERVE_URL": server.url})
    assert result.ran_all, result.summary()
    assert "pipelineEndpoints/Name?name=NewName&pipelineVersion=0" in result.cells[18].output
    assert "Submitted pipeline run:" in result.cells[19].output
    assert _wait_runs(tmp_path / "ws", 4) == [
        ("NewName", "Failed"), ("NewName", "Failed"), ("default_pipeline", "Failed"),
        ("submit_endpoint_sample", "Failed")]
    with History(Workspace(_root=tmp_path / "ws").state_dir) as db:
        rest = next(r for r in db.list_runs(None) if r.experiment == "default_pipeline")
        step = db.steps(rest.id)[0]
    assert step.name == "Training_Step"
    assert "TypeError: expected str, bytes or os.PathLike object, not NoneType" in \
        step.stderr_tail
    assert [w.split(";")[0] for w in rest.properties["warnings"]] == [
        f"ParameterAssignments.{n}: published pipeline '{rest.properties['published_pipeline']}'"
        f" has no parameter '{n}'" for n in ("1", "2")]


def test_publish_and_rest_notebook_runs(aml_notebooks: Path, tmp_path: Path,
                                        serve_here: Callable[[Path], Server]) -> None:
    """All 16 cells run: datasets, OutputFileDatasetConfig, publish and the REST submission.
    The harness's Titanic.csv stand-in serves the kernel, not the step processes: the steps
    get a proxy on a closed loopback port instead, so the first step's download of the
    public URL fails with one line (this machine has no internet) and nothing leaves it."""
    (tmp_path / "ws").mkdir()
    server = serve_here(tmp_path / "ws")
    result = run_notebook(aml_notebooks / INTRO /
                          "aml-pipelines-publish-and-run-using-rest-endpoint.ipynb",
                          tmp_path / "ws", env={"KUBELINE_SERVE_URL": server.url,
                                                **NO_INTERNET_FOR_STEPS})
    assert result.ran_all, result.summary()
    assert sorted(_wait_runs(tmp_path / "ws", 2)) == [("My_Pipeline1", "Failed"),
                                                      ("Pipeline_experiment_sample", "Failed")]
    from kubeline.dsl.workspace import Workspace
    from kubeline.history.db import History

    with History(Workspace(_root=tmp_path / "ws").state_dir) as db:
        run = next(r for r in db.list_runs(None) if r.experiment == "My_Pipeline1")
    shown = subprocess.run([sys.executable, "-m", "kubeline.cli", "runs", "show", run.id],
                           cwd=tmp_path / "ws", capture_output=True, text=True, timeout=120)
    assert "dataset file 'https://dprepdata.blob.core.windows.net/demo/Titanic.csv' cannot " \
           "be downloaded" in shown.stdout, shown.stdout + shown.stderr
    assert "compare.py               NotStarted" in shown.stdout


def test_mnist_parallel_run_notebook_runs_on_azurite(aml_notebooks: Path, tmp_path: Path,
                                                     azurite: AzuriteServer) -> None:
    """The digit images live in Microsoft's public account ``pipelinedata`` and cell 9
    downloads a TensorFlow model from it: the test serves six 28x28 PNGs from an Azurite
    container of the same name, and the harness serves a TF1 checkpoint with the public
    model's tensor names at the model's URL. Both ParallelRunStep runs (all images, then one
    image with other pipeline parameters) score with TensorFlow."""
    pngs = mnist_pngs(tmp_path / "stand-ins" / "mnist")
    archive = mnist_tf_model(tmp_path / "stand-ins")
    notes = serve_account(azurite, tmp_path / "ws", {"mnist_datastore": "sampledata"},
                          {"sampledata": {f"mnist/{p.name}": p for p in pngs}})
    url = "https://pipelinedata.blob.core.windows.net/mnist-model/mnist-tf.tar.gz"
    result = _run(aml_notebooks, "parallel-run/file-dataset-image-inference-mnist", tmp_path,
                  notes=notes, stand_ins={url: archive})
    assert result.ran_all, result.summary()
    assert f"harness: stand-in for {url}" in result.harness_output
    assert "mnist-tf.model.meta" in result.cells[8].output  # os.listdir(model_dir)
    assert "Prediction has  6  rows" in result.cells[17].output
    assert _wait_runs(tmp_path / "ws", 2) == [("digit_identification", "Finished")] * 2
    from kubeline.dsl.workspace import Workspace
    from kubeline.history.db import History

    with History(Workspace(_root=tmp_path / "ws").state_dir) as db:
        scored = sorted((db.steps(r.id)[0].metrics["items"],
                         db.steps(r.id)[0].metrics["failed_items"]) for r in db.list_runs(None))
    assert scored == [(1, 0), (6, 0)]  # cell 20's single image, then all six


@pytest.mark.parametrize(("name", "cell", "error"), [
    ("aml-pipelines-with-automated-machine-learning-step", 1,
     "RefusedImport: azureml.train.automl (AutoMLConfig) is not supported by kubeline (Azure "
     "AutoML is a hosted service; run your own search (e.g. scikit-learn's GridSearchCV) in a "
     "PythonScriptStep)"),
])
def test_refused_parts_stop_the_notebook_with_one_line(aml_notebooks: Path, tmp_path: Path,
                                                      name: str, cell: int, error: str) -> None:
    result = _run(aml_notebooks, name, tmp_path)
    failed = result.failed
    assert failed is not None and failed.index == cell, result.summary()
    assert failed.error == error
    assert "Traceback" not in failed.output


def test_databricks_notebook_as_far_as_kubeline_goes(aml_notebooks: Path,
                                                     tmp_path: Path) -> None:
    """With the notebook's environment variables set (its documented way to configure it),
    the compute is attached and the steps are built; the first step's notebook_path is a
    Databricks workspace path, which kubeline cannot reach, and validation says so."""
    env = {"DATABRICKS_COMPUTE_NAME": "databricks-compute", "DATABRICKS_RESOURCE_GROUP": "rg",
           "DATABRICKS_WORKSPACE_NAME": "dbws", "DATABRICKS_ACCESS_TOKEN": "test-placeholder",
           "DATABRICKS_NOTEBOOK_PATH": "/Users/me/notebook"}
    result = _run(aml_notebooks, "aml-pipelines-use-databricks-as-compute-target", tmp_path,
                  env=env)
    failed = result.failed
    assert failed is not None and failed.index == 6, result.summary()
    assert failed.error.startswith("ValidationError: step 'DBNotebookInWS': script "
                                   "'/Users/me/notebook' is not in source_directory")
    config = (tmp_path / "ws" / "kubeline.yaml").read_text(encoding="utf-8")
    assert "databricks-compute" in config and "test-placeholder" not in config


def test_iris_parallel_run_notebook_runs_on_azurite(aml_notebooks: Path, tmp_path: Path,
                                                    azurite: AzuriteServer) -> None:
    """The iris data and model live in Microsoft's public account ``pipelinedata``: the test
    serves stand-ins of the same shape (scikit-learn's iris, a classifier trained on it) from
    Azurite containers of the same names, and kubeline.yaml points the notebook's two
    datastores there; the ParallelRunStep scores every row."""
    csv, model = iris_files(tmp_path / "stand-ins")
    notes = serve_account(azurite, tmp_path / "ws",
                          {"iris_datastore_data": "sampledata",
                           "iris_model_datastore": "iris-model"},
                          {"sampledata": {"iris/iris.csv": csv},
                           "iris-model": {"iris_model.pkl": model}})
    result = _run(aml_notebooks, "parallel-run/tabular-dataset-inference-iris", tmp_path,
                  notes=notes)
    assert result.ran_all, result.summary()
    assert "harness: stand-in iris_model.pkl at Azurite iris-model/iris_model.pkl" in \
        result.harness_output
    assert _wait_runs(tmp_path / "ws", 1) == [("iris-prs", "Finished")]
    assert "Prediction has  150  rows" in result.cells[15].output
    config = (tmp_path / "ws" / "kubeline.yaml").read_text(encoding="utf-8")
    assert config.count(azurite.endpoint_url) == 2  # kept through register(overwrite=True)


def test_hyperdrive_notebook_runs_the_tensorflow_trials(aml_notebooks: Path,
                                                        tmp_path: Path) -> None:
    """Cells 1-19 run: MNIST stand-ins (harness.mnist_stand_ins), the curated environment
    AzureML-tensorflow-2.16-cuda12 (a local run uses this Python and its tensorflow-cpu,
    decision 0035), the HyperDriveStep's four trials. Each trial runs the notebook's
    tf_mnist.py with TensorFlow and trains its first epoch, then logs with ``np.float``, an
    alias NumPy removed in 1.24 (this machine has NumPy 2): every trial fails there, so the
    step has no best run and cell 20's wait_for_completion raises, naming that line."""
    from kubeline.dsl.workspace import Workspace

    result = _run(aml_notebooks, "aml-pipelines-parameter-tuning-with-hyperdrive", tmp_path)
    failed = result.failed
    assert failed is not None and failed.index == 20, result.summary()
    assert "step 'hd_step01' failed" in failed.error
    assert "no trial completed with a value of the primary metric 'validation_acc' (0 " \
           "completed, 0 canceled, 4 failed); trial 0 failed: AttributeError: module 'numpy' " \
           "has no attribute 'float'" in failed.error
    assert "Traceback" not in failed.output
    store = Workspace(_root=tmp_path / "ws").get_default_datastore()._store()
    trials = [o.key for o in store.list("kubeline/runs/") if o.key.endswith("/stdout.txt")
              and "/hd-step01-t" in o.key]
    assert len(trials) == 4, trials
    for key in trials:
        out = store.get_bytes(key).decode()
        assert "TensorFlow version: 2." in out and "(64, 784)" in out, out


def test_data_transfer_notebook_registers_adls_gen2_and_stops_at_its_sql_cell(
        aml_notebooks: Path, tmp_path: Path) -> None:
    """Cell 4 registers the ADLS Gen2 filesystem from the notebook's own environment
    variables; kubeline serves Gen2 through its Blob API, ignores the service principal (no
    Azure AD here) and keeps no credential in kubeline.yaml. Cell 5 then looks up an Azure
    SQL datastore and catches ``UserErrorException``, whose import the notebook left commented
    out in cell 3, so it stops there on any system (and cell 10 uses blob_data_ref and
    data_factory_compute, which only commented-out cells define)."""
    env = {"ADLSGEN2_ACCOUNTNAME_62": "gen2account", "ADLSGEN2_TENANT_62": "tenant",
           "ADLSGEN2_CLIENTID_62": "client", "ADLSGEN2_CLIENT_SECRET_62": "sp-secret-value"}
    result = _run(aml_notebooks, "aml-pipelines-data-transfer", tmp_path, env=env)
    failed = result.failed
    assert failed is not None and failed.index == 5, result.summary()
    assert failed.error == "NameError: name 'UserErrorException' is not defined"
    assert "Registered datastore with name: myadlsgen2datastore" in result.cells[3].output
    assert "service principal sign-in is not available in kubeline" in result.cells[3].output
    config = (tmp_path / "ws" / "kubeline.yaml").read_text(encoding="utf-8")
    assert "myadlsgen2datastore:" in config and "container_name: test" in config
    assert "account_name: gen2account" in config
    assert "sp-secret-value" not in config and "client" not in config.replace(
        "credentials", "")
