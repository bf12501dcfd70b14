"""The shim against a real S3 server (moto in server mode on loopback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeline.graph.model import DataRef, Step, StepInput, StepOutput
from tests.runtime.conftest import PROBE, read_report
from tests.runtime.harness import Harness
from tests.servers import S3Server


def test_step_chain_on_s3(s3_server: S3Server, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = s3_server.create_bucket()
    secrets = {"KL_RT_S3_ACCESSKEY": s3_server.access_key,
               "KL_RT_S3_SECRETKEY": s3_server.secret_key}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    h = Harness(tmp_path / "h", default="blob", datastores={"blob": {
        "kind": "s3", "bucket": bucket, "prefix": "team",
        "endpoint": s3_server.endpoint_url.removeprefix("http://"), "insecure": True,
        "region": "us-east-1",
        "access_key_secret": {"name": "kl-rt-s3", "key": "accessKey"},
        "secret_key_secret": {"name": "kl-rt-s3", "key": "secretKey"}}})
    h.env.update(secrets)
    h.env["AWS_EC2_METADATA_DISABLED"] = "true"
    h.env["REPORT"] = str(tmp_path / "report.json")
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="team/raw/input.csv", Body=b"a,b\n1,2\n")

    h.add(Step(id="prod", name="prod", kind="python_script", image="x", script="main.py",
               arguments=(DataRef("raw"), DataRef("out")),
               inputs=(StepInput("raw", "datastore", "blob", mode="download",
                                 path="raw/input.csv"),),
               outputs=(StepOutput("out", "blob"),)),
          {"main.py": "import os, sys\nos.makedirs(sys.argv[2])\n"
                      "open(os.path.join(sys.argv[2], 'copy.csv'), 'w')"
                      ".write(open(sys.argv[1]).read().upper())\n"
                      "from kubeline import Run\nRun.get_context().log('rows', 2)\n"})
    done = h.run("prod")
    assert done.returncode == 0, done.stderr
    key = h.key()
    objects = sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"])
    assert f"team/kubeline/outputs/{key}/out/copy.csv" in objects
    assert f"team/kubeline/outputs/{key}/out.complete.json" in objects
    assert any(k.startswith("team/kubeline/snapshots/") for k in objects)
    record = json.loads(client.get_object(
        Bucket=bucket, Key=f"team/kubeline/outputs/{key}/out.complete.json")["Body"].read())
    assert [f["path"] for f in record["files"]] == ["copy.csv"]
    assert h.result("prod")["metrics"] == {"rows": 2}
    assert s3_server.secret_key not in done.stdout + done.stderr

    h.add(Step(id="cons", name="cons", kind="python_script", image="x", script="main.py",
               arguments=(DataRef("out"), DataRef("direct")),
               inputs=(StepInput("out", "pipeline_data", "blob", producer="prod"),
                       StepInput("direct", "datastore", "blob", mode="direct",
                                 path="raw/input.csv"))),
          {"main.py": PROBE})
    done = h.run("cons", {"prod": key})
    assert done.returncode == 0, done.stderr
    report = read_report(h)
    local, direct = report["argv"]
    assert report["listings"][local] == {"copy.csv": "A,B\n1,2\n"}
    assert direct == f"s3://{bucket}/team/raw/input.csv"
