"""A private / (a node whose outputs are missing top-level paths) keeps the symlinks bubblewrap
made for the host's top-level links; they are cleared just before a start, never when a
launch is computed: a warm process of the node may be setting up in that folder then, and
losing its /lib64 mid-setup failed its exec (``bwrap: execvp ...python: No such file or
directory``, seen in a full suite run on a busy machine)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kubeline.local.sandbox import ContainerFS, Sandbox, clear_link_stubs

HOST_LINKS = sorted(n for n in os.listdir("/") if os.path.islink(os.path.join("/", n)))


@pytest.mark.skipif(not HOST_LINKS, reason="this host's / has no top-level symlinks")
def test_computing_a_view_leaves_a_running_starts_stubs_alone(tmp_path: Path) -> None:
    sandbox = Sandbox("bwrap", [])
    fs = ContainerFS(root=tmp_path / "root", owned=["/kl-test-top-level-output.txt"])
    sandbox.prepare(fs)
    name = HOST_LINKS[0]
    stub = fs.root / name
    stub.symlink_to(os.readlink(os.path.join("/", name)))  # as an earlier start made it
    view = sandbox.view(fs)
    assert ("/", str(fs.root), False) in view
    assert stub.is_symlink(), "a launch being computed must not touch the private root"
    clear_link_stubs(view)
    assert not stub.is_symlink()


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")
def test_a_private_root_starts_again_after_its_stubs_are_cleared(tmp_path: Path) -> None:
    sandbox = Sandbox("bwrap", [])
    fs = ContainerFS(root=tmp_path / "root", owned=["/kl-test-top-level-output.txt"])
    sandbox.prepare(fs)
    view = sandbox.view(fs)
    argv = sandbox.wrap_view(["sh", "-c", "echo ok > /kl-test-top-level-output.txt"], view,
                             "/")
    for _ in range(2):  # the second start finds the first one's stubs
        clear_link_stubs(view)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
    assert (fs.root / "kl-test-top-level-output.txt").read_text() == "ok\n"
    assert not Path("/kl-test-top-level-output.txt").exists()
