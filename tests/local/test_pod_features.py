"""What kubeline's compiler emits: ConfigMap/projected volumes, emptyDir shared with init
containers, env from values and secrets, pod/node/workflow variables, key-only artifacts."""

# ruff: noqa: E501  (embedded manifests keep their natural line length)
from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from .conftest import run_yaml

POD = """
apiVersion: v1
kind: ConfigMap
metadata: {name: spec-cm}
data:
  pipeline.json: '{"name": "p"}'
  other.txt: other
---
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: podbits-}
spec:
  entrypoint: main
  arguments: {parameters: [{name: who, value: world}]}
  volumes:
  - {name: spec, configMap: {name: spec-cm}}
  - name: proj
    projected: {sources: [{configMap: {name: spec-cm, items: [{key: other.txt, path: nested/o.txt}]}}]}
  templates:
  - name: main
    volumes:
    - {name: scratch, emptyDir: {}}
    initContainers:
    - name: prepare
      image: busybox
      command: [sh, -c, "echo from-init > /scratch/x && echo init-tmp > /tmp/t"]
      volumeMounts: [{name: scratch, mountPath: /scratch}]
    container:
      image: python:3.11
      command: [python, -c]
      args:
      - |
        import os, json
        print(json.load(open('/kubeline/spec/pipeline.json'))['name'])
        print(open('/kubeline/proj/nested/o.txt').read())
        print(open('/scratch/x').read().strip())
        print(os.path.exists('/tmp/t'))
        print(os.environ['TOKEN'], os.environ['PLAIN'])
        print(os.environ['POD'] == os.environ['ARGO_POD_NAME'], os.environ['NODE'], os.environ['UID'] != '')
      env:
      - {name: PLAIN, value: "hello {{workflow.parameters.who}}"}
      - name: TOKEN
        valueFrom: {secretKeyRef: {name: my-secret, key: api.token}}
      - {name: POD, value: "{{pod.name}}"}
      - {name: NODE, value: "{{node.name}}"}
      - {name: UID, value: "{{workflow.uid}}"}
      volumeMounts:
      - {name: spec, mountPath: /kubeline/spec, readOnly: true}
      - {name: proj, mountPath: /kubeline/proj}
      - {name: scratch, mountPath: /scratch}
"""


@pytest.mark.parametrize("mode", ["bwrap", "none"])
def test_volumes_init_containers_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    import shutil

    if mode == "bwrap" and not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed")
    monkeypatch.setenv("KUBELINE_SANDBOX", mode)
    monkeypatch.setenv("MY_SECRET_API_TOKEN", "s3cr3t")
    s = run_yaml(POD, tmp_path)
    [pod] = [n for n in s.nodes if n.type == "Pod"]
    assert s.phase == "Succeeded", pod.logs()
    lines = pod.logs().splitlines()
    assert lines == ["p", "other", "from-init", "False", "s3cr3t hello world", f"True {s.id} True"]


def test_missing_secret_errors_the_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MY_SECRET_API_TOKEN", raising=False)
    s = run_yaml(POD, tmp_path)
    assert s.phase == "Error"
    [pod] = [n for n in s.nodes if n.type == "Pod"]
    assert pod.phase == "Error"
    assert "export MY_SECRET_API_TOKEN" in pod.message
    assert "s3cr3t" not in pod.message


ARTIFACTS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: arts-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: make
        template: make
    - - name: use
        template: use
        arguments:
          artifacts:
          - {name: tree, from: "{{steps.make.outputs.artifacts.tree}}"}
          - {name: plain, from: "{{steps.make.outputs.artifacts.plain}}"}
          - name: stored
            s3: {key: shared/plain.txt}
            archive: {none: {}}
  - name: make
    container:
      image: busybox
      command: [sh, -c, "mkdir -p /out/tree/sub && echo a > /out/tree/a && echo b > /out/tree/sub/b && echo p > /out/plain.txt"]
    outputs:
      artifacts:
      - {name: tree, path: /out/tree}
      - name: plain
        path: /out/plain.txt
        s3: {key: shared/plain.txt}
        archive: {none: {}}
  - name: use
    inputs:
      artifacts:
      - {name: tree, path: /in/t}
      - {name: plain, path: /in/p.txt}
      - {name: stored, path: /in/s.txt}
    container:
      image: busybox
      command: [sh, -c, "cat /in/t/a /in/t/sub/b /in/p.txt /in/s.txt"]
"""


def test_artifacts_between_steps(tmp_path: Path) -> None:
    s = run_yaml(ARTIFACTS, tmp_path)
    assert s.phase == "Succeeded", [(n.display_name, n.message) for n in s.nodes]
    make = s.node("make")
    locations = {a["name"]: a["location"] for a in make.output_artifacts}
    tree = Path(locations["tree"].removeprefix("file://"))
    # Argo's default key: <workflow>/<pod>/<artifact>.tgz in the local repository
    assert tree.parent.parent == tmp_path / "datastores" / s.id
    assert tree.parent.name.startswith(f"{s.id}-make-") and tree.name == "tree.tgz"
    with tarfile.open(tree) as tar:
        assert sorted(tar.getnames()) == ["tree", "tree/a", "tree/sub", "tree/sub/b"]
    assert (
        Path(locations["plain"].removeprefix("file://"))
        == tmp_path / "datastores" / "shared" / "plain.txt"
    )
    assert (tmp_path / "datastores" / "shared" / "plain.txt").read_text() == "p\n"
    assert s.node("use").logs() == "a\nb\np\np\n"


TIMEOUT = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: slow-}
spec:
  entrypoint: slow
  templates:
  - name: slow
    timeout: 1s
    container: {image: busybox, command: [sleep, "30"]}
"""


def test_template_timeout_fails_the_node(tmp_path: Path) -> None:
    s = run_yaml(TIMEOUT, tmp_path)
    assert s.phase == "Failed"
    [pod] = [n for n in s.nodes if n.type == "Pod"]
    assert pod.phase == "Failed"
    assert pod.message == "Pod was active on the node longer than the specified deadline"


EXPRESSIONS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: expr-}
spec:
  entrypoint: main
  arguments: {parameters: [{name: n, value: "3"}]}
  templates:
  - name: main
    dag:
      tasks:
      - name: gen
        template: gen
        withSequence: {count: "3", start: "1", format: "x%02d"}
      - name: show
        depends: gen
        template: show
        arguments:
          parameters:
          - name: msg
            value: "{{=asInt(workflow.parameters.n) * 2}}-{{=sprig.upper('ok')}}-{{tasks.gen.outputs.parameters.v}}"
        when: "{{=asInt(workflow.parameters.n) > 2}}"
    outputs:
      parameters:
      - name: out
        globalName: final
        valueFrom: {parameter: "{{tasks.show.outputs.parameters.echo}}"}
  - name: gen
    container: {image: busybox, command: [sh, -c, "echo -n v > /tmp/v"]}
    outputs: {parameters: [{name: v, valueFrom: {path: /tmp/v}}]}
  - name: show
    inputs: {parameters: [{name: msg}]}
    container: {image: busybox, command: [sh, -c, "echo '{{inputs.parameters.msg}}' | tee /tmp/e"]}
    outputs: {parameters: [{name: echo, valueFrom: {path: /tmp/e}}]}
"""


def test_expressions_sequences_and_global_outputs(tmp_path: Path) -> None:
    s = run_yaml(EXPRESSIONS, tmp_path)
    assert s.phase == "Succeeded", [(n.display_name, n.message) for n in s.nodes]
    gens = sorted(n.display_name for n in s.nodes if n.display_name.startswith("gen("))
    assert gens == ["gen(0:x01)", "gen(1:x02)", "gen(2:x03)"]
    assert s.node("show").logs() == '6-OK-["v","v","v"]\n'
    assert s.outputs == {"parameters": [{"name": "final", "value": '6-OK-["v","v","v"]'}]}
