"""`cluster.argo_memoize: true` works on Argo's own controller with the RBAC in manifests/:
the controller writes its memoize cache ConfigMap in its own namespace, argo, whatever the
workflow's (v4.1.4: controller.go hands the controller's namespace to cache.NewCacheFactory,
configmap_cache.go gets, creates and updates it there), and an unchanged rerun is served from
that cache without starting a single pod."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.cluster.box import Box, load_docs
from tests.cluster.compare import workflow_name_of
from tests.cluster.test_examples_on_box import NAMESPACE, forget_reuse, run_on_box
from tests.pipelines import example, kubeline

pytestmark = pytest.mark.cluster
CACHE_LABEL = "workflows.argoproj.io/configmap-type=Cache"
CONTROLLER_NAMESPACE = "argo"


def test_argo_memoize_rerun_starts_no_pod(box: Box, box_env: dict[str, str],
                                          tmp_path: Path) -> None:
    config = Path(box_env["KUBELINE_CONFIG"])
    data = yaml.safe_load(config.read_text())
    data["cluster"]["argo_memoize"] = True
    config.write_text(yaml.safe_dump(data))
    folder = example("data_dependency", tmp_path)
    build = tmp_path / "build"
    kubeline("compile", "pipeline.py", "-o", str(build), cwd=folder, env=box_env)
    name = workflow_name_of(load_docs(build))
    forget_reuse(box)
    for cm in box.core.list_namespaced_config_map(CONTROLLER_NAMESPACE,
                                                  label_selector=CACHE_LABEL).items:
        box.core.delete_namespaced_config_map(cm.metadata.name, CONTROLLER_NAMESPACE)

    first = run_on_box(box, build, name)
    assert first["status"]["phase"] == "Succeeded", box.describe(name, NAMESPACE)
    caches = box.core.list_namespaced_config_map(CONTROLLER_NAMESPACE,
                                                 label_selector=CACHE_LABEL).items
    assert caches, "the controller kept no memoize cache ConfigMap in its namespace"
    first_pods = [n for n in first["status"]["nodes"].values() if n["type"] == "Pod"]
    assert first_pods and not any(n.get("memoizationStatus", {}).get("hit") for n in first_pods)

    second = run_on_box(box, build, name)
    assert second["status"]["phase"] == "Succeeded", box.describe(name, NAMESPACE)
    steps = [n for n in second["status"]["nodes"].values() if n["type"] == "Pod"]
    assert len(steps) == len(first_pods)
    assert all(n.get("memoizationStatus", {}).get("hit") for n in steps), steps
    assert box.pods_of(second) == []
