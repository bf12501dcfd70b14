"""The AML v1 surface beyond the how-to page: sequences, drafts, modules, models,
environments, credentials, RunDetails, exceptions and one-line refusals (issue 13)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from kubeline import (
    AmlCompute,
    ComputeTarget,
    Datastore,
    Experiment,
    InteractiveLoginAuthentication,
    Model,
    Module,
    ModuleStep,
    Pipeline,
    PipelineData,
    PipelineDraft,
    PythonScriptStep,
    RunDetails,
    ServicePrincipalAuthentication,
    StepSequence,
    Workspace,
)
from kubeline.dsl.module import InputPortDef, OutputPortDef
from kubeline.dsl.runconfig import CondaDependencies, Environment
from kubeline.exceptions import ErrorResponseException, KubelineError, UserErrorException
from tests.server.conftest import Server, start_server

REPO = Path(__file__).resolve().parents[2]
MARK = "import sys\nprint('MARK', {marker!r}, *sys.argv[1:])\n"


def _ws(root: Path, monkeypatch: pytest.MonkeyPatch, marker: str = "v1") -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    (root / "kubeline.yaml").write_text("name: compat\n", encoding="utf-8")
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "step.py").write_text(MARK.format(marker=marker), encoding="utf-8")
    monkeypatch.chdir(root)
    return Workspace(_root=root)


def _stdout(run: object, step_name: str) -> str:
    found = run.find_step_run(step_name)  # type: ignore[attr-defined]
    return str(found[0].get_stdout_log())


# --- StepSequence ---------------------------------------------------------------------------

def test_step_sequence_orders_steps_that_share_no_data(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _ws(tmp_path, monkeypatch)
    a, b, c, d = (PythonScriptStep("step.py", name=n, source_directory="src")
                  for n in ("a", "b", "c", "d"))
    graph = Pipeline(ws, steps=StepSequence(steps=[a, [b, c], d])).graph()
    deps = {s.name: set(s.depends_on) for s in graph.steps}
    assert deps == {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}}
    with pytest.raises(KubelineError, match="StepSequence: 'x' is not a step"):
        StepSequence(steps=[a, "x"])


# --- PipelineDraft --------------------------------------------------------------------------

def test_pipeline_draft_create_update_submit_publish(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _ws(tmp_path, monkeypatch)
    step = PythonScriptStep("step.py", name="s", source_directory="src", arguments=["one"])
    draft = PipelineDraft.create(ws, Pipeline(ws, steps=[step]), name="d1",
                                 experiment_name="drafts", tags={"team": "x"})
    assert [d.id for d in PipelineDraft.list(ws, tags={"team": "x"})] == [draft.id]
    step2 = PythonScriptStep("step.py", name="s", source_directory="src", arguments=["two"])
    draft.update(pipeline=Pipeline(ws, steps=[step2]), name="d2")
    again = PipelineDraft.get(ws, draft.id)
    assert again.name == "d2"
    run = again.submit_run()
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert "MARK v1 two" in _stdout(run, "s")
    assert PipelineDraft.get(ws, draft.id).last_submitted_pipeline_run_id == run.id
    published = again.publish()
    assert published.name == "d2" and published.total_run_steps == 1
    again.delete()
    with pytest.raises(KubelineError, match="does not exist"):
        PipelineDraft.get(ws, draft.id)


# --- Module / ModuleStep --------------------------------------------------------------------

def test_module_versions_are_copies_and_module_step_runs_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _ws(tmp_path, monkeypatch, marker="v1")
    module = Module.create(ws, "echo", "prints a mark")
    out_port = OutputPortDef("result")
    optional_in = InputPortDef("data", is_optional=True)
    module.publish_python_script("step.py", "first", inputs=[optional_in], outputs=[out_port],
                                 source_directory="src", version="1")
    (tmp_path / "src" / "step.py").write_text(MARK.format(marker="v2"), encoding="utf-8")
    module.publish_python_script("step.py", "second", inputs=[], outputs=[out_port],
                                 source_directory="src", version="2", is_default=True)
    assert [v.version for v in Module.get_versions(ws, "echo")] == ["1", "2"]
    assert Module.get(ws, name="echo").default_version == "2"
    result = PipelineData("result")
    old = ModuleStep(module=module, version="1", outputs_map={"result": result},
                     arguments=["arg"], name="old")
    run = Experiment(ws, "modules").submit(Pipeline(ws, steps=[old]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert "MARK v1 arg" in _stdout(run, "old"), "version 1 runs its own copy of the code"
    with pytest.raises(KubelineError, match=r"outputs_map names unknown port\(s\) wrong"):
        ModuleStep(module=module, outputs_map={"wrong": result})
    with pytest.raises(KubelineError, match="outputs_map lacks port"):
        ModuleStep(module=module)
    with pytest.raises(KubelineError, match="U-SQL"):
        module.publish_adla_script("x.usql", "d", [], [])


# --- Model registry -------------------------------------------------------------------------

def test_model_register_versions_in_the_default_datastore(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _ws(tmp_path, monkeypatch)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(b"w1")
    first = Model.register(ws, "model", "clf", tags={"stage": "dev"})
    (tmp_path / "model" / "weights.bin").write_bytes(b"w2")
    second = Model.register(workspace=ws, model_path="model/weights.bin", model_name="clf")
    assert (first.version, second.version, second.id) == (1, 2, "clf:2")
    assert Model(ws, "clf").version == 2 and Model(ws, id="clf:1").tags == {"stage": "dev"}
    assert [m.id for m in Model.list(ws)] == ["clf:2", "clf:1"]
    store = tmp_path / ".kubeline/datastores/workspaceblobstore/kubeline/models/clf"
    assert (store / "1" / "model" / "weights.bin").read_bytes() == b"w1"
    path = Path(Model(ws, "clf", version=1).download(str(tmp_path / "dl")))
    assert (path / "weights.bin").read_bytes() == b"w1"
    assert Path(Model.get_model_path("clf", _workspace=ws)).read_bytes() == b"w2"
    with pytest.raises(UserErrorException, match="model 'nope' is not registered"):
        Model(ws, "nope")


# --- Environment / CondaDependencies ---------------------------------------------------------

def test_environment_versions_and_conda_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             aml_notebooks: Path) -> None:
    ws = _ws(tmp_path, monkeypatch)
    conda = aml_notebooks / "intro-to-pipelines/commandstep_train/conda_dependencies.yml"
    env = Environment.from_conda_specification("train", str(conda))
    assert env.python.conda_dependencies.pip_packages or \
        env.python.conda_dependencies.conda_packages
    env.docker.base_image = "python:3.11-slim"
    assert env.register(ws).version == "1"
    env.docker.base_image = "python:3.12-slim"
    assert env.register(ws).version == "2"
    assert Environment.get(ws, "train").docker.base_image == "python:3.12-slim"
    assert Environment.get(ws, "train", version="1").docker.base_image == "python:3.11-slim"
    assert Environment.get(ws, "AzureML-TensorFlow-2.3-GPU").docker.base_image == \
        "tensorflow/tensorflow:2.3.0-gpu"
    with pytest.raises(KubelineError, match="Environment 'nope' is not registered"):
        Environment.get(ws, "nope")
    deps = CondaDependencies.create(pip_packages=["surely-not-installed-pkg==1.0"])
    assert deps.package_names() == ["surely-not-installed-pkg"]


def test_submit_names_declared_packages_missing_locally(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
        ) -> None:
    from kubeline import RunConfiguration

    ws = _ws(tmp_path, monkeypatch)
    rc = RunConfiguration()
    rc.environment.python.conda_dependencies = CondaDependencies.create(
        conda_packages=["surely-not-installed-pkg"])
    step = PythonScriptStep("step.py", name="s", source_directory="src", runconfig=rc)
    run = Experiment(ws, "pkgs").submit(Pipeline(ws, steps=[step]))
    run.wait_for_completion(show_output=False)
    assert "step 's' declares surely-not-installed-pkg, not installed where local steps run" \
        in caplog.text


# --- credentials and the REST endpoint -------------------------------------------------------

def test_authentication_header_is_accepted_by_kubeline_serve(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _ws(tmp_path, monkeypatch)
    step = PythonScriptStep("step.py", name="s", source_directory="src")
    published = Pipeline(ws, steps=[step]).publish("p")
    server: Server = start_server(tmp_path, log_dir=tmp_path.parent)
    try:
        monkeypatch.delenv("KUBELINE_TOKEN", raising=False)
        header = InteractiveLoginAuthentication().get_authentication_header()
        assert header["Authorization"].startswith("Bearer kl_")
        assert oct((tmp_path / ".kubeline/sdk-token").stat().st_mode & 0o777) == "0o600"
        body = {"ExperimentName": "rest", "RunSource": "SDK"}
        url = f"{server.url}/pipelines/{published.id}"
        assert requests.post(url, json=body, headers=header, timeout=30).status_code == 200
        token = header["Authorization"].split()[1]
        sp = ServicePrincipalAuthentication("tenant", "app", token)
        assert sp.get_authentication_header() == header
        bad = {"Authorization": "Bearer kl_000000000000_" + "x" * 43}
        assert requests.post(url, json=body, headers=bad, timeout=30).status_code == 401
    finally:
        server.stop()
    with pytest.raises(KubelineError, match=r"InteractiveLoginAuthentication\(force=True\)"):
        InteractiveLoginAuthentication(force=True)


# --- RunDetails -----------------------------------------------------------------------------

def test_run_details_prints_a_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    ws = _ws(tmp_path, monkeypatch)
    step = PythonScriptStep("step.py", name="only-step", source_directory="src")
    run = Experiment(ws, "details").submit(Pipeline(ws, steps=[step]))
    run.wait_for_completion(show_output=False)
    capsys.readouterr()
    RunDetails(run).show()
    text = capsys.readouterr().out
    assert "only-step" in text and "Finished" in text and run.id in text
    html = RunDetails.html_of(RunDetails(run).get_widget_data())
    assert "<table>" in html and "only-step" in html and "<script" not in html
    with pytest.raises(KubelineError, match="RunDetails: run_instance is a str"):
        RunDetails("x")  # type: ignore[arg-type]


# --- exceptions notebooks catch -------------------------------------------------------------

def test_exceptions_match_the_sdk_situations(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from kubeline.azureml.core.compute_target import ComputeTargetException
    from kubeline.azureml.exceptions import ComputeTargetException as FromExceptions

    ws = _ws(tmp_path, monkeypatch)
    assert ComputeTargetException is FromExceptions
    with pytest.raises(ComputeTargetException):
        AmlCompute(ws, "cpu-cluster")
    with pytest.raises(ComputeTargetException):
        ComputeTarget(workspace=ws, name="cpu-cluster")
    for kind in (UserErrorException, ErrorResponseException):
        with pytest.raises(kind, match="datastore 'missing' is not registered"):
            Datastore.get(ws, "missing")


# --- bad input: one line where the object is created ----------------------------------------

@pytest.mark.parametrize(("make", "message"), [
    (lambda: PythonScriptStep(script_name=3),
     "PythonScriptStep: script_name must be str, not int (3)"),
    (lambda: PythonScriptStep("a.py", allow_reuse="yes"),
     "PythonScriptStep: allow_reuse must be bool, not str ('yes')"),
    (lambda: PythonScriptStep("a.py", scriptname="b.py"),
     "PythonScriptStep: unknown argument 'scriptname' (accepted: allow_reuse, arguments,"),
    (lambda: AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes="4"),
     "AmlCompute.provisioning_configuration: max_nodes must be int or None, not str ('4')"),
    (lambda: PipelineData("x", is_directory="no"),
     "PipelineData: is_directory must be bool or None, not str ('no')"),
])
def test_wrong_types_and_unknown_names_fail_in_one_line(make: object, message: str) -> None:
    with pytest.raises(KubelineError) as info:
        make()  # type: ignore[operator]
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_azure_only_arguments_are_ignored_and_unimplemented_ones_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _ws(tmp_path, monkeypatch)
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2,
                                                   idle_seconds_before_scaledown=600,
                                                   vnet_name="v")
    assert config.properties["max_nodes"] == 2
    with pytest.raises(KubelineError, match=r"Experiment\.list: argument 'tags' is not supported"):
        Experiment.list(ws, tags={"a": "b"})
    assert Experiment.list(ws, tags=None) == []  # the SDK's default value passes
    with pytest.raises(KubelineError, match=r"Workspace\.list_keys is not supported by kubeline"):
        ws.list_keys()
    assert ws.datasets == {}  # built now (tests/aml/test_datasets.py): none registered yet


# --- the azureml import name -----------------------------------------------------------------

def _pth_dir(tmp_path: Path) -> Path:
    """A site dir holding the distribution's .pth line, beside kubeline's source."""
    site = tmp_path / "site"
    site.mkdir(parents=True)
    setup = (REPO / "compat/azureml/setup.py").read_text(encoding="utf-8")
    start = setup.index("LINE = ")
    line = eval(setup[start + len("LINE = "):setup.index("\n\n", start)])
    (site / "kubeline-azureml.pth").write_text(line, encoding="utf-8")
    (site / "a-kubeline-src.pth").write_text(f"{REPO / 'src'}\n{REPO / 'compat/azureml'}\n",
                                             encoding="utf-8")
    return site


def test_azureml_imports_resolve_to_kubeline(tmp_path: Path) -> None:
    from scripts.aml_imports import collect, default_root

    imports = sorted({m for m, _ in collect(default_root())} - {"azureml_user.parallel_run"})
    code = ("import site, sys, json, importlib; site.addsitedir(sys.argv[1]); "
            "mods = json.loads(sys.argv[2]); out = {}\n"
            "for m in mods:\n"
            "    try: out[m] = importlib.import_module(m).__name__\n"
            "    except Exception as e: out[m] = type(e).__name__ + ': ' + str(e)\n"
            "print(json.dumps(out))")
    done = subprocess.run([sys.executable, "-c", code, str(_pth_dir(tmp_path)),
                           json.dumps(imports)], capture_output=True, text=True, check=True,
                          env={k: v for k, v in os.environ.items() if k != "KUBELINE_AZUREML"})
    resolved = json.loads(done.stdout)
    refused = {m: v for m, v in resolved.items() if not v.startswith("kubeline.azureml")}
    assert refused == {"azureml.train.automl": (
        "RefusedImport: azureml.train.automl (AutoMLConfig) is not supported by kubeline "
        "(Azure AutoML is a hosted service; run your own search (e.g. scikit-learn's "
        "GridSearchCV) in a PythonScriptStep)")}
    assert len(resolved) >= 24


def test_microsofts_sdk_wins_where_it_is_installed(tmp_path: Path) -> None:
    """In a virtualenv with Microsoft's azureml-core, the .pth does not take `azureml` over:
    Microsoft's modules load, and the first import says what to do in one line."""
    from scripts.aml_parity import sdk_python

    sdk = sdk_python()
    code = ("import site, sys; site.addsitedir(sys.argv[1]); import azureml.core; "
            "print(azureml.core.__file__)")
    env = {k: v for k, v in os.environ.items() if k != "KUBELINE_AZUREML"}
    done = subprocess.run([str(sdk), "-c", code, str(_pth_dir(tmp_path))],
                          capture_output=True, text=True, check=True, env=env)
    assert done.stdout.strip().endswith("/site-packages/azureml/core/__init__.py")
    told = [line for line in done.stderr.splitlines() if line.startswith("kubeline-azureml:")]
    assert len(told) == 1 and "Microsoft's azureml SDK is installed here" in told[0]
    quiet = subprocess.run([str(sdk), "-c", code, str(_pth_dir(tmp_path / "b"))],
                           capture_output=True, text=True, check=True,
                           env={**env, "KUBELINE_AZUREML": "microsoft"})
    assert "kubeline-azureml:" not in quiet.stderr


def test_signature_parity_has_nothing_missing() -> None:
    done = subprocess.run([sys.executable, str(REPO / "scripts/aml_parity.py")],
                          capture_output=True, text=True, timeout=600, check=False)
    last = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert last.startswith("parity: ") and " / 0 missing (" in last
