"""kubeline inside a pod (a CI job or a notebook on the cluster): no kubeconfig, the pod's
service account token mounted, so it connects with in-cluster config, submits into the
pod's own namespace and follows the run to its end. The service account has exactly the
Role docs/cluster.md gives a submitter (read from the document, so the document is what is
tested).

The runtime image is the step image and carries kubeline without the kubernetes client
(kubeline[cluster], 31 MiB more in every step pod); a user runs kubeline in a pod from an
image that adds it. The test does not build and push that image: the box's node is this
machine, so the runtime image gets this checkout's kubeline and the kubernetes client's
packages through read-only hostPath volumes (docs/decisions/0038-kubeline-in-a-pod.md).
"""

from __future__ import annotations

import re
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.box import REPO, Box
from tests.cluster.submitting import apply, history, point_at, small_pipeline, workflows
from tests.pipelines import kubeline

pytestmark = pytest.mark.cluster

SUBMITTER = "kubeline-submitter"


def submitter_role(namespace: str) -> dict[str, Any]:
    """The Role of docs/cluster.md's "The RBAC a submitter needs", in ``namespace``."""
    text = (REPO / "docs" / "cluster.md").read_text()
    section = text[text.index("### The RBAC a submitter needs"):]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None, "docs/cluster.md: no yaml block under the RBAC heading"
    role: dict[str, Any] = yaml.safe_load(block.group(1))
    assert role["kind"] == "Role"
    role["metadata"]["namespace"] = namespace
    return role


def _closure(name: str, extras: tuple[str, ...] = ()) -> set[str]:
    """The installed distributions ``name[extras]`` needs, itself included."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    todo = [(name, extras)]
    while todo:
        dist, wanted = todo.pop()
        key = canonicalize_name(dist)
        if key in seen:
            continue
        seen.add(key)
        for line in metadata.distribution(dist).requires or []:
            req = Requirement(line)
            if req.marker is None or any(req.marker.evaluate({"extra": e})
                                         for e in (*wanted, "")):
                todo.append((req.name, tuple(req.extras)))
    return seen


def client_packages(dest: Path) -> Path:
    """The kubernetes client and what it needs beyond the runtime image's kubeline[s3,azure],
    copied from this interpreter's environment (the image's Python is 3.11 too)."""
    missing = _closure("kubernetes") - _closure("kubeline", ("s3", "azure"))
    for name in sorted(missing):
        for file in metadata.distribution(name).files or []:
            if file.parts[0] == ".." or "__pycache__" in file.parts:
                continue  # scripts in bin/, compiled caches
            target = dest / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(str(file.locate())), target)
    return dest


def _pod(namespace: str, workspace: Path, deps: Path) -> dict[str, Any]:
    from kubeline.workspace.config import RUNTIME_IMAGE

    def secret(key: str) -> dict[str, Any]:
        return {"secretKeyRef": {"name": "kubeline-s3", "key": key}}

    def host(name: str, path: Path) -> dict[str, Any]:
        return {"name": name, "hostPath": {"path": str(path), "type": "Directory"}}

    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "kubeline-in-a-pod", "namespace": namespace},
        "spec": {
            "serviceAccountName": SUBMITTER, "restartPolicy": "Never",
            # root: it writes the run's history into the test's folder on this machine
            "securityContext": {"runAsUser": 0, "runAsGroup": 0},
            "containers": [{
                "name": "kubeline", "image": RUNTIME_IMAGE,
                # the how-to's submission code: Experiment.submit, then
                # wait_for_completion while a follower process records the run
                "command": ["python3", "pipeline.py"],
                "workingDir": "/workspace",
                "env": [{"name": "PYTHONPATH", "value": "/kubeline/src:/kubeline/deps"},
                        {"name": "KUBELINE_CONFIG", "value": "/workspace/kubeline.yaml"},
                        {"name": "KUBELINE_S3_ACCESSKEY", "valueFrom": secret("accessKey")},
                        {"name": "KUBELINE_S3_SECRETKEY", "valueFrom": secret("secretKey")}],
                "volumeMounts": [
                    {"name": "workspace", "mountPath": "/workspace"},
                    {"name": "src", "mountPath": "/kubeline/src", "readOnly": True},
                    {"name": "deps", "mountPath": "/kubeline/deps", "readOnly": True}]}],
            "volumes": [host("workspace", workspace), host("src", REPO / "src"),
                        host("deps", deps)]}}


def wait_pod_done(box: Box, name: str, namespace: str, timeout: int = 600) -> Any:
    """The pod once its phase is Succeeded or Failed, followed with a watch."""
    from kubernetes import watch

    selector = f"metadata.name={name}"
    w = watch.Watch()
    for event in w.stream(box.core.list_namespaced_pod, namespace, field_selector=selector,
                          timeout_seconds=timeout):
        if event["object"].status.phase in ("Succeeded", "Failed"):
            w.stop()
            return event["object"]
    raise AssertionError(f"pod {namespace}/{name} not done after {timeout}s")


def test_kubeline_in_a_pod_submits_with_in_cluster_config(
        box: Box, cluster_env: dict[str, str], tmp_path: Path, namespace: str) -> None:
    config = Path(cluster_env["KUBELINE_CONFIG"])
    workspace = config.parent
    small_pipeline(workspace, "print('hello from the cluster', flush=True)\n")
    # what a pod's kubeline.yaml says: submit, nothing about where (no kubeconfig, no
    # namespace: the pod's own)
    point_at(config, kubeconfig=None, namespace=None, submit=True)
    apply(box, {"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": SUBMITTER, "namespace": namespace}},
          submitter_role(namespace),
          {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
           "metadata": {"name": SUBMITTER, "namespace": namespace},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                       "name": "kubeline-submitter"},
           "subjects": [{"kind": "ServiceAccount", "name": SUBMITTER,
                         "namespace": namespace}]})
    deps = client_packages(tmp_path / "deps")
    apply(box, _pod(namespace, workspace, deps))
    pod = wait_pod_done(box, "kubeline-in-a-pod", namespace)
    log = box.core.read_namespaced_pod_log("kubeline-in-a-pod", namespace)
    assert pod.status.phase == "Succeeded", log[-3000:]
    [wf] = workflows(box, namespace)
    assert wf["status"]["phase"] == "Succeeded"
    assert "[count] hello from the cluster" in log  # streamed from the step's pod
    assert "PipelineRun Status: Finished" in log

    # the history the pod wrote: the run, connected in-cluster, with the step's output
    env = {**cluster_env, "KUBELINE_CONFIG": str(config)}
    [run] = history(workspace, env, "list")
    shown = history(workspace, env, "show", run["id"])
    assert shown["id"] == wf["metadata"]["uid"] and shown["status"] == "Finished"
    assert shown["properties"]["backend"] == "cluster"
    assert shown["properties"]["cluster"]["kubeconfig"] is None  # in-cluster config
    assert shown["properties"]["cluster"]["namespace"] == namespace
    assert [s["status"] for s in shown["steps"]] == ["Finished"]
    logs = kubeline("runs", "logs", run["id"], "count", cwd=workspace, env=env).stdout
    assert "hello from the cluster" in logs
