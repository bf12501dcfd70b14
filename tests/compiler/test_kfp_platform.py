"""Compute targets and datastore Secrets on --target kfp are what kfp itself writes: the same
settings applied through kfp's DSL (set_cpu_limit, set_accelerator_type...) and the
kfp-kubernetes extension (add_node_selector, add_toleration, use_secret_as_env,
add_pod_annotation...) compile, with kfp's own compiler, to the same container resources
and the same kubernetes platform spec as kubeline's compiler writes for each step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp import compiler, dsl, kubernetes
from tests.pipelines import copy_example

from kubeline.compiler.api import compile_to_files, file_graphs
from kubeline.compiler.argo.templates import datastore_secret_refs
from kubeline.compiler.scheduling import GPU_RESOURCE, Scheduling, profile
from kubeline.stores.config import SecretRef, secret_env_name


def _kfp_writes(sched: Scheduling, refs: list[SecretRef], labels: dict[str, str],
                tmp: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(container resources, kubernetes executor config) of one task as kfp compiles it."""

    @dsl.container_component
    def step():  # type: ignore[no-untyped-def]
        return dsl.ContainerSpec(image="python:3.11", command=["true"])

    def body():  # type: ignore[no-untyped-def]
        task = step()
        setters = {("cpu", "limits"): task.set_cpu_limit, ("cpu", "requests"): task.set_cpu_request,
                   ("memory", "limits"): task.set_memory_limit,
                   ("memory", "requests"): task.set_memory_request}
        for (resource, kind), setter in setters.items():
            value = getattr(sched, kind).get(resource)
            if value:
                setter(value)
        if sched.gpus:
            task.set_accelerator_type(GPU_RESOURCE).set_accelerator_limit(sched.gpus)
        for key, value in sched.node_selector.items():
            kubernetes.add_node_selector(task, key, value)
        for tol in sched.tolerations:
            kubernetes.add_toleration(task, key=tol.get("key"), operator=tol["operator"],
                                      value=tol.get("value"), effect=tol.get("effect"),
                                      toleration_seconds=tol.get("tolerationSeconds"))
        node = sched.affinity.get("nodeAffinity", {})
        required = node.get("requiredDuringSchedulingIgnoredDuringExecution", {})
        for term in required.get("nodeSelectorTerms", []):
            kubernetes.add_node_affinity(task, match_expressions=term.get("matchExpressions"),
                                         match_fields=term.get("matchFields"))
        for pref in node.get("preferredDuringSchedulingIgnoredDuringExecution", []):
            term = pref["preference"]
            kubernetes.add_node_affinity(task, match_expressions=term.get("matchExpressions"),
                                         match_fields=term.get("matchFields"),
                                         weight=pref["weight"])
        for key, value in sched.annotations.items():
            kubernetes.add_pod_annotation(task, key, value)
        for key, value in labels.items():
            kubernetes.add_pod_label(task, key, value)
        by_secret: dict[str, dict[str, str]] = {}
        for ref in refs:
            by_secret.setdefault(ref.name, {})[ref.key] = secret_env_name(ref)
        for name, keys in sorted(by_secret.items()):
            kubernetes.use_secret_as_env(task, secret_name=name,
                                         secret_key_to_env=dict(sorted(keys.items())),
                                         optional=True)

    out = tmp / "kfp.yaml"
    compiler.Compiler().compile(dsl.pipeline(name="probe")(body), str(out))
    docs = list(yaml.safe_load_all(out.read_text(encoding="utf-8")))
    container = docs[0]["deploymentSpec"]["executors"]["exec-step"]["container"]
    platform = (docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-step"]
                if len(docs) > 1 else {})
    return container.get("resources", {}), platform


@pytest.mark.parametrize("name", ["gpu_training", "data_transfer", "compare_models"])
def test_resources_and_platform_spec_match_kfp_kubernetes(name: str, tmp_path: Path) -> None:
    path = copy_example(name, tmp_path)
    files = compile_to_files(path, target="kfp")
    docs = list(yaml.safe_load_all(files[f"{name.replace('_', '-')}.yaml"]))
    ours_platform = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    graph, workspace = next(file_graphs(path))
    config = workspace.config
    refs = datastore_secret_refs(graph, config)
    checked = 0
    for step in graph.steps:
        sched = profile(step.compute_target, config)
        labels = {"app.kubernetes.io/managed-by": "kubeline",
                  "kubeline.io/pipeline": name.replace("_", "-"), "kubeline.io/step": step.id}
        resources, platform = _kfp_writes(sched, refs, labels, tmp_path)
        container = docs[0]["deploymentSpec"]["executors"][f"exec-{step.id}"]["container"]
        assert container.get("resources", {}) == resources, step.id
        assert ours_platform[f"exec-{step.id}"] == platform, step.id
        checked += bool(resources) + bool(platform)
    assert checked >= len(graph.steps)


KUBERNETES_COMPUTE = """name: t
cluster: {flavour: generic}
datastores:
  s3data:
    kind: s3
    bucket: bkt
    prefix: pre
    endpoint: http://127.0.0.1:5000
    region: us-east-1
    access_key_secret: {name: s3-creds, key: accessKey}
    secret_key_secret: {name: s3-creds, key: secretKey}
compute_targets:
  k8s:
    type: KubernetesCompute
    properties:
      default_instance_type: big
      instance_types:
        big:
          nodeSelector: {pool: big}
          resources:
            requests: {cpu: 500m, memory: 1Gi}
            limits: {cpu: "2", memory: 2Gi, nvidia.com/gpu: 2}
          tolerations: [{key: gpu, operator: Exists, effect: NoExecute, tolerationSeconds: 30}]
          affinity:
            nodeAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
                nodeSelectorTerms:
                - matchExpressions: [{key: zone, operator: In, values: [a, b]}]
              preferredDuringSchedulingIgnoredDuringExecution:
              - weight: 5
                preference:
                  matchExpressions: [{key: disk, operator: In, values: [ssd]}]
"""


def test_kubernetes_compute_affinity_and_s3_importer(tmp_path: Path) -> None:
    """Node affinity, toleration seconds, two GPUs and request/limit pairs as kfp-kubernetes
    writes them; a DataReference on S3 becomes an importer feeding the step."""
    from tests.pipelines import workspace

    from kubeline import DataReference, Datastore, Pipeline, PythonScriptStep
    from kubeline.compiler.kfp.pipeline import compile_graph_kfp
    from kubeline.compiler.kfp.validate import validate_kfp_file
    from kubeline.compiler.yaml_emit import dump

    ws = workspace(tmp_path / "ws", KUBERNETES_COMPUTE)
    raw = DataReference(Datastore(ws, "s3data"), "raw", "data/x.csv")
    step = PythonScriptStep("step.py", name="s", arguments=["--in", raw], inputs=[raw],
                            compute_target="k8s", source_directory="scripts")
    pipeline = Pipeline(ws, steps=[step])
    pipeline._base_dir = ws.root
    graph = pipeline.graph()
    compiled = compile_graph_kfp(graph, ws.config)
    spec, platform = compiled.documents
    sched = profile("k8s", ws.config)
    labels = {"app.kubernetes.io/managed-by": "kubeline", "kubeline.io/pipeline": "pipeline",
              "kubeline.io/step": "s"}
    resources, expected = _kfp_writes(sched, datastore_secret_refs(graph, ws.config), labels,
                                      tmp_path)
    assert spec["deploymentSpec"]["executors"]["exec-s"]["container"]["resources"] == resources
    assert platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-s"] == \
        expected
    assert expected["nodeAffinity"][1]["weight"] == 5  # the probe did set what we compare
    importer = "importer-s-raw"
    assert spec["root"]["dag"]["tasks"]["s"]["dependentTasks"] == [importer]
    assert spec["deploymentSpec"]["executors"][f"exec-{importer}"]["importer"][
        "artifactUri"] == {"constant": "s3://bkt/pre/data/x.csv"}
    args = spec["deploymentSpec"]["executors"]["exec-s"]["container"]["args"]
    assert "raw={{$.inputs.artifacts['raw'].path}}" in args
    path = tmp_path / "p.yaml"
    path.write_text("---\n".join(dump(d) for d in compiled.documents), encoding="utf-8")
    assert validate_kfp_file(path, compiled.documents) == []
