"""Steps start while the host's mounts come and go (a kubelet's pod volumes, containerd's
rootfs mounts: the in-box cluster beside the unit suite). bubblewrap copies the host's mounts
into each sandbox; one that vanishes meanwhile failed the step's start (about 3% of starts
here, under heavy churn), which looked like a broken step. The launch is now tried again."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.local.conftest import run_yaml

STEPS = 60
WF = f"""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: mount-race}}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: echo
        template: echo
        arguments: {{parameters: [{{name: i, value: "{{{{item}}}}"}}]}}
        withSequence: {{count: "{STEPS}"}}
  - name: echo
    inputs: {{parameters: [{{name: i}}]}}
    container: {{image: busybox, command: [echo, "{{{{inputs.parameters.i}}}}"]}}
"""

CHURN = """
churn() {{ for i in $(seq 1000000); do mkdir -p {root}/$1-$((i % 64))
  mount -t tmpfs none {root}/$1-$((i % 64)) 2>/dev/null
  umount {root}/$1-$(((i + 32) % 64)) 2>/dev/null; done; }}
churn a & churn b & churn c & wait
"""


@pytest.fixture
def churning_mounts() -> Iterator[Path]:
    """A shared-propagation mount under /var (which every sandbox binds) whose submounts
    (about a hundred at any time) are made and removed as fast as the kernel allows."""
    assert os.geteuid() == 0, "this suite runs as root (bubblewrap, mounts)"
    root = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="kl-mount-race-"))
    subprocess.run(["mount", "--bind", str(root), str(root)], check=True)
    subprocess.run(["mount", "--make-rshared", str(root)], check=True)
    churn = subprocess.Popen(["bash", "-c", CHURN.format(root=root)], start_new_session=True)
    try:
        yield root
    finally:
        os.killpg(churn.pid, 9)
        churn.wait()
        subprocess.run(["umount", "-R", "-l", str(root)], check=False)
        shutil.rmtree(root, ignore_errors=True)


def test_steps_start_while_host_mounts_come_and_go(churning_mounts: Path,
                                                    tmp_path: Path) -> None:
    summary = run_yaml(WF, tmp_path)
    failed = [(n.name, n.message) for n in summary.nodes if n.phase != "Succeeded"]
    assert summary.phase == "Succeeded", [m for _, m in failed if "bwrap" in m][:1]
    assert sum(1 for n in summary.nodes if n.template_name == "echo") == STEPS


FIRST_START_FAILS = """#!/bin/bash
# bubblewrap whose first start of each command line fails as the race makes it fail
mark={marks}/$(printf '%s\\0' "$@" | sha256sum | cut -c1-32)
if mkdir "$mark" 2>/dev/null; then
  echo 'bwrap: Can'"'"'t bind mount /oldroot/run on /newroot/run: Unable to apply mount flags:' \\
       'remount "/newroot/run/x/rootfs": No such file or directory' >&2
  exit 1
fi
exec {real} "$@"
"""


def test_a_start_the_race_failed_is_tried_again(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Deterministic: a bubblewrap that fails each launch's first start with the race's
    message (then runs the real one) still gives a run that succeeds, every step once."""
    real = shutil.which("bwrap")
    assert real, "bubblewrap is installed by make test"
    bin_dir, marks = tmp_path / "bin", tmp_path / "marks"
    bin_dir.mkdir()
    marks.mkdir()
    (bin_dir / "bwrap").write_text(FIRST_START_FAILS.format(marks=marks, real=real))
    (bin_dir / "bwrap").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    summary = run_yaml(WF, tmp_path / "state")
    assert summary.phase == "Succeeded", [n.message for n in summary.nodes][:3]
    echoes = [n for n in summary.nodes if n.template_name == "echo"]
    assert len(echoes) == STEPS and all(n.phase == "Succeeded" for n in echoes)
    assert len(list(marks.iterdir())) >= STEPS  # every step's first start did fail


def test_a_start_that_keeps_failing_is_one_line(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "bwrap").write_text(
        "#!/bin/bash\necho 'bwrap: Can'\"'\"'t bind mount /a on /b: Unable to apply mount "
        "flags: remount \"/b/c\": Invalid argument' >&2\nexit 1\n")
    (bin_dir / "bwrap").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    summary = run_yaml(WF.replace(f'count: "{STEPS}"', 'count: "1"'), tmp_path / "state")
    assert summary.phase == "Failed"
    [message] = [n.message for n in summary.nodes if n.template_name == "echo"]
    assert message.startswith("bubblewrap could not start the container (tried 5 times: the "
                              "host's mounts kept changing): bwrap: Can't bind mount")
