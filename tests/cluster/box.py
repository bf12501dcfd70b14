"""The in-box cluster as the cluster tests see it: its API (the kubernetes client), kubectl,
its S3 store, and Workflows applied and awaited with a watch.

Everything is reached the way a user reaches it: .kubeline/cluster/kubeconfig (the API server
on 127.0.0.1) and the S3 store on 127.0.0.1 with the credentials read from Secret kubeline-s3.
"""

from __future__ import annotations

import base64
import os
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("KUBELINE_CLUSTER_DIR", REPO / ".kubeline" / "cluster"))
KUBECONFIG = STATE / "kubeconfig"
BOX_CONFIG = STATE / "kubeline.yaml"
S3_PORT = int(os.environ.get("KUBELINE_CLUSTER_S3_PORT", "19000"))
GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "workflows"
DONE = ("Succeeded", "Failed", "Error")


class BoxDown(Exception):
    """The box does not answer."""


@dataclass
class Box:
    """Clients for one running box."""

    kubeconfig: Path = KUBECONFIG

    @cached_property
    def api(self) -> Any:
        from kubernetes import client, config

        return client.ApiClient(config.new_client_from_config(str(self.kubeconfig)).configuration)

    @cached_property
    def core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self.api)

    @cached_property
    def custom(self) -> Any:
        from kubernetes import client

        return client.CustomObjectsApi(self.api)

    def check(self) -> None:
        """Raise BoxDown with the reason unless the API answers and the node is Ready."""
        if not self.kubeconfig.is_file():
            raise BoxDown(f"no {self.kubeconfig}")
        try:
            nodes = self.core.list_node(_request_timeout=5).items
        except Exception as exc:  # any transport error means the same thing here
            raise BoxDown(f"the API server on {self.server} does not answer ({type(exc).__name__})"
                          ) from None
        ready = [n for n in nodes for c in n.status.conditions or []
                 if c.type == "Ready" and c.status == "True"]
        if not ready:
            raise BoxDown("no node is Ready")

    @property
    def server(self) -> str:
        doc = yaml.safe_load(self.kubeconfig.read_text())
        return str(doc["clusters"][0]["cluster"]["server"])

    @property
    def kubectl_path(self) -> Path:
        return STATE / "bin" / "kubectl"

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(self.kubectl_path), "--kubeconfig", str(self.kubeconfig),
                               *args], capture_output=True, text=True, timeout=300, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {done.returncode}: "
                                 f"{done.stderr.strip()}")
        return done

    def secret(self, namespace: str, name: str, key: str) -> str:
        data = self.core.read_namespaced_secret(name, namespace).data
        return base64.b64decode(data[key]).decode()

    def s3_env(self) -> dict[str, str]:
        """What a host process needs to use the box's datastores (scripts/cluster/env.sh)."""
        return {
            "KUBELINE_CONFIG": str(BOX_CONFIG),
            "KUBELINE_S3_ENDPOINT_OVERRIDE": f"http://127.0.0.1:{S3_PORT}",
            "KUBELINE_S3_ACCESSKEY": self.secret("kubeline", "kubeline-s3", "accessKey"),
            "KUBELINE_S3_SECRETKEY": self.secret("kubeline", "kubeline-s3", "secretKey"),
        }

    @cached_property
    def s3(self) -> Any:
        import boto3
        from botocore.config import Config

        env = self.s3_env()
        return boto3.session.Session(
            aws_access_key_id=env["KUBELINE_S3_ACCESSKEY"],
            aws_secret_access_key=env["KUBELINE_S3_SECRETKEY"], region_name="us-east-1",
        ).client("s3", endpoint_url=env["KUBELINE_S3_ENDPOINT_OVERRIDE"],
                 config=Config(s3={"addressing_style": "path"}))

    def read_object(self, bucket: str, key: str) -> bytes:
        body: bytes = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    def read_tree(self, bucket: str, key: str) -> bytes | dict[str, bytes]:
        """An artifact's object, or -- a folder stored unarchived (key-only artifacts with
        archive none), which is a prefix, not an object -- its files by relative path."""
        prefix = key.rstrip("/") + "/"
        listed = self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents") or []
        if not listed:
            return self.read_object(bucket, key)
        return {str(o["Key"])[len(prefix):]: self.read_object(bucket, str(o["Key"]))
                for o in listed if str(o["Key"]) != prefix}

    # --- workflows -------------------------------------------------------------------------

    def create_workflow(self, doc: dict[str, Any], namespace: str) -> str:
        """Create a Workflow (generateName allowed); returns its name."""
        made = self.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, doc)
        return str(made["metadata"]["name"])

    def delete_workflow(self, name: str, namespace: str) -> None:
        from kubernetes.client.rest import ApiException

        try:
            self.custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        except ApiException as exc:
            if exc.status != 404:
                raise

    def wait_workflow(self, name: str, namespace: str, timeout: int = 600) -> dict[str, Any]:
        """The Workflow once its phase is final, followed with a watch (no polling)."""
        from kubernetes import watch

        selector = f"metadata.name={name}"
        listed = self.custom.list_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, field_selector=selector)
        for item in listed["items"]:
            if item.get("status", {}).get("phase") in DONE and _settled(item):
                return dict(item)
        version = listed["metadata"]["resourceVersion"]
        w = watch.Watch()
        for event in w.stream(self.custom.list_namespaced_custom_object, GROUP, VERSION,
                              namespace, PLURAL, field_selector=selector,
                              resource_version=version, timeout_seconds=timeout):
            obj = event["object"]
            if obj.get("status", {}).get("phase") in DONE and _settled(obj):
                w.stop()
                return dict(obj)
        raise AssertionError(f"workflow {namespace}/{name} not finished after {timeout}s: "
                             f"{self.describe(name, namespace)}")

    def describe(self, name: str, namespace: str) -> str:
        """The workflow's phase and message and its pods' states, for failure messages."""
        wf = self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        status = wf.get("status", {})
        pods = self.core.list_namespaced_pod(
            namespace, label_selector=f"workflows.argoproj.io/workflow={name}").items
        states = [f"{p.metadata.name}={p.status.phase}" for p in pods]
        return f"phase={status.get('phase')} message={status.get('message')!r} pods={states}"

    def pods_of(self, wf: dict[str, Any]) -> list[Any]:
        """The pods this very Workflow object owns (not those of an earlier one of its name)."""
        meta = wf["metadata"]
        pods = self.core.list_namespaced_pod(
            meta["namespace"], label_selector=f"workflows.argoproj.io/workflow={meta['name']}")
        return [p for p in pods.items
                if any(o.uid == meta["uid"] for o in p.metadata.owner_references or [])]

    def run(self, doc: dict[str, Any], namespace: str, timeout: int = 600) -> dict[str, Any]:
        return self.wait_workflow(self.create_workflow(doc, namespace), namespace, timeout)


def _settled(wf: dict[str, Any]) -> bool:
    """Argo marks a finished workflow completed once its task results are reconciled."""
    labels = wf.get("metadata", {}).get("labels", {})
    return bool(labels.get("workflows.argoproj.io/completed") == "true")


def load_docs(folder: Path) -> list[dict[str, Any]]:
    """The documents `kubectl apply -k folder` would apply, in kustomization order."""
    kust = yaml.safe_load((folder / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for name in kust.get("resources", []):
        docs.extend(d for d in yaml.safe_load_all((folder / name).read_text()) if d)
    return docs
