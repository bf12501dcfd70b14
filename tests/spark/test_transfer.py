"""DataTransferStep round trips on real servers: moto's S3 -> Azurite -> a local folder.

The example's kubeline.yaml is pointed at the test servers; the data is seeded with the
example's own seed.py, then `kubeline run` copies it with the same artifact drivers Argo's
template would use. Bytes are compared with the source files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.servers import AzuriteServer, S3Server
from tests.spark.helpers import EXAMPLES, edit_config, example, kubeline

DATA = EXAMPLES / "data_transfer" / "data"


def _workspace(tmp_path: Path, s3: S3Server, azurite: AzuriteServer) -> tuple[Path, dict[str, str],
                                                                              str, str]:
    folder = example("data_transfer", tmp_path)
    bucket, container = s3.create_bucket(), azurite.create_container()
    edit_config(folder, datastores={
        "s3data": {"kind": "s3", "bucket": bucket, "endpoint": s3.endpoint_url, "insecure": True,
                   "region": s3.region,
                   "access_key_secret": {"name": "example-s3", "key": "accessKey"},
                   "secret_key_secret": {"name": "example-s3", "key": "secretKey"}},
        "blobdata": {"kind": "azureblob", "account_name": azurite.account_name,
                     "container_name": container, "endpoint": azurite.endpoint_url,
                     "account_key_secret": {"name": "example-blob", "key": "accountKey"}},
        "localcopy": {"kind": "local", "path": ".kubeline/datastores/localcopy"},
    })
    env = {"EXAMPLE_S3_ACCESSKEY": s3.access_key, "EXAMPLE_S3_SECRETKEY": s3.secret_key,
           "EXAMPLE_BLOB_ACCOUNTKEY": azurite.account_key}
    return folder, env, bucket, container


def _blobs(azurite: AzuriteServer, container: str) -> dict[str, bytes]:
    client = azurite.service_client().get_container_client(container)
    return {b.name: client.download_blob(b.name).readall() for b in client.list_blobs()}


def test_s3_to_blob_to_local(tmp_path: Path, s3_server: S3Server,
                             azurite: AzuriteServer) -> None:
    folder, env, _bucket, container = _workspace(tmp_path, s3_server, azurite)
    subprocess.run([sys.executable, "seed.py"], cwd=folder, env={**os.environ, **env},
                   check=True, capture_output=True)  # as a user seeds the example
    done = kubeline("run", "pipeline.py", cwd=folder, env=env)
    assert "phase:   Succeeded" in done.stdout, done.stdout + done.stderr
    expected = {p.relative_to(DATA).as_posix(): p.read_bytes()
                for p in DATA.rglob("*") if p.is_file()}
    blobs = _blobs(azurite, container)
    assert {k.removeprefix("landing/weather/"): v for k, v in blobs.items()} == expected
    local = folder / ".kubeline" / "datastores" / "localcopy" / "reference" / "stations.csv"
    assert local.read_bytes() == expected["stations.csv"]


def test_existing_files_are_overwritten_and_others_kept(tmp_path: Path, s3_server: S3Server,
                                                        azurite: AzuriteServer) -> None:
    folder, env, bucket, container = _workspace(tmp_path, s3_server, azurite)
    blob = azurite.service_client().get_container_client(container)
    blob.upload_blob("landing/weather/stations.csv", b"old\n")
    blob.upload_blob("landing/weather/keep.txt", b"kept\n")
    s3 = s3_server.client()
    s3.put_object(Bucket=bucket, Key="weather/stations.csv", Body=b"station\nNEW\n")
    s3.put_object(Bucket=bucket, Key="weather/stations.csv.bak", Body=b"x\n")
    done = kubeline("run", "pipeline.py", cwd=folder, env=env)
    assert "phase:   Succeeded" in done.stdout, done.stdout + done.stderr
    blobs = _blobs(azurite, container)
    assert blobs["landing/weather/stations.csv"] == b"station\nNEW\n"
    assert blobs["landing/weather/keep.txt"] == b"kept\n"
    assert blobs["landing/weather/stations.csv.bak"] == b"x\n"


def test_missing_source_fails_the_step(tmp_path: Path, s3_server: S3Server,
                                       azurite: AzuriteServer) -> None:
    folder, env, _bucket, container = _workspace(tmp_path, s3_server, azurite)
    done = kubeline("run", "pipeline.py", cwd=folder, env=env, check=False)
    assert done.returncode != 0
    assert "s3-to-blob" in done.stdout + done.stderr
    assert _blobs(azurite, container) == {}


@pytest.mark.parametrize("kind", ["workflow", "workflowtemplate"])
def test_compiled_template_moves_data_through_artifacts(tmp_path: Path, kind: str) -> None:
    folder = example("data_transfer", tmp_path)
    kubeline("compile", "pipeline.py", "-o", "out", "--no-publish", "--kind", kind, cwd=folder)
    docs = list(yaml.safe_load_all((folder / "out" / "data-transfer.yaml").read_text()))
    wf = next(d for d in docs if d["kind"] in ("Workflow", "WorkflowTemplate"))
    tmpls = [t for t in wf["spec"]["templates"] if t["name"].startswith("data-transfer-")]
    assert len(tmpls) == 2
    by_out = {t["outputs"]["artifacts"][0]["name"]: t for t in tmpls}
    blob = by_out["weather_blob"]["outputs"]["artifacts"][0]
    assert blob["azure"]["blob"] == "landing/weather" and blob["archive"] == {"none": {}}
    assert blob["azure"]["accountKeySecret"] == {"name": "example-blob", "key": "accountKey"}
    local = by_out["stations_local"]["outputs"]["artifacts"][0]
    assert local["s3"] == {"key": "localcopy/reference"}
    main = next(t for t in wf["spec"]["templates"] if t["name"] == "main")
    task = next(t for t in main["dag"]["tasks"] if t["name"] == "s3-to-blob")
    (source,) = task["arguments"]["artifacts"]
    assert source["s3"]["bucket"] == "kubeline-example" and source["s3"]["key"] == "weather"
