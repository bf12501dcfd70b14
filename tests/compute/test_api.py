"""The compute API with the SDK's names, the size table, and `kubeline compute show`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kubeline import (
    AdlaCompute,
    AmlCompute,
    ComputeTarget,
    ComputeTargetException,
    DatabricksCompute,
    KubernetesCompute,
    Workspace,
)
from kubeline.cli import main
from kubeline.compiler.scheduling import profile
from kubeline.compiler.vm_sizes import VM_SIZES, lookup


def _ws(root: Path, flavour: str = "aks") -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    (root / "kubeline.yaml").write_text(f"name: t\ncluster:\n  flavour: {flavour}\n")
    return Workspace(_root=root)


def test_the_how_to_code_works_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    ws = _ws(tmp_path)
    with pytest.raises(ComputeTargetException, match="'cpu-cluster' not found"):
        ComputeTarget(workspace=ws, name="cpu-cluster")
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6", max_nodes=4)
    target = ComputeTarget.create(ws, "cpu-cluster", config)
    target.wait_for_completion(show_output=True, min_node_count=None, timeout_in_minutes=20)
    assert "kubeline compute show cpu-cluster" in capsys.readouterr().out
    assert type(ComputeTarget(workspace=ws, name="cpu-cluster")) is AmlCompute
    assert type(ws.compute_targets["cpu-cluster"]) is AmlCompute
    status = target.get_status().serialize()
    assert (status["provisioningState"], status["vm_size"], status["max_nodes"]) == (
        "Succeeded", "STANDARD_NC6", 4)
    assert target.status.provisioning_state == "Succeeded"
    saved = yaml.safe_load((tmp_path / "kubeline.yaml").read_text())
    assert saved["compute_targets"]["cpu-cluster"]["properties"]["vm_size"] == "STANDARD_NC6"
    with pytest.raises(ComputeTargetException, match="is a AmlCompute, not a AdlaCompute"):
        AdlaCompute(ws, "cpu-cluster")


def test_unknown_vm_size_lists_close_matches() -> None:
    with pytest.raises(ComputeTargetException) as info:
        AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6S_V4")
    message = str(info.value)
    assert "unknown vm_size 'STANDARD_NC6S_V4'" in message
    assert "did you mean Standard_NC6s_v3" in message and "\n" not in message
    with pytest.raises(ComputeTargetException, match="vm_priority 'spot'"):
        AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", vm_priority="spot")
    with pytest.raises(ComputeTargetException, match="not a valid scale"):
        AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", min_nodes=3,
                                              max_nodes=2)
    assert AmlCompute.provisioning_configuration().properties["vm_size"] == "STANDARD_NC6"


@pytest.mark.parametrize("family", ["D", "Dv2", "Dv3", "E", "F", "NC", "NCv3", "NCasT4_v3",
                                    "ND", "NDv2", "NV"])
def test_the_table_covers_the_required_families(family: str) -> None:
    assert any(s.family == family or s.family.startswith(family + "v")
               or s.family.startswith(family + "s") for s in VM_SIZES.values())


def test_gpu_figures_from_the_size_pages() -> None:
    expected = {"standard_nc6": (6, 56, 1, "K80"), "standard_nc24s_v3": (24, 448, 4, "V100"),
                "standard_nc4as_t4_v3": (4, 28, 1, "T4"),
                "standard_nc64as_t4_v3": (64, 440, 4, "T4"),
                "standard_nd40rs_v2": (40, 672, 8, "V100-32GB"),
                "standard_nd24s": (24, 448, 4, "P40"), "standard_nv12": (12, 112, 2, "M60"),
                "standard_d2_v2": (2, 7, 0, ""), "standard_e8_v3": (8, 64, 0, ""),
                "standard_f16s_v2": (16, 32, 0, "")}
    for name, (cpu, mem, gpus, model) in expected.items():
        size = lookup(name)
        assert (size.vcpus, size.memory_gib, size.gpus, size.gpu_model) == (cpu, mem, gpus,
                                                                             model), name


def test_kubernetes_compute_instance_types(tmp_path: Path) -> None:
    ws = _ws(tmp_path, "generic")
    types = {"gpu-small": {"nodeSelector": {"gpu": "t4"},
                           "resources": {"requests": {"cpu": "2", "memory": "8Gi"},
                                         "limits": {"nvidia.com/gpu": 1}},
                           "tolerations": [{"key": "gpu", "operator": "Exists"}]}}
    target = ComputeTarget.attach(ws, "k8s", KubernetesCompute.attach_configuration(
        namespace="ml", instance_types=types, default_instance_type="gpu-small"))
    assert type(target) is KubernetesCompute
    sched = profile("k8s", ws.config)
    assert sched.node_selector == {"gpu": "t4"} and sched.gpus == 1
    assert sched.resources == {"limits": {"nvidia.com/gpu": "1"},
                               "requests": {"cpu": "2", "memory": "8Gi"}}
    assert sched.annotations["kubeline.io/instance-type"] == "gpu-small"
    with pytest.raises(ComputeTargetException, match="unknown fields"):
        KubernetesCompute.attach_configuration(instance_types={"x": {"nodeSelectr": {}}})
    with pytest.raises(ComputeTargetException, match="default_instance_type 'big'"):
        KubernetesCompute.attach_configuration(instance_types=types,
                                               default_instance_type="big")


def test_databricks_token_is_never_stored(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    token = "dapi0123456789abcdef"
    target = ComputeTarget.attach(ws, "dbx", DatabricksCompute.attach_configuration(
        resource_group="rg", workspace_name="My_Workspace", access_token=token))
    assert token not in (tmp_path / "kubeline.yaml").read_text()
    assert target.properties["access_token_secret"] == {"name": "my-workspace-token",
                                                        "key": "token"}
    with pytest.raises(ComputeTargetException, match="access_token is empty"):
        DatabricksCompute.attach_configuration(workspace_name="w", access_token="")


def test_compute_show_prints_what_the_cluster_needs(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _ws(tmp_path)
    ComputeTarget.create(ws, "gpu", AmlCompute.provisioning_configuration(
        vm_size="Standard_NC24s_v3", vm_priority="lowpriority", min_nodes=1, max_nodes=3))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    done = runner.invoke(main, ["compute", "show", "gpu"])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert "node size: Standard_NC24s_v3 (NCv3 series): 24 vCPUs, 448 GiB, 4 x V100 GPU" in lines
    assert ("node pool: min 1 / max 3 nodes, priority lowpriority (the cluster autoscaler's "
            "bounds)") in lines
    assert "pod limits: cpu=24, memory=412876Mi, nvidia.com/gpu=4" in lines
    assert ("nodes must carry labels: kubernetes.azure.com/scalesetpriority=spot, "
            "node.kubernetes.io/instance-type=Standard_NC24s_v3") in lines
    assert "pods tolerate taint: sku=gpu:NoSchedule" in lines
    data = json.loads(runner.invoke(main, ["compute", "show", "gpu", "--json"]).output)
    assert data["scale"] == {"min_nodes": 1, "max_nodes": 3, "vm_priority": "lowpriority"}
    missing = runner.invoke(main, ["compute", "show", "nope"])
    assert missing.exit_code == 2
    assert missing.output.strip() == ("kubeline: error: compute target 'nope' not found "
                                      "(known targets: gpu)")
    assert runner.invoke(main, ["compute", "list"]).output == "gpu\tAmlCompute\n"


def test_spark_targets_and_container_steps_do_not_mix(tmp_path: Path) -> None:
    from kubeline import Pipeline, PythonScriptStep

    ws = _ws(tmp_path)
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "a.py").write_text("print(1)\n")
    ComputeTarget.attach(ws, "adla", AdlaCompute.attach_configuration(account_name="a"))
    step = PythonScriptStep("a.py", source_directory="s", compute_target="adla")
    pipeline = Pipeline(ws, [step])
    pipeline._base_dir = tmp_path
    problems = pipeline.validate()
    assert any("only DatabricksStep and AdlaStep can use" in p for p in problems), problems


@pytest.mark.parametrize("props,message", [
    ({"vm_size": "STANDARD_D2_V2", "vm_priorty": "dedicated"},
     "compute target 'cpu': unknown property 'vm_priorty' (did you mean 'vm_priority'?)"),
    ({"vm_size": "STANDARD_D2_V2", "max_nodes": "four"},
     "compute target 'cpu': max_nodes is 'four' (use a whole number of nodes, 0 or more)"),
    ({"vm_size": "STANDARD_D2_V2", "vm_priority": "spot"},
     "compute target 'cpu': vm_priority 'spot' is not valid (use 'dedicated' or 'lowpriority')"),
])
def test_hand_written_properties_are_checked(props: dict, message: str) -> None:
    """By the compiler and by `kubeline compute show` alike."""
    from kubeline.compiler.scheduling import cluster_needs, profile
    from kubeline.workspace.config import ComputeTargetConfig, WorkspaceConfig

    config = WorkspaceConfig(compute_targets={"cpu": ComputeTargetConfig(
        type="AmlCompute", properties=props)}).with_defaults()
    for check in (profile, cluster_needs):
        with pytest.raises(ComputeTargetException) as info:
            check("cpu", config)
        assert str(info.value) == message, check


def test_a_misspelt_vm_size_is_named_not_reported_empty() -> None:
    from kubeline.compiler.scheduling import cluster_needs
    from kubeline.workspace.config import ComputeTargetConfig, WorkspaceConfig

    config = WorkspaceConfig(compute_targets={"cpu": ComputeTargetConfig(
        type="AmlCompute", properties={"vmsize": "STANDARD_D2_V2"})}).with_defaults()
    with pytest.raises(ComputeTargetException) as info:
        cluster_needs("cpu", config)
    assert str(info.value) == ("compute target 'cpu': unknown property 'vmsize' "
                               "(did you mean 'vm_size'?)")
