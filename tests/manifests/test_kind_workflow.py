"""The kind workflow (Makefile targets, manifests/) checked statically: kind cannot run here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from tests.argo_schema import schema_errors
from tests.pipelines import REPO, copy_example
from tests.servers import S3Server

from kubeline.workspace.config import ClusterConfig, load_config

MANIFESTS = REPO / "manifests"
KNOWN = {("v1", "Namespace"), ("v1", "ServiceAccount"), ("v1", "ConfigMap"), ("v1", "Service"),
         ("apps/v1", "Deployment"), ("rbac.authorization.k8s.io/v1", "Role"),
         ("rbac.authorization.k8s.io/v1", "RoleBinding"),
         ("kustomize.config.k8s.io/v1beta1", "Kustomization"),
         ("kind.x-k8s.io/v1alpha4", "Cluster")}


def _docs() -> list[tuple[Path, dict]]:
    return [(f, d) for f in sorted(MANIFESTS.rglob("*.yaml")) if f.name != "kubeline.yaml"
            for d in yaml.safe_load_all(f.read_text(encoding="utf-8")) if d]


def test_every_manifest_is_a_known_kind_with_a_name() -> None:
    docs = _docs()
    assert len(docs) >= 10
    for path, doc in docs:
        assert (doc.get("apiVersion"), doc.get("kind")) in KNOWN, path
        if doc["kind"] not in ("Kustomization", "Cluster"):
            assert doc["metadata"]["name"], path


def test_kustomizations_list_existing_files() -> None:
    for path, doc in _docs():
        if doc["kind"] == "Kustomization":
            for resource in doc["resources"]:
                assert (path.parent / resource).exists(), f"{path}: {resource}"


def test_rbac_gives_the_workflow_account_what_argo_needs() -> None:
    roles = {d["metadata"]["name"]: d for _, d in _docs() if d["kind"] == "Role"}
    rules = roles["kubeline-workflow"]["rules"]
    task_results = next(r for r in rules if "workflowtaskresults" in r["resources"])
    assert set(task_results["verbs"]) >= {"create", "patch"}
    accounts = {d["metadata"]["name"] for _, d in _docs() if d["kind"] == "ServiceAccount"}
    assert ClusterConfig().service_account in accounts
    bindings = [d for _, d in _docs() if d["kind"] == "RoleBinding"]
    assert {b["roleRef"]["name"] for b in bindings} == set(roles)


def test_no_literal_credentials() -> None:
    for path in MANIFESTS.rglob("*.yaml"):
        text = path.read_text(encoding="utf-8").lower()
        for word in ("password:", "secretkey: ", "accesskey: "):
            assert word not in text.replace("secretkeysecret", ""), path
    repo = yaml.safe_load(next(d for _, d in _docs() if d["kind"] == "ConfigMap")
                          ["data"]["kubeline-datastores"])
    assert repo["s3"]["accessKeySecret"] == {"name": "kubeline-minio", "key": "accessKey"}


def test_makefile_kind_targets_parse() -> None:
    done = subprocess.run(["make", "-n", "kind-up", "kind-run", "kind-down"], cwd=REPO,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "kind create cluster --config manifests/kind/cluster.yaml" in done.stdout
    assert "kubectl apply -k build/kind/compare_models" in done.stdout


def test_kind_workspace_compiles_to_valid_argo(tmp_path: Path, argo_bin: Path,
                                               s3_server: S3Server) -> None:
    """As `make kind-run` does, with moto's S3 server standing in for the port-forwarded MinIO."""
    config = load_config(MANIFESTS / "kind" / "kubeline.yaml")
    assert config.datastores["workspaceblobstore"].kind == "s3"
    s3_server.create_bucket("kubeline")
    out = tmp_path / "out"
    env = {**os.environ, **s3_server.env(),
           "KUBELINE_CONFIG": str(MANIFESTS / "kind" / "kubeline.yaml"),
           "KUBELINE_S3_ENDPOINT_OVERRIDE": s3_server.endpoint_url}
    example = copy_example("compare_models", tmp_path)
    done = subprocess.run([sys.executable, "-m", "kubeline.cli", "compile", str(example), "-o",
                           str(out)], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    keys = {o["Key"] for o in s3_server.client().list_objects_v2(Bucket="kubeline")["Contents"]}
    assert "20newsgroups/20news.pkl" in keys
    assert any(k.startswith("kubeline/snapshots/") for k in keys), "snapshots published"
    docs = list(yaml.safe_load_all((out / "compare-models.yaml").read_text(encoding="utf-8")))
    workflow = docs[-1]
    assert schema_errors(workflow) == []
    artifact = workflow["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["artifacts"][0]
    assert artifact["s3"]["endpoint"] == "minio.kubeline.svc.cluster.local:9000"
    assert artifact["s3"]["accessKeySecret"] == {"name": "kubeline-minio", "key": "accessKey"}
    valid = subprocess.run([sys.executable, "-m", "kubeline.cli", "validate", str(out)],
                           capture_output=True, text=True, check=False)
    assert valid.returncode == 0, valid.stderr
