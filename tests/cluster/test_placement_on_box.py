"""Compute targets placed by the real kube-scheduler (issue 12 point 6).

examples/gpu_training on the aks flavour: its CPU step (Standard_D2_v2 shape) runs on the
box's node, labelled as an AKS D2_v2 pool node; its GPU step (Standard_NC6s_v3: 5.4 CPUs,
1 nvidia.com/gpu) cannot fit a 2-core machine, so the GPU pool is a stand-in Node object with
that shape, its labels and taints (no kubelet: the test renews its lease so the node
controller keeps it Ready). The scheduler binds the GPU pod there with its limits; with the
stand-in gone, the pod stays Pending and the scheduler says why. The box's own node also
advertises nvidia.com/gpu (status patch by cluster-up), so a pod asking for 1 GPU with a
small shape runs on it.
"""

from __future__ import annotations

import datetime
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.box import Box, load_docs
from tests.cluster.compare import workflow_name_of
from tests.pipelines import example, kubeline

pytestmark = pytest.mark.cluster

NAMESPACE = "kubeline"
BOX_NODE = "kubeline-node"
STANDIN = "kubeline-gpu-standin"
INSTANCE = "node.kubernetes.io/instance-type"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@pytest.fixture
def gpu_pool(box: Box) -> Iterator[str]:
    """A Ready, schedulable stand-in node of the AKS GPU pool for as long as the test runs."""
    from kubernetes import client

    _forget_standin(box)  # an interrupted earlier run may have left it
    box.core.create_node(client.V1Node(
        metadata=client.V1ObjectMeta(name=STANDIN, labels={
            INSTANCE: "Standard_NC6s_v3", "kubernetes.azure.com/scalesetpriority": "spot",
            "kubernetes.io/os": "linux", "kubernetes.io/hostname": STANDIN}),
        spec=client.V1NodeSpec(taints=[
            client.V1Taint(key="sku", value="gpu", effect="NoSchedule"),
            client.V1Taint(key="kubernetes.azure.com/scalesetpriority", value="spot",
                           effect="NoSchedule")])))
    shape = {"cpu": "6", "memory": "112Gi", "nvidia.com/gpu": "1", "pods": "110"}
    box.core.patch_node_status(STANDIN, {"status": {
        "capacity": shape, "allocatable": shape,
        "conditions": [{"type": "Ready", "status": "True", "reason": "StandIn",
                        "message": "a stand-in for an AKS GPU node (no kubelet)",
                        "lastHeartbeatTime": _now().isoformat(),
                        "lastTransitionTime": _now().isoformat()}]}})
    leases = client.CoordinationV1Api(box.api)
    stop = threading.Event()

    def heartbeat() -> None:
        body = client.V1Lease(metadata=client.V1ObjectMeta(name=STANDIN), spec=client.V1LeaseSpec(
            holder_identity=STANDIN, lease_duration_seconds=40, renew_time=_now()))
        leases.create_namespaced_lease("kube-node-lease", body)
        while not stop.wait(5):
            leases.patch_namespaced_lease(STANDIN, "kube-node-lease",
                                          {"spec": {"renewTime": _now().isoformat()}})

    beat = threading.Thread(target=heartbeat, daemon=True)
    beat.start()
    try:
        _await_schedulable(box, STANDIN)
        yield STANDIN
    finally:
        stop.set()
        beat.join(10)
        _forget_standin(box)


def _forget_standin(box: Box) -> None:
    """Remove the stand-in, its lease and the pods bound to it. Those pods have no kubelet to
    confirm their deletion, so they are deleted at once (grace period 0): left Terminating,
    one would outlive the node, keep its name when the next test re-creates the node, and
    block Argo from creating the next run's pod of that very name."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    bound = box.core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={STANDIN}")
    for pod in bound.items:
        try:
            box.core.delete_namespaced_pod(pod.metadata.name, pod.metadata.namespace,
                                           grace_period_seconds=0)
        except ApiException as exc:
            if exc.status != 404:
                raise
    for delete in (lambda: box.core.delete_node(STANDIN),
                   lambda: client.CoordinationV1Api(box.api).delete_namespaced_lease(
                       STANDIN, "kube-node-lease")):
        try:
            delete()
        except ApiException as exc:
            if exc.status != 404:
                raise


def _await_schedulable(box: Box, node: str) -> None:
    """Watch the node until the scheduler may use it: Ready, and none of the taints the node
    lifecycle controller puts on a node it has not yet seen Ready (``node.kubernetes.io/...``)
    left. A new node carries them for up to a monitor period, longer on a loaded machine; a
    pod created meanwhile would be Unschedulable for a reason the test is not about."""
    from kubernetes import watch

    w = watch.Watch()
    seen = None
    for event in w.stream(box.core.list_node, field_selector=f"metadata.name={node}",
                          timeout_seconds=600):
        seen = event["object"]
        ready = any(c.type == "Ready" and c.status == "True"
                    for c in seen.status.conditions or [])
        lifecycle = [t.key for t in seen.spec.taints or []
                     if t.key.startswith("node.kubernetes.io/")]
        if ready and not lifecycle:
            w.stop()
            return
    raise AssertionError(f"stand-in node {node} never became schedulable: "
                         f"{seen.spec.taints if seen else 'not found'}")


@pytest.fixture
def d2_label(box: Box) -> Iterator[None]:
    box.core.patch_node(BOX_NODE, {"metadata": {"labels": {INSTANCE: "Standard_D2_v2"}}})
    yield
    box.core.patch_node(BOX_NODE, {"metadata": {"labels": {INSTANCE: None}}})


def _compile_gpu_training(box_env: dict[str, str], tmp_path: Path) -> tuple[Path, str]:
    config = Path(box_env["KUBELINE_CONFIG"])
    data = yaml.safe_load(config.read_text())
    data["cluster"]["flavour"] = "aks"
    config.write_text(yaml.safe_dump(data))
    folder = example("gpu_training", tmp_path)
    build = tmp_path / "build"
    kubeline("compile", "pipeline.py", "-o", str(build), cwd=folder, env=box_env)
    return build, workflow_name_of(load_docs(build))


def _train_pod(box: Box, name: str, bound: bool) -> Any:
    """The GPU step's pod of this Workflow (not of an earlier one of its name) once the
    scheduler has bound it (``bound``) or reported it Unschedulable. Waiting for the very
    state asked for (not the first decision) keeps a transient Unschedulable, which the
    scheduler retries, from deciding the test on a loaded machine."""
    from kubernetes import watch

    uid = box.custom.get_namespaced_custom_object("argoproj.io", "v1alpha1", NAMESPACE,
                                                  "workflows", name)["metadata"]["uid"]
    selector = f"workflows.argoproj.io/workflow={name}"
    w = watch.Watch()
    for event in w.stream(box.core.list_namespaced_pod, NAMESPACE, label_selector=selector,
                          timeout_seconds=600):
        pod = event["object"]
        owners = {o.uid for o in pod.metadata.owner_references or []}
        if _step_of(pod) != "train" or uid not in owners:
            continue
        scheduled = [c for c in pod.status.conditions or [] if c.type == "PodScheduled"]
        decided = scheduled and (scheduled[0].status == "True" if bound
                                 else scheduled[0].reason == "Unschedulable")
        if decided:
            w.stop()
            return pod
    raise AssertionError(f"the train pod was never scheduled: {box.describe(name, NAMESPACE)}")


def _step_of(pod: Any) -> str:
    """The pipeline step a pod runs (Argo's node name is <workflow>.<task>)."""
    node = (pod.metadata.annotations or {}).get("workflows.argoproj.io/node-name", "")
    return str(node).rsplit(".", 1)[-1]


def _main_limits(pod: Any) -> dict[str, str]:
    [main] = [c for c in pod.spec.containers if c.name == "main"]
    return dict(main.resources.limits or {})


def test_gpu_step_lands_on_the_gpu_pool(box: Box, box_env: dict[str, str], tmp_path: Path,
                                        gpu_pool: str, d2_label: None) -> None:
    build, name = _compile_gpu_training(box_env, tmp_path)
    box.kubectl("-n", NAMESPACE, "delete", "workflow", name, "--ignore-not-found", "--wait")
    box.kubectl("apply", "-k", str(build))
    try:
        pod = _train_pod(box, name, bound=True)
        assert pod.spec.node_name == gpu_pool, box.describe(name, NAMESPACE)
        assert _main_limits(pod)["nvidia.com/gpu"] == "1"
        prepare = [p for p in box.core.list_namespaced_pod(
            NAMESPACE, label_selector=f"workflows.argoproj.io/workflow={name}").items
            if _step_of(p) == "prepare"]
        assert [p.spec.node_name for p in prepare] == [BOX_NODE]
    finally:
        box.kubectl("-n", NAMESPACE, "delete", "workflow", name, "--ignore-not-found", "--wait")


def test_unmatched_gpu_step_stays_pending_with_the_schedulers_reason(
        box: Box, box_env: dict[str, str], tmp_path: Path, d2_label: None) -> None:
    build, name = _compile_gpu_training(box_env, tmp_path)
    box.kubectl("-n", NAMESPACE, "delete", "workflow", name, "--ignore-not-found", "--wait")
    box.kubectl("apply", "-k", str(build))
    try:
        pod = _train_pod(box, name, bound=False)
        assert pod.status.phase == "Pending" and not pod.spec.node_name
        [cond] = [c for c in pod.status.conditions if c.type == "PodScheduled"]
        print(f"scheduler: {cond.message}")
        assert cond.reason == "Unschedulable"
        assert re.match(r"0/\d+ nodes are available", cond.message), cond.message
        assert "node affinity/selector" in cond.message or "Insufficient" in cond.message
    finally:
        box.kubectl("-n", NAMESPACE, "delete", "workflow", name, "--ignore-not-found", "--wait")


def test_box_node_advertises_a_gpu(box: Box) -> None:
    node = box.core.read_node(BOX_NODE)
    assert node.status.capacity["nvidia.com/gpu"] == "1"
    assert node.status.allocatable["nvidia.com/gpu"] == "1"
