"""Issue 15 point 4: KFP's own local runner runs the compiled compare_models pipeline.

``kfp.local.init(runner=kfp.local.DockerRunner())`` runs the YAML that
``kubeline compile --target kfp`` wrote, loaded with ``load_component_from_file``, each
task in the kubeline runtime image (loaded from the cluster images' archive into a private
dockerd, tests/docker_daemon.py). Its outputs must equal those of ``kubeline run`` on the
same pipeline: the same cache keys (so the same datastore locations) and the same bytes for
every output, and the pipeline output KFP hands back holds the same result.

compare_models' containers get no network (network_mode "none"); the example's local
datastore is bind mounted at the same path and named by KUBELINE_WORKSPACE. The
data_transfer example runs too: its copies go through moto's S3 and Azurite on loopback.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.docker_daemon import DockerDaemon, docker_daemon  # noqa: F401  (fixture)
from tests.pipelines import example, kubeline
from tests.servers import AzuriteServer, S3Server

OUTPUTS = "kubeline/outputs"


def _tree(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under root."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _outputs(workspace: Path) -> dict[str, str]:
    """Every committed output file of a workspace's default datastore, keyed by its location
    (kubeline/outputs/<key>/<name>/...): the same keys mean the same cache keys. Completion
    records name the run that wrote them, so only their presence is compared."""
    store = workspace / ".kubeline" / "datastores" / "workspaceblobstore" / OUTPUTS
    return {path: ("record" if path.endswith(".complete.json") else digest)
            for path, digest in _tree(store).items()}


def _by_name(outputs: dict[str, str]) -> dict[tuple[str, str], str]:
    """(output name, file within it) -> digest: the same data whatever key it sits under."""
    return {(path.split("/")[1].removesuffix(".complete.json"),
             "/".join(path.split("/")[2:])): digest for path, digest in outputs.items()}


def _docker_runner(work: Path, network: str, env: dict[str, str] | None = None) -> Any:
    import docker.types
    import kfp.local

    return kfp.local.DockerRunner(
        network_mode=network,
        # KFP on a cluster sets the container's command, replacing the image's entrypoint;
        # KFP's DockerRunner passes it as arguments to the entrypoint, so the runtime
        # image's (python3 -m kubeline.runtime) is cleared here
        entrypoint=[""],
        user=f"{os.getuid()}:{os.getgid()}",
        environment={"KUBELINE_WORKSPACE": str(work), **(env or {})},
        mounts=[docker.types.Mount(target=str(work), source=str(work), type="bind")])


def test_docker_runner_runs_data_dependency_with_datapath(
        docker_daemon: DockerDaemon, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A DataPath parameter (a KFP STRUCT) and an int parameter, given at run time."""
    import kfp.local
    from kfp import components

    datapath = {"datastore": "workspaceblobstore", "path": "sales/2026"}
    reference = example("data_dependency", tmp_path / "kubeline-run")
    kubeline("run", "pipeline.py", "-p", "top=2", "-p", f"raw_data={json.dumps(datapath)}",
             cwd=reference)
    expected = _outputs(reference)
    work = example("data_dependency", tmp_path / "kfp-run").resolve()
    kubeline("compile", "pipeline.py", "--target", "kfp", "-o", "build", cwd=work)
    monkeypatch.setenv("DOCKER_HOST", docker_daemon.host)
    kfp.local.init(runner=_docker_runner(work, "none"),
                   pipeline_root=str((tmp_path / "kfp-root").resolve()), raise_on_error=True)
    pipeline = components.load_component_from_file(str(work / "build" / "data-dependency.yaml"))
    task = pipeline(top=2, raw_data=datapath)
    got = _outputs(work)
    assert _by_name(got) == _by_name(expected)
    assert len({name for name, _ in _by_name(got)}) == 3  # cleaned, features, report
    report = Path(task.outputs["report"].path)
    assert _tree(report) == {k: v for (name, k), v in _by_name(expected).items()
                             if name == "report" and k}


def test_docker_runner_runs_compiled_compare_models(docker_daemon: DockerDaemon,  # noqa: F811
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import kfp.local
    from kfp import components

    reference = example("compare_models", tmp_path / "kubeline-run")
    kubeline("run", "pipeline.py", "-p", "pipeline_arg=20", cwd=reference)
    expected = _outputs(reference)
    names = {tuple(p.split("/")[:2]) for p in expected if not p.endswith(".complete.json")}
    assert len(names) == 4, expected  # train's, extract's two, compare's

    work = example("compare_models", tmp_path / "kfp-run").resolve()
    kubeline("compile", "pipeline.py", "--target", "kfp", "-o", "build", cwd=work)
    pipeline_file = work / "build" / "compare-models.yaml"

    monkeypatch.setenv("DOCKER_HOST", docker_daemon.host)
    kfp.local.init(runner=_docker_runner(work, "none"),
                   pipeline_root=str((tmp_path / "kfp-root").resolve()), raise_on_error=True)
    pipeline = components.load_component_from_file(str(pipeline_file))
    task = pipeline(pipeline_arg=20)

    assert _outputs(work) == expected, "the KFP run committed other keys or other bytes"
    result = Path(task.outputs["out_data3"].path)
    key = next(p.split("/")[0] for p in expected if p.split("/")[1] == "out_data3")
    downloaded = reference / "out" / OUTPUTS / key / "out_data3"
    assert _tree(result) == _tree(downloaded), "KFP's pipeline output differs from kubeline's"
    assert (result / "best.json").read_text(encoding="utf-8") == \
        (downloaded / "best.json").read_text(encoding="utf-8")
    assert '"param1": 20' in (result / "best.json").read_text(encoding="utf-8")


def test_docker_runner_runs_compiled_data_transfer(docker_daemon: DockerDaemon,  # noqa: F811
                                                   tmp_path: Path, s3_server: S3Server,
                                                   azurite: AzuriteServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """DataTransferStep on KFP: moto's S3 -> Azurite -> a local folder, copied by kubeline's
    drivers inside KFP tasks. The containers share the host's network so they reach the test
    servers on 127.0.0.1; the Secret values reach them as environment variables, as KFP's
    secretAsEnv gives them on a cluster (KFP's local runner does not read the platform spec).
    """
    import subprocess
    import sys

    import kfp.local
    from kfp import components

    from tests.spark.test_transfer import DATA, _blobs, _workspace

    folder, env, _bucket, container = _workspace(tmp_path, s3_server, azurite)
    folder = folder.resolve()
    subprocess.run([sys.executable, "seed.py"], cwd=folder, env={**os.environ, **env},
                   check=True, capture_output=True)
    kubeline("compile", "pipeline.py", "--target", "kfp", "-o", "build", cwd=folder)
    monkeypatch.setenv("DOCKER_HOST", docker_daemon.host)
    kfp.local.init(runner=_docker_runner(folder, "host", env),
                   pipeline_root=str((tmp_path / "kfp-root").resolve()), raise_on_error=True)
    components.load_component_from_file(str(folder / "build" / "data-transfer.yaml"))()

    expected = {p.relative_to(DATA).as_posix(): p.read_bytes()
                for p in DATA.rglob("*") if p.is_file()}
    blobs = _blobs(azurite, container)
    assert {k.removeprefix("landing/weather/"): v for k, v in blobs.items()} == expected
    local = folder / ".kubeline" / "datastores" / "localcopy" / "reference" / "stations.csv"
    assert local.read_bytes() == expected["stations.csv"]
