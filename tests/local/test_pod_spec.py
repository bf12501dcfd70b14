"""What Argo merges into a template or its pod, applied where it means something on one
machine: podSpecPatch (env, command, args, activeDeadlineSeconds), templateDefaults,
artifact subPath, and the workflow's activeDeadlineSeconds."""

# ruff: noqa: E501  (embedded manifests keep their natural line length)
from __future__ import annotations

from pathlib import Path

import pytest

from kubeline.exceptions import ValidationError

from .conftest import run_yaml

PATCHED = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: patched-}
spec:
  entrypoint: main
  arguments: {parameters: [{name: colour, value: blue}]}
  podSpecPatch: |
    containers:
    - name: main
      env: [{name: FROM_WORKFLOW, value: "{{workflow.parameters.colour}}"}, {name: BOTH, value: workflow}]
      resources: {limits: {memory: 100Mi}}
  templates:
  - name: main
    inputs: {parameters: [{name: size, value: "2"}]}
    podSpecPatch: '{"containers":[{"name":"main","env":[{"name":"BOTH","value":"template"},{"name":"SIZE","value":"{{inputs.parameters.size}}"}],"resources":{"limits":{"cpu":"100m"}}}]}'
    container:
      image: busybox
      command: [sh, -c, 'echo "$FROM_WORKFLOW $BOTH $SIZE $OWN"']
      env: [{name: OWN, value: own}]
"""


def test_pod_spec_patches_set_env_workflow_first_then_template(tmp_path: Path) -> None:
    s = run_yaml(PATCHED, tmp_path)
    assert s.phase == "Succeeded", s.message
    assert s.node(s.id).logs() == "blue template 2 own\n"  # resources are ignored here


def test_pod_spec_patch_replaces_the_command(tmp_path: Path) -> None:
    text = PATCHED.replace(
        "    podSpecPatch: '{", "    podSpecPatch: '{\"containers\":[{\"name\":\"main\",\"command\":[\"sh\",\"-c\",\"echo patched-$BOTH\"]}]}'\n    x: '{")
    text = text.replace("    x: '{", "    # '{")
    s = run_yaml(text, tmp_path)
    assert s.phase == "Succeeded", s.message
    assert s.node(s.id).logs() == "patched-workflow\n"


def test_pod_spec_patch_deadline_ends_the_pod(tmp_path: Path) -> None:
    text = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: deadline-patch-}
spec:
  entrypoint: main
  templates:
  - name: main
    podSpecPatch: '{"activeDeadlineSeconds": 1}'
    container: {image: busybox, command: [sleep, "100000"]}
"""
    s = run_yaml(text, tmp_path)
    assert s.phase == "Failed"
    assert s.node(s.id).message == "Pod was active on the node longer than the specified deadline"


@pytest.mark.parametrize("patch", ["'[1, 2]'", "'{\"containers\": [{\"env\": []}]}'", "'{a: [b'"])
def test_a_malformed_pod_spec_patch_is_refused_before_the_run(tmp_path: Path, patch: str) -> None:
    text = PATCHED.replace(PATCHED[PATCHED.index("    podSpecPatch: '{"):PATCHED.index("    container:\n")],
                           f"    podSpecPatch: {patch}\n")
    with pytest.raises(ValidationError) as info:
        run_yaml(text, tmp_path)
    assert "spec.templates[0].podSpecPatch: invalid podSpecPatch" in str(info.value)
    assert not (tmp_path / "runs").exists()


def test_a_pod_spec_patch_broken_by_its_arguments_errors_the_node(tmp_path: Path) -> None:
    text = PATCHED.replace('value: "2"', 'value: "[not"').replace(
        '"value":"{{inputs.parameters.size}}"', '"value":{{inputs.parameters.size}}')
    s = run_yaml(text, tmp_path)
    assert s.phase == "Error"
    assert "podSpecPatch: invalid podSpecPatch" in s.node(s.id).message


DEFAULTS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: defaults-}
spec:
  entrypoint: main
  templateDefaults:
    retryStrategy: {limit: "1"}
    container:
      env: [{name: GREETING, value: hello}, {name: WHO, value: default}]
  templates:
  - name: main
    steps:
    - - {name: plain, template: plain}
      - {name: own, template: own}
      - {name: script, template: script}
  - name: plain
    container: {image: busybox, command: [sh, -c, 'echo "$GREETING $WHO"']}
  - name: own
    retryStrategy: {limit: "0"}
    container:
      image: busybox
      command: [sh, -c, 'echo "$GREETING $WHO"']
      env: [{name: WHO, value: own}]
  - name: script
    script: {image: busybox, command: [sh], source: 'echo "[$GREETING]"'}
"""


def test_template_defaults_merge_into_templates_their_own_fields_win(tmp_path: Path) -> None:
    s = run_yaml(DEFAULTS, tmp_path)
    assert s.phase == "Succeeded", s.message
    assert s.node("plain(0)").logs() == "hello default\n"
    assert s.node("own(0)").logs() == "hello own\n"  # env merged by name, the template's wins
    assert s.node("script(0)").logs() == "[]\n"  # container defaults do not reach a script
    retries = {n.display_name: n.phase for n in s.nodes if n.type == "Retry"}
    assert set(retries) >= {"plain", "own", "script"}  # retryStrategy reached every template


def test_template_default_timeout_applies(tmp_path: Path) -> None:
    text = DEFAULTS.replace("    retryStrategy: {limit: \"1\"}\n", "    timeout: 1s\n").replace(
        "echo \"[$GREETING]\"", "sleep 100000")
    s = run_yaml(text, tmp_path)
    assert s.phase == "Failed"
    assert s.node("script").message == "Pod was active on the node longer than the specified deadline"


SUBPATH = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: subpath-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: make, template: make}
    - - name: read
        template: read
        arguments:
          artifacts: [{name: in, from: "{{steps.make.outputs.artifacts.out}}", subPath: SUB}]
  - name: make
    container: {image: busybox, command: [sh, -c, "mkdir -p /tmp/out/deep && echo top > /tmp/out/a.txt && echo deep > /tmp/out/deep/b.txt"]}
    outputs:
      artifacts: [{name: out, path: /tmp/out, archive: {none: {}}}]
  - name: read
    inputs: {artifacts: [{name: in, path: /tmp/in}]}
    container: {image: busybox, command: [sh, -c, "if [ -d /tmp/in ]; then ls /tmp/in; else cat /tmp/in; fi"]}
"""


@pytest.mark.parametrize(("sub", "shown"), [("a.txt", "top\n"), ("deep/b.txt", "deep\n"),
                                            ("deep", "b.txt\n")])
def test_artifact_sub_path_reads_inside_the_artifact(tmp_path: Path, sub: str, shown: str) -> None:
    s = run_yaml(SUBPATH.replace("SUB", sub), tmp_path)
    assert s.phase == "Succeeded", s.message
    assert s.node("read").logs() == shown


def test_a_missing_sub_path_errors_the_step(tmp_path: Path) -> None:
    s = run_yaml(SUBPATH.replace("SUB", "nothing.txt"), tmp_path)
    assert s.phase in ("Failed", "Error")
    assert "not found" in s.node("read").message


DEADLINE = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: deadline-}
spec:
  activeDeadlineSeconds: 2
  entrypoint: main
  onExit: report
  templates:
  - name: main
    steps:
    - - {name: sleep, template: sleep, withItems: [1, 2, 3]}
  - name: sleep
    container: {image: busybox, command: [sleep, "100000"]}
  - name: report
    container: {image: busybox, command: [echo, "{{workflow.status}}"]}
"""


def test_workflow_deadline_fails_running_and_waiting_steps_with_argos_message(
        tmp_path: Path) -> None:
    s = run_yaml(DEADLINE, tmp_path, parallelism=1)  # two of the three wait for a pod slot
    assert s.phase == "Failed"
    sleeps = [n for n in s.nodes if n.display_name.startswith("sleep(")]
    assert len(sleeps) == 3
    assert {n.message for n in sleeps} == {"Step exceeded its deadline"}
    assert s.node(f"{s.id}.onExit").logs() == "Failed\n"  # the exit handler is not cut short


def test_workflow_deadline_must_be_a_positive_integer(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        run_yaml(DEADLINE.replace("activeDeadlineSeconds: 2", "activeDeadlineSeconds: soon"),
                 tmp_path)
    assert "spec.activeDeadlineSeconds must be a positive integer, not 'soon'" in str(info.value)
