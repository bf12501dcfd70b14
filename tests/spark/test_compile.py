"""Compiled Spark steps: the SparkApplication, its lifecycle templates, and what must never
appear in a manifest. Validated against the spark-operator CRD (strict) and `argo lint`."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hera.workflows.models import Container, Toleration, Volume

from kubeline.compiler.argo_lint import lint_offline
from tests.spark.crd import crd_errors
from tests.spark.helpers import documents, edit_config, example, kubeline


def _workflow(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] in ("Workflow", "WorkflowTemplate"))


def _templates(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in _workflow(docs)["spec"]["templates"]}


def _apps(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [yaml.safe_load(t["resource"]["manifest"]) for t in _templates(docs).values()
            if t.get("resource", {}).get("action") == "create"]


@pytest.fixture(scope="module")
def compiled_wordcount(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The example compiled once (``kubeline compile``) for every test that only reads it."""
    base = tmp_path_factory.mktemp("wordcount")
    return documents(example("spark_wordcount", base), base / "out")


@pytest.fixture()
def wordcount(compiled_wordcount: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of the compiled example: a test may change it."""
    return copy.deepcopy(compiled_wordcount)


def test_spark_application_matches_the_operator_crd(wordcount: list[dict[str, Any]]) -> None:
    (app,) = _apps(wordcount)
    assert app["apiVersion"] == "sparkoperator.k8s.io/v1beta2"
    assert crd_errors(app) == []


def test_unknown_fields_are_rejected_by_the_strict_schema(
        wordcount: list[dict[str, Any]]) -> None:
    (app,) = _apps(wordcount)
    app["spec"]["driver"]["tolerationz"] = []
    app["spec"]["executors"] = {"instances": 2}
    errors = crd_errors(app)
    assert any("tolerationz" in e for e in errors) and any("executors" in e for e in errors)


def test_pod_templates_are_valid_kubernetes(wordcount: list[dict[str, Any]]) -> None:
    """The CRD keeps pod templates schemaless; check their parts with hera's k8s models."""
    (app,) = _apps(wordcount)
    for role in ("driver", "executor"):
        spec = app["spec"][role]["template"]["spec"]
        assert set(spec) <= {"nodeSelector", "tolerations", "affinity", "containers",
                             "initContainers", "volumes"}
        for container in spec["containers"] + spec.get("initContainers", []):
            dumped = Container.model_validate({"image": "x", **container}).model_dump(
                by_alias=True, exclude_none=True, mode="json")
            assert {k: v for k, v in dumped.items() if k != "image"} == {
                k: v for k, v in container.items() if k != "image"}
        for tol in spec.get("tolerations", []):
            assert Toleration.model_validate(tol).model_dump(
                by_alias=True, exclude_none=True) == tol
        for vol in spec.get("volumes", []):
            assert Volume.model_validate(vol).model_dump(by_alias=True, exclude_none=True,
                                                         mode="json") == vol


def test_lifecycle_follows_the_operators_lessons(wordcount: list[dict[str, Any]]) -> None:
    tmpls = _templates(wordcount)
    dag = next(t for n, t in tmpls.items() if n.startswith("spark-") and "dag" in t)
    submit, wait, delete = (tmpls[f"{dag['name']}-{s}"] for s in ("submit", "wait", "delete"))
    for tmpl in (submit, wait):
        for cond in ("successCondition", "failureCondition"):
            assert tmpl["resource"][cond].startswith("status.applicationState.state in (")
        assert "FAILED" in tmpl["resource"]["failureCondition"]
        assert "executorState" not in json.dumps(tmpl)
    assert "setOwnerReference" not in json.dumps(tmpls)
    assert int(submit["activeDeadlineSeconds"]) < int(wait["activeDeadlineSeconds"])
    assert delete["resource"]["action"] == "delete"
    tasks = {t["name"]: t for t in dag["dag"]["tasks"]}
    assert tasks["delete"]["depends"] == (
        "submit.Failed || submit.Errored || wait.Failed || wait.Errored")
    assert set(dag["dag"]["target"].split()) == {"wait", "delete"}
    (app,) = _apps(wordcount)
    assert app["spec"]["timeToLiveSeconds"] > 0
    assert app["spec"]["restartPolicy"] == {"type": "Never"}


def test_placement_reaches_driver_and_executor_pod_templates(
        wordcount: list[dict[str, Any]]) -> None:
    (app,) = _apps(wordcount)
    for role in ("driver", "executor"):
        spec = app["spec"][role]["template"]["spec"]
        assert spec["nodeSelector"] == {"node.kubernetes.io/instance-type": "Standard_DS3_v2"}
        assert "nodeSelector" not in app["spec"][role]  # webhook-patched field: not used
        assert app["spec"][role]["coreLimit"] == "4"
    assert app["spec"]["executor"]["instances"] == 2


def test_token_is_only_a_secret_reference(tmp_path: Path) -> None:
    folder = example("spark_wordcount", tmp_path)
    (folder / "kubeline.yaml").write_text(
        "name: spark-wordcount\ncluster:\n  flavour: aks\n", encoding="utf-8")
    token = "dapi-super-secret-0123456789"
    done = kubeline("compile", "pipeline.py", "-o", "out", "--no-publish", cwd=folder,
                    env={"DATABRICKS_ACCESS_TOKEN": token})
    assert token not in done.stdout + done.stderr
    for path in [*(folder / "out").glob("*.yaml"), folder / "kubeline.yaml"]:
        assert token not in path.read_text(encoding="utf-8"), path
    (app,) = _apps(documents(folder, tmp_path / "again"))
    env = app["spec"]["driver"]["template"]["spec"]["containers"][0]["env"]
    ref = next(e for e in env if e["name"] == "DATABRICKS_TOKEN")
    assert ref["valueFrom"]["secretKeyRef"] == {"name": "dbx-token", "key": "token",
                                                "optional": True}


def test_compiled_examples_pass_argo_lint(tmp_path: Path, argo_bin: Path) -> None:
    folders = [example(n, tmp_path) for n in ("spark_wordcount", "gpu_training",
                                              "data_transfer")]
    files = []
    for folder in folders:
        kubeline("compile", "pipeline.py", "-o", "out", "--no-publish", cwd=folder)
        files += [p for p in (folder / "out").glob("*.yaml") if p.name != "kustomization.yaml"]
    result = lint_offline(sorted(files))
    assert result.ok, result.messages


def test_usql_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    folder = example("spark_wordcount", tmp_path)
    (folder / "spark" / "job.usql").write_text("@a = SELECT 1 AS x;\n", encoding="utf-8")
    (folder / "adla.py").write_text(
        "from kubeline import AdlaStep, Pipeline, Workspace\n"
        "ws = Workspace.from_config()\n"
        "step = AdlaStep(script_name='job.usql', source_directory='spark')\n"
        "pipeline = Pipeline(ws, [step])\n", encoding="utf-8")
    done = kubeline("compile", "adla.py", "-o", "out", "--no-publish", cwd=folder, check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "U-SQL" in lines[0] and "Spark SQL" in lines[0]


def test_adla_sql_compiles_to_the_same_spark_path(tmp_path: Path) -> None:
    folder = example("spark_wordcount", tmp_path)
    edit_config(folder, compute_targets={"adla": {"type": "AdlaCompute", "properties": {}}})
    (folder / "spark" / "count.sql").write_text("SELECT 1;\n", encoding="utf-8")
    (folder / "adla.py").write_text(
        "from kubeline import AdlaStep, Pipeline, Workspace\n"
        "ws = Workspace.from_config()\n"
        "step = AdlaStep(script_name='count.sql', source_directory='spark',"
        " compute_target='adla', degree_of_parallelism=3)\n"
        "pipeline = Pipeline(ws, [step])\n", encoding="utf-8")
    kubeline("compile", "adla.py", "-o", "out", "--no-publish", cwd=folder)
    docs = [d for d in yaml.safe_load_all((folder / "out" / "adla.yaml").read_text()) if d]
    (app,) = _apps(docs)
    assert crd_errors(app) == []
    context = json.loads(app["spec"]["arguments"][0])
    assert (context["app"], context["script"]) == ("sql", "count.sql")
    assert app["spec"]["executor"]["instances"] == 3


def test_databricks_step_argument_rules() -> None:
    from kubeline import DatabricksStep, KubelineError, PipelineParameter

    p = PipelineParameter("lr", default_value=0.1)
    step = DatabricksStep(name="x", python_script_name="a.py", source_directory=".",
                          python_script_params=["--fixed", "1", p])
    assert step.arguments[:3] == ["--fixed", "1", "--lr"] and step.arguments[3] is p
    with pytest.raises(KubelineError, match="exactly one of"):
        DatabricksStep(name="x", python_script_name="a.py", notebook_path="n.ipynb",
                       source_directory=".")
    with pytest.raises(KubelineError, match="existing_cluster_id"):
        DatabricksStep(name="x", python_script_name="a.py", source_directory=".",
                       existing_cluster_id="0101-abc")


def test_driver_jvm_logs_into_the_driver_log(wordcount: list[dict[str, Any]]) -> None:
    """Spark's log4j lines reach the published driver.log: the ConfigMap ships a log4j 2
    configuration whose file appender writes the driver log file, the driver JVM is told to
    use it, and the driver pod names the file."""
    from kubeline.compiler.spark import DRIVER_LOG_ENV, driver_java_options

    (app,) = _apps(wordcount)
    options = app["spec"]["sparkConf"]["spark.driver.extraJavaOptions"]
    assert options == "-Dlog4j2.configurationFile=file:/kubeline/spark/log4j2.properties"
    (cm,) = [d for d in wordcount if d["kind"] == "ConfigMap" and "driver.py" in d["data"]]
    props = cm["data"]["log4j2.properties"]
    assert "appender.console.target = SYSTEM_ERR" in props
    assert f"appender.driverlog.fileName = ${{env:{DRIVER_LOG_ENV}:-" in props
    env = app["spec"]["driver"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": DRIVER_LOG_ENV, "value": "/tmp/kubeline-driver.log"} in env
    # a user's own JVM options are kept; their own logging configuration wins
    assert driver_java_options({"spark.driver.extraJavaOptions": "-Xss4m"}) == (
        "-Xss4m -Dlog4j2.configurationFile=file:/kubeline/spark/log4j2.properties")
    mine = "-Dlog4j2.configurationFile=file:/etc/mine.properties"
    assert driver_java_options({"spark.driver.extraJavaOptions": mine}) == mine
