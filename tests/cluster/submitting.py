"""What the submission tests on the box share: a namespace of their own with what a
kubeline run needs in it, kubeline.yaml pointed at it, a one-step pipeline, and readers of
the history and of the namespace's Workflows (the fixtures are in conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.cluster.box import Box
from tests.pipelines import kubeline

COPIED = (("secret", "kubeline-s3"), ("configmap", "artifact-repositories"),
          ("serviceaccount", "kubeline-workflow"), ("role", "kubeline-workflow"),
          ("rolebinding", "kubeline-workflow"))


def apply(box: Box, *docs: dict[str, Any]) -> None:
    """``kubectl apply`` of the documents, as a user would."""
    done = subprocess.run([str(box.kubectl_path), "--kubeconfig", str(box.kubeconfig),
                           "apply", "-f", "-"], input=yaml.safe_dump_all(docs), text=True,
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def create_namespace(box: Box, namespace: str) -> None:
    """The namespace, holding the objects a kubeline run needs (copied from namespace
    kubeline): one ``kubectl get`` and one ``kubectl apply``."""
    listed = yaml.safe_load(box.kubectl(
        "-n", "kubeline", "get", *(f"{kind}/{name}" for kind, name in COPIED),
        "-o", "yaml").stdout)
    copies: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace",
                                     "metadata": {"name": namespace}}]
    for doc in listed["items"]:
        doc["metadata"] = {"name": doc["metadata"]["name"], "namespace": namespace}
        for subject in doc.get("subjects") or []:  # the RoleBinding's service account
            subject["namespace"] = namespace
        copies.append(doc)
    apply(box, *copies)


def point_at(config: Path, **cluster: Any) -> None:
    """Change kubeline.yaml's cluster section (None removes a setting)."""
    doc = yaml.safe_load(config.read_text())
    doc["cluster"].update(cluster)
    doc["cluster"] = {k: v for k, v in doc["cluster"].items() if v is not None}
    config.write_text(yaml.safe_dump(doc))


def salted(folder: Path) -> None:
    """A file of its own in every source folder: this test's step keys are its own, so
    other tests sharing the box's store cannot make its steps reused (or not)."""
    for source in {f.parent for f in folder.rglob("*.py")} - {folder}:
        (source / "salt.txt").write_text(uuid.uuid4().hex)


def python(file: Path, env: dict[str, str], timeout: int = 900
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, file.name], cwd=file.parent, text=True,
                          capture_output=True, env={**os.environ, **env}, timeout=timeout,
                          check=False)


def history(folder: Path, env: dict[str, str], *args: str) -> Any:
    return json.loads(kubeline("runs", *args, "--json", cwd=folder, env=env).stdout)


def workflows(box: Box, namespace: str) -> list[dict[str, Any]]:
    listed = box.custom.list_namespaced_custom_object("argoproj.io", "v1alpha1", namespace,
                                                      "workflows")
    return list(listed["items"])


PIPELINE = """
import sys
from kubeline import Experiment, Pipeline, PythonScriptStep, Workspace

ws = Workspace.from_config()
step = PythonScriptStep(name="count", script_name="count.py", source_directory="scripts",
                        allow_reuse=False)
pipeline = Pipeline(workspace=ws, steps=[step])
if __name__ == "__main__":
    run = Experiment(ws, "box-submit").submit(pipeline)
    print("RUN", run.id, flush=True)
    run.wait_for_completion(show_output=True, raise_on_error=True)
"""


def small_pipeline(folder: Path, script: str) -> Path:
    """pipeline.py of one step running ``script`` (never reused), submitted the AML way."""
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "count.py").write_text(script)
    (folder / "scripts" / "salt.txt").write_text(uuid.uuid4().hex)
    (folder / "pipeline.py").write_text(PIPELINE)
    return folder / "pipeline.py"


def wait_until(predicate: Callable[[], Any], seconds: float, what: str) -> None:
    """A bounded wait for something only a poll can see (a local file, a process)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"waited {seconds}s for {what}"
        time.sleep(0.5)
