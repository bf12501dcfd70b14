"""The AML-style API: names, defaults and behaviour users rely on."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.pipelines import workspace

import kubeline
from kubeline import (
    AmlCompute,
    CommandStep,
    ComputeTarget,
    ComputeTargetException,
    DataPath,
    DataPathComputeBinding,
    DataReference,
    Datastore,
    Pipeline,
    PipelineData,
    PipelineParameter,
    PythonScriptStep,
    RunConfiguration,
    Workspace,
)
from kubeline.exceptions import KubelineError
from kubeline.graph.model import DataPathValue, DataRef, Lit, ParamRef


def test_workspace_without_config_is_local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ws = Workspace.create("w", subscription_id="sub", resource_group="rg", location="westeurope",
                          exist_ok=True)
    assert (ws.name, ws.subscription_id, ws.resource_group, ws.location) == (
        "w", "sub", "rg", "westeurope")
    assert ws.get_default_datastore().name == "workspaceblobstore"
    assert ws.state_dir == tmp_path / ".kubeline"
    assert not (tmp_path / "kubeline.yaml").exists(), "nothing is written until asked"
    ws.write_config()
    again = Workspace.from_config()
    assert again.subscription_id == "sub" and again.root == tmp_path
    with pytest.raises(KubelineError, match="already exists"):
        Workspace.create("w")


def test_from_config_without_a_file_is_a_local_workspace(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    ws = Workspace.from_config()
    assert ws.root == tmp_path and ws.state_dir == tmp_path / ".kubeline"
    assert ws.get_default_datastore().name == "workspaceblobstore"
    assert "using a local workspace" in caplog.text and str(tmp_path) in caplog.text
    assert not (tmp_path / "kubeline.yaml").exists(), "nothing is written until asked"


def test_from_config_of_a_folder_without_a_file_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(KubelineError) as info:
        Workspace.from_config(str(tmp_path / "elsewhere"))
    assert "\n" not in str(info.value) and "kubeline.yaml" in str(info.value)
    assert "kubeline init" not in str(info.value)


def test_a_misspelt_config_field_gets_the_close_name(tmp_path: Path) -> None:
    (tmp_path / "kubeline.yaml").write_text("name: w\ncluster:\n  argo_memoze: true\n",
                                            encoding="utf-8")
    with pytest.raises(KubelineError) as info:
        Workspace(_root=tmp_path)
    assert str(info.value).endswith(
        "field 'cluster.argo_memoze': Extra inputs are not permitted (did you mean "
        "'argo_memoize'? see docs/workspace.md)")


def test_bad_config_names_the_field(tmp_path: Path) -> None:
    (tmp_path / "kubeline.yaml").write_text("datastores:\n  x:\n    kind: s3\n", encoding="utf-8")
    with pytest.raises(KubelineError, match=r"field 'datastores.x.s3.bucket'"):
        Workspace(_root=tmp_path)


def test_local_datastore_round_trip(tmp_path: Path) -> None:
    ws = workspace(tmp_path / "ws")
    store = Datastore.register_local(ws, "mydata", "data-folder")
    assert Datastore.get(ws, "mydata").datastore_type == "LocalFileSystem"
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("A", encoding="utf-8")
    (src / "sub" / "b.txt").write_text("B", encoding="utf-8")
    store.upload(str(src), target_path="in", show_progress=False)
    store.upload_files([str(src / "a.txt")], target_path="one", show_progress=False)
    assert (ws.root / "data-folder" / "in" / "sub" / "b.txt").read_text(encoding="utf-8") == "B"
    out = tmp_path / "out"
    assert store.download(str(out), prefix="in", show_progress=False) == 2
    assert (out / "in" / "a.txt").read_text(encoding="utf-8") == "A"
    assert sorted(ws.datastores) == ["mydata", "workspaceblobstore"]
    # the registration persisted in kubeline.yaml
    assert "mydata" in Workspace(_root=ws.root).datastores


def test_azure_key_in_code_is_never_saved(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    with pytest.warns(UserWarning, match="used by this process only"):
        Datastore.register_azure_blob_container(ws, "blobs", "container", "account",
                                                account_key="c2VjcmV0LWtleQ==")
    saved = (tmp_path / "kubeline.yaml").read_text(encoding="utf-8")
    assert "c2VjcmV0LWtleQ==" not in saved
    assert "blobs-credentials" in saved


def test_unknown_datastore_lists_known(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    with pytest.raises(KubelineError, match="known datastores: workspaceblobstore"):
        Datastore(ws, "nope")


def test_compute_targets(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    with pytest.raises(ComputeTargetException):
        ComputeTarget(workspace=ws, name="gpu")
    config = AmlCompute.provisioning_configuration(vm_size="Standard_NC6", max_nodes=4)
    target = ComputeTarget.create(ws, "gpu", config)
    assert type(ws.compute_targets["gpu"]) is AmlCompute
    assert target.status.serialize()["vm_size"] == "STANDARD_NC6"
    from kubeline.exceptions import ComputeTargetException as Same

    assert Same is ComputeTargetException


def test_arguments_mix_like_the_notebooks(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    store = ws.get_default_datastore()
    raw = DataReference(store, "raw", "in/x.csv").as_download(path_on_compute="/data/raw")
    out = PipelineData("out", is_directory=True)
    lr = PipelineParameter("lr", 0.5)
    path_param = PipelineParameter("src", DataPath(store, "in"))
    binding = (path_param, DataPathComputeBinding(mode="download"))
    step = PythonScriptStep("step.py", name="train", source_directory="scripts",
                            arguments=["--raw", raw, "--lr", lr, "--src", binding, "--out", out,
                                       "--n", 3],
                            inputs=[raw, binding], outputs=[out], params={"seed": 7, "lr": lr})
    pipeline = Pipeline(ws, steps=[step])
    pipeline._base_dir = ws.root
    graph = pipeline.graph()
    s = graph.steps[0]
    assert s.arguments == (Lit("--raw"), DataRef("raw"), Lit("--lr"), ParamRef("lr"),
                           Lit("--src"), DataRef("src"), Lit("--out"), DataRef("out"),
                           Lit("--n"), Lit("3"))
    assert dict(s.params) == {"seed": Lit("7"), "lr": ParamRef("lr")}
    modes = {i.name: (i.source, i.mode, i.path_on_compute) for i in s.inputs}
    assert modes == {"raw": ("datastore", "download", "/data/raw"),
                     "src": ("datapath_param", "download", "")}
    assert {p.name: p.default for p in graph.parameters} == {
        "lr": 0.5, "src": DataPathValue("workspaceblobstore", "in")}


def test_closure_and_nested_lists(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    a_out, b_out = PipelineData("a_out"), PipelineData("b_out")
    a = PythonScriptStep("step.py", name="a", outputs=[a_out], source_directory="scripts")
    b = PythonScriptStep("step.py", name="b", inputs=[a_out], outputs=[b_out],
                         source_directory="scripts")
    c = PythonScriptStep("step.py", name="c", inputs=[b_out.as_download()],
                         source_directory="scripts")
    for steps in ([c], [[c]], [[a, [b]], c]):
        pipeline = Pipeline(ws, steps=steps)
        pipeline._base_dir = ws.root
        graph = pipeline.graph()
        assert [s.id for s in graph.steps] == ["a", "b", "c"]
        assert graph.step("c").depends_on == ("b",)
        assert graph.step("c").inputs[0].mode == "download"
    pipeline = Pipeline(ws, steps=[c], resolve_closure=False)
    pipeline._base_dir = ws.root
    assert "consumes PipelineData 'b_out'" in pipeline.validate()[0]


def test_run_after_orders_without_data(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    a = PythonScriptStep("step.py", name="a", source_directory="scripts")
    b = PythonScriptStep("step.py", name="b", source_directory="scripts")
    b.run_after(a)
    pipeline = Pipeline(ws, steps=[b])
    pipeline._base_dir = ws.root
    assert pipeline.graph().step("b").depends_on == ("a",)


def test_command_step_and_image(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    rc = RunConfiguration()
    rc.environment.docker.base_image = "registry.example/ml@sha256:" + "a" * 64
    step = CommandStep("python step.py --flag 'two words'", name="cmd", runconfig=rc,
                       source_directory="scripts")
    pipeline = Pipeline(ws, steps=[step])
    pipeline._base_dir = ws.root
    s = pipeline.graph().steps[0]
    assert s.kind == "command" and s.image.endswith("a" * 64)
    assert s.arguments == (Lit("python"), Lit("step.py"), Lit("--flag"), Lit("two words"))


def test_misspelt_argument_is_refused(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    with pytest.raises(TypeError) as info:
        PythonScriptStep("step.py", sourcedirectory="scripts")  # type: ignore[call-arg]
    assert str(info.value).startswith("PythonScriptStep: unknown argument 'sourcedirectory' "
                                      "(accepted: allow_reuse, arguments, compute_target,")
    with pytest.raises(KubelineError, match="unknown argument"):
        Pipeline(ws, steps=[], resolve_closures=True)


def test_top_level_names_import_lazily() -> None:
    for name in kubeline.__all__:
        assert getattr(kubeline, name) is not None


@pytest.mark.parametrize("name", ["AutoMLStep", "KustoStep", "AzureBatchStep"])
def test_azure_only_steps_are_refused_clearly(name: str) -> None:
    cls = getattr(kubeline, name)
    with pytest.raises(KubelineError) as info:
        cls(name="x", script_name="a.py")
    message = str(info.value)
    assert message.startswith(f"{name} is not supported by kubeline (") and "\n" not in message


def test_broken_yaml_names_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "kubeline.yaml").write_text("name: x\ndatastores: {a: [\n", encoding="utf-8")
    with pytest.raises(KubelineError) as info:
        Workspace(_root=tmp_path)
    assert str(info.value).endswith("kubeline.yaml: not valid YAML at line 3, column 1: "
                                    "expected the node content, but found '<stream end>'")
