"""ConfigMap volumes: read-only, as in Kubernetes, and written once per run with bubblewrap
(not once per node: a compiled pipeline's spec ConfigMap has a file per step)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import HAS_BWRAP, run_yaml

WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: vols}
spec:
  entrypoint: main
  volumes:
  - {name: conf, configMap: {name: conf}}
  templates:
  - name: main
    dag:
      tasks:
      - {name: one, template: use}
      - {name: two, template: use, depends: one}
  - name: use
    container:
      image: busybox
      command: [sh, -c, "cat /conf/a.txt; echo; echo x > /conf/a.txt || echo refused;
                         cat /conf/a.txt"]
      volumeMounts:
      - {name: conf, mountPath: /conf}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: conf}
data:
  a.txt: from the configmap
"""


@pytest.mark.skipif(not HAS_BWRAP, reason="bubblewrap is not installed")
def test_configmap_volumes_are_read_only_and_shared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBELINE_SANDBOX", "bwrap")
    s = run_yaml(WORKFLOW, tmp_path)
    assert s.phase == "Succeeded", [(n.display_name, n.message) for n in s.nodes]
    for name in ("one", "two"):
        out = Path(s.node(name).log_dir, "main.stdout").read_text()
        assert out == "from the configmap\nrefused\nfrom the configmap"
        assert "Read-only file system" in Path(s.node(name).log_dir, "main.stderr").read_text()
        assert not Path(s.node(name).log_dir, "volumes", "conf").exists()
    [shared] = (tmp_path / "runs" / s.id / "volumes").iterdir()
    assert (shared / "a.txt").read_text() == "from the configmap"


def test_without_bubblewrap_each_node_has_its_own_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBELINE_SANDBOX", "none")
    s = run_yaml(WORKFLOW, tmp_path)
    assert s.phase == "Succeeded", [(n.display_name, n.message) for n in s.nodes]
    for name in ("one", "two"):  # nothing enforces read-only here: the write lands in a copy
        out = Path(s.node(name).log_dir, "main.stdout").read_text()
        assert out == "from the configmap\nx\n"
    assert not (tmp_path / "runs" / s.id / "volumes").exists()
