"""Issue 15 point 4: KFP's own local runner runs the compiled compare_models pipeline.

``kfp.local.init(runner=kfp.local.DockerRunner())`` runs the YAML that
``kubeline compile --target kfp`` wrote, loaded with ``load_component_from_file``, each
task in the kubeline runtime image (loaded from the cluster images' archive into a private
dockerd, tests/docker_daemon.py). Its outputs must equal those of ``kubeline run`` on the
same pipeline: the same cache keys (so the same datastore locations) and the same bytes for
every output, and the pipeline output KFP hands back holds the same result.

Containers get no network (network_mode "none"); the example's local datastore is bind
mounted at the same path and named by KUBELINE_WORKSPACE, as a cluster's pods reach theirs.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.docker_daemon import DockerDaemon, docker_daemon  # noqa: F401  (fixture)
from tests.pipelines import example, kubeline

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


def test_docker_runner_runs_compiled_compare_models(docker_daemon: DockerDaemon,  # noqa: F811
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import docker.types
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
    root = (tmp_path / "kfp-root").resolve()
    kfp.local.init(
        runner=kfp.local.DockerRunner(
            network_mode="none",
            # KFP on a cluster sets the container's command, replacing the image's
            # entrypoint; KFP's DockerRunner passes it as arguments to the entrypoint, so the
            # runtime image's (python3 -m kubeline.runtime) is cleared here
            entrypoint=[""],
            user=f"{os.getuid()}:{os.getgid()}",
            environment={"KUBELINE_WORKSPACE": str(work)},
            mounts=[docker.types.Mount(target=str(work), source=str(work), type="bind")]),
        pipeline_root=str(root), raise_on_error=True)
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
