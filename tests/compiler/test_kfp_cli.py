"""`kubeline compile --target kfp` and `kubeline validate` on KFP output, as a user runs them,
and the pipelines and arguments KFP cannot take, each refused with one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from tests.pipelines import chain, copy_example, kubeline, workspace

from kubeline import Pipeline, PipelineParameter, PythonScriptStep, Workspace
from kubeline.compiler.kfp.pipeline import HEADER, compile_graph_kfp
from kubeline.exceptions import KubelineError


def _compile_kfp(pipeline: Path, out: Path, *options: str,
                 check: bool = True) -> subprocess.CompletedProcess[str]:
    """``kubeline compile FILE --target kfp -o OUT [options]``, run from the file's parent."""
    return kubeline("compile", str(pipeline), "--target", "kfp", "-o", str(out), *options,
                    cwd=pipeline.parent.parent, check=check)


def _kfp_refusal(ws: Workspace, *steps: PythonScriptStep) -> str:
    """The one line the KFP compiler refuses a pipeline of these steps with."""
    pipeline = Pipeline(ws, steps=list(steps))
    pipeline._base_dir = ws.root
    with pytest.raises(KubelineError) as info:
        compile_graph_kfp(pipeline.graph(), ws.config)
    return str(info.value)


def test_compile_check_validate_and_stale_files(tmp_path: Path) -> None:
    pipeline = copy_example("compare_models", tmp_path)
    out = tmp_path / "build"
    kubeline("compile", str(pipeline), "-o", str(out), cwd=tmp_path)  # Argo first
    assert sorted(p.name for p in out.iterdir()) == ["compare-models.yaml", "kustomization.yaml"]
    done = _compile_kfp(pipeline, out)
    assert "removed" in done.stdout and "kustomization.yaml" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["compare-models.yaml"], \
        "the Argo files a previous compile wrote are gone"
    text = (out / "compare-models.yaml").read_text(encoding="utf-8")
    assert text.startswith(HEADER + "\n")
    spec = next(yaml.safe_load_all(text))
    assert spec["pipelineInfo"]["name"] == "compare-models"
    assert spec["root"]["inputDefinitions"]["parameters"]["pipeline_arg"] == {
        "defaultValue": 10, "isOptional": True, "parameterType": "NUMBER_INTEGER"}

    clean = _compile_kfp(pipeline, out, "--check")
    assert clean.stdout == f"{out}: up to date (1 files)\n"
    script = pipeline.parent / "scripts" / "compare.py"
    script.write_text(script.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    stale = _compile_kfp(pipeline, out, "--check", check=False)
    assert stale.returncode == 1
    assert stale.stdout.startswith("would change compare-models.yaml (+")
    assert (out / "compare-models.yaml").read_text(encoding="utf-8") == text, \
        "--check writes nothing"

    valid = kubeline("validate", str(out), cwd=tmp_path)
    assert valid.stdout == ("kfp: 1 pipelines valid (strict protobuf parse, "
                            "kfp.components.load_component_from_file, sub-pipeline compile)\n")


def test_snapshot_and_step_changes_break_kfp_cache_inputs(tmp_path: Path) -> None:
    """KFP keys its cache on the component and the task's inputs: a changed source folder
    must change both kubeline_snapshot and kubeline_fingerprint, as it changes kubeline's key."""
    pipeline = copy_example("compare_models", tmp_path)
    out = tmp_path / "build"

    def task_constants() -> dict[str, dict[str, str]]:
        _compile_kfp(pipeline, out, "--no-publish")
        spec = next(yaml.safe_load_all((out / "compare-models.yaml").read_text("utf-8")))
        return {name: {k: v["runtimeValue"]["constant"]
                       for k, v in task["inputs"]["parameters"].items() if "runtimeValue" in v}
                for name, task in spec["root"]["dag"]["tasks"].items()}

    before = task_constants()
    (pipeline.parent / "scripts" / "train.py").write_text("print('other')\n", encoding="utf-8")
    after = task_constants()
    for task in ("train-py", "extract-py", "compare-py"):  # they share scripts/
        assert before[task]["kubeline_snapshot"] != after[task]["kubeline_snapshot"]
        assert before[task]["kubeline_fingerprint"] != after[task]["kubeline_fingerprint"]


def test_unknown_target_lists_known_ones(tmp_path: Path) -> None:
    pipeline = copy_example("compare_models", tmp_path)
    done = kubeline("compile", str(pipeline), "--target", "airflow", "-o", str(tmp_path / "o"),
                    cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "'airflow' is not one of 'argo', 'kfp'" in done.stderr
    kind = _compile_kfp(pipeline, tmp_path / "o", "--kind", "workflowtemplate", check=False)
    assert kind.returncode == 2
    assert kind.stderr == ("kubeline: error: --kind applies to --target argo, not kfp (drop "
                           "--kind: a KFP pipeline is one PipelineSpec)\n")
    assert not (tmp_path / "o").exists()


def test_spark_pipeline_refused_with_one_line(tmp_path: Path) -> None:
    pipeline = copy_example("spark_wordcount", tmp_path)
    done = _compile_kfp(pipeline, tmp_path / "o", check=False)
    assert done.returncode == 2
    assert done.stderr == ("kubeline: error: step 'count-words': Spark steps (DatabricksStep/"
                           "AdlaStep) have no KFP counterpart (KFP v2 cannot create and watch a "
                           "SparkApplication) (compile this pipeline with --target argo)\n")
    assert not (tmp_path / "o").exists()


def test_validate_reports_unknown_kfp_field(tmp_path: Path) -> None:
    pipeline = copy_example("data_dependency", tmp_path)
    out = tmp_path / "build"
    _compile_kfp(pipeline, out)
    path = out / "data-dependency.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("schemaVersion: \"2.1.0\"", "schemaVersion: \"2.1.0\"\n"
                                 "sdkVersoin: x"), encoding="utf-8")
    done = kubeline("validate", str(out), cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "data-dependency.yaml: PipelineSpec:" in done.stderr
    assert 'no field named "sdkVersoin"' in done.stderr


@pytest.mark.parametrize(("names", "message"), [
    (["kubeline_x"], "PipelineParameter 'kubeline_x': names starting with 'kubeline_' are "
                     "kubeline's own KFP inputs (rename it)"),
    (["a-b", "a.b"], "PipelineParameters 'a-b' and 'a.b' both become KFP input 'a_b' "
                     "(rename one of them)"),
])
def test_parameter_names_kfp_cannot_take(tmp_path: Path, names: list[str], message: str) -> None:
    params = [PipelineParameter(n, default_value=1) for n in names]
    step = PythonScriptStep("step.py", name="s", arguments=params, source_directory="scripts")
    assert _kfp_refusal(workspace(tmp_path), step) == message


def test_inject_runtime_and_reuse_switch(tmp_path: Path) -> None:
    ws = workspace(tmp_path / "a", "name: t\ncluster:\n  runtime: inject\n")
    with pytest.raises(KubelineError, match=r"^cluster.runtime 'inject' has no KFP counterpart"):
        compile_graph_kfp(chain(ws, 2).graph(), ws.config)
    ws = workspace(tmp_path / "b")
    compiled = compile_graph_kfp(chain(ws, 2, allow_reuse=False).graph(), ws.config)
    tasks = compiled.documents[0]["root"]["dag"]["tasks"]
    assert tasks["s0"]["cachingOptions"] == {} and tasks["s1"]["cachingOptions"] == {}
    compiled = compile_graph_kfp(chain(ws, 2).graph(), ws.config)
    tasks = compiled.documents[0]["root"]["dag"]["tasks"]
    assert tasks["s1"]["cachingOptions"] == {"enableCache": True}
    assert tasks["s1"]["dependentTasks"] == ["s0"]
    assert tasks["s1"]["inputs"]["artifacts"] == {"out0": {"taskOutputArtifact": {
        "outputArtifactKey": "out0", "producerTask": "s0"}}}


@pytest.mark.parametrize(("extra", "message"), [
    ("affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: []}}",
     "step 's': affinity 'podAntiAffinity' has no KFP counterpart (kfp-kubernetes sets "
     "node affinity only; use nodeAffinity or a node selector)"),
    ("resources: {limits: {example.com/fpga: 1}}",
     "step 's': resource 'example.com/fpga' has no KFP counterpart (KFP sets only cpu, "
     "memory and one accelerator per container)"),
])
def test_placement_kfp_cannot_express_names_the_step(tmp_path: Path, extra: str,
                                                     message: str) -> None:
    """Pod anti-affinity and extended resources have no field in KFP or kfp-kubernetes."""
    ws = workspace(tmp_path, (
        "name: t\ncluster: {flavour: generic}\ncompute_targets:\n  k8s:\n"
        "    type: KubernetesCompute\n    properties:\n      instance_types:\n"
        f"        only:\n          {extra}\n"))
    step = PythonScriptStep("step.py", name="s", compute_target="k8s",
                            source_directory="scripts")
    assert _kfp_refusal(ws, step) == message
