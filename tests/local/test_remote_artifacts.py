# ruff: noqa: E501  (embedded manifests keep their natural line length)
"""Output and input artifacts on S3 (moto server) and Azure Blob (Azurite), both on loopback.

Credentials come from Secret references resolved from the environment, as in a pod.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from tests.servers import AzuriteServer, S3Server

from .conftest import run_yaml

WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{generateName: remote-}}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {{name: make, template: make}}
      - name: use
        depends: make
        template: use
        arguments:
          artifacts:
          - {{name: packed, from: "{{{{tasks.make.outputs.artifacts.packed}}}}"}}
          - {{name: tree, from: "{{{{tasks.make.outputs.artifacts.tree}}}}"}}
  - name: make
    container:
      image: busybox
      command: [sh, -c, "mkdir -p /out/tree/d && echo one > /out/one.txt && echo a > /out/tree/a && echo b > /out/tree/d/b"]
    outputs:
      artifacts:
      - name: packed
        path: /out/one.txt
        {location}: {packed}
      - name: tree
        path: /out/tree
        archive: {{none: {{}}}}
        {location}: {tree}
  - name: use
    inputs:
      artifacts:
      - {{name: packed, path: /in/one.txt}}
      - {{name: tree, path: /in/tree}}
    container:
      image: busybox
      command: [sh, -c, "cat /in/one.txt /in/tree/a /in/tree/d/b"]
"""


def _s3(server: S3Server, bucket: str, key: str) -> str:
    return (
        "{endpoint: '"
        + server.endpoint_url.removeprefix("http://")
        + "', bucket: "
        + bucket
        + ", key: "
        + key
        + ", insecure: true, region: us-east-1,"
        " accessKeySecret: {name: art-s3, key: accessKey}, secretKeySecret: {name: art-s3, key: secretKey}}"
    )


def test_s3_artifacts(tmp_path: Path, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ART_S3_ACCESSKEY", s3_server.access_key)
    monkeypatch.setenv("ART_S3_SECRETKEY", s3_server.secret_key)
    bucket = s3_server.create_bucket()
    text = WORKFLOW.format(
        location="s3",
        packed=_s3(s3_server, bucket, "runs/one.tgz"),
        tree=_s3(s3_server, bucket, "runs/tree"),
    )
    s = run_yaml(text, tmp_path)
    assert s.phase == "Succeeded", [(n.display_name, n.message) for n in s.nodes]
    assert s.node("use").logs() == "one\na\nb\n"
    assert {a["location"] for a in s.node("make").output_artifacts} == {
        f"s3://{bucket}/runs/one.tgz",
        f"s3://{bucket}/runs/tree",
    }
    client = s3_server.client()
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["runs/one.tgz", "runs/tree/a", "runs/tree/d/b"]
    packed = tmp_path / "one.tgz"
    client.download_file(bucket, "runs/one.tgz", str(packed))
    with tarfile.open(packed) as tar:  # tar.gz by default, one entry named after the file
        assert tar.getnames() == ["one.txt"]


def test_azure_artifacts(
    tmp_path: Path, azurite: AzuriteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ART_AZ_ACCOUNTKEY", azurite.account_key)
    container = azurite.create_container()

    def loc(blob: str) -> str:
        return (
            "{endpoint: '"
            + azurite.endpoint_url
            + "', container: "
            + container
            + ", blob: "
            + blob
            + ", accountKeySecret: {name: art-az, key: accountKey}}"
        )

    text = WORKFLOW.format(location="azure", packed=loc("runs/one.tgz"), tree=loc("runs/tree"))
    s = run_yaml(text, tmp_path)
    assert s.phase == "Succeeded", [(n.display_name, n.message) for n in s.nodes]
    assert s.node("use").logs() == "one\na\nb\n"
    assert f"azure://{container}/runs/one.tgz" in {
        a["location"] for a in s.node("make").output_artifacts
    }


def test_missing_credentials_error_the_node(
    tmp_path: Path, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ART_S3_ACCESSKEY", raising=False)
    monkeypatch.delenv("ART_S3_SECRETKEY", raising=False)
    bucket = s3_server.create_bucket()
    text = WORKFLOW.format(
        location="s3", packed=_s3(s3_server, bucket, "x.tgz"), tree=_s3(s3_server, bucket, "t")
    )
    s = run_yaml(text, tmp_path)
    assert s.phase == "Error"
    make = s.node("make")
    assert make.phase == "Error"
    assert "ART_S3_ACCESSKEY" in make.message or "ART_S3_SECRETKEY" in make.message
