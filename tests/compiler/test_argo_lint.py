"""Argo's own ``argo lint --offline`` judges Argo's examples and deliberately broken workflows.

The binary comes from scripts/build-argo.sh (the install step); these tests only find it.
Without it they fail under CI (env CI set) and skip, with the reason, elsewhere.
"""

from __future__ import annotations

import re
import socket
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubeline.compiler.argo_lint import (
    ARGO_VERSION,
    BUILD_SCRIPT,
    ArgoLintError,
    ArgoNotFoundError,
    cached_argo_path,
    find_argo,
    lint_offline,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = (REPO / ".." / "shared" / "argo-examples").resolve()
SCRIPT = REPO / BUILD_SCRIPT


def _examples() -> list[Path]:
    return sorted(EXAMPLES.glob("*.yaml"))




def _write_exe(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


# -- the real binary ----------------------------------------------------------------------


def test_binary_is_the_pinned_version(argo_bin: Path) -> None:
    out = subprocess.run(
        [str(argo_bin), "version", "--short"], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == f"argo: {ARGO_VERSION}"


def test_examples_folder_is_present() -> None:
    assert len(_examples()) >= 16, f"expected Argo's example workflows in {EXAMPLES}"


@pytest.mark.parametrize("example", _examples(), ids=lambda p: p.stem)
def test_argo_example_passes_lint(argo_bin: Path, example: Path) -> None:
    result = lint_offline([example])
    assert result.ok, result.messages
    assert result.messages == []


def test_all_examples_in_one_run(argo_bin: Path) -> None:
    result = lint_offline(_examples())
    assert result.ok, result.messages


_DAG_HEAD = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: {name}-
spec:
  entrypoint: main
  templates:
  - name: echo
    container:
      image: alpine:3.20
      command: [echo, hi]
  - name: main
    dag:
      tasks:
"""

CYCLE = _DAG_HEAD.format(name="cycle") + (
    "      - {name: a, template: echo, depends: b}\n      - {name: b, template: echo, depends: a}\n"
)
UNDERSCORE = _DAG_HEAD.format(name="underscore") + "      - {name: bad_name, template: echo}\n"


def test_dependency_cycle_fails_with_argos_message(argo_bin: Path, tmp_path: Path) -> None:
    wf = tmp_path / "cycle.yaml"
    wf.write_text(CYCLE, encoding="utf-8")
    result = lint_offline([wf])
    assert not result.ok
    assert result.exit_code == 1
    assert result.messages == [
        f'{wf}: in "cycle-" (Workflow): templates.main sorting failed: graph with cycle'
    ]


def test_underscore_task_name_fails_with_argos_message(argo_bin: Path, tmp_path: Path) -> None:
    wf = tmp_path / "underscore.yaml"
    wf.write_text(UNDERSCORE, encoding="utf-8")
    result = lint_offline([wf])
    assert not result.ok
    assert len(result.messages) == 1
    assert result.messages[0].startswith(f'{wf}: in "underscore-" (Workflow): ')
    assert "templates.main.tasks[0].name: 'bad_name' is invalid" in result.messages[0]
    assert "alpha-numeric characters or '-'" in result.messages[0]


def test_both_defects_in_one_file_are_both_reported(argo_bin: Path, tmp_path: Path) -> None:
    wf = tmp_path / "broken.yaml"
    wf.write_text(CYCLE + "---\n" + UNDERSCORE, encoding="utf-8")
    good = EXAMPLES / "dag-diamond.yaml"
    result = lint_offline([good, wf])
    assert not result.ok
    joined = "\n".join(result.messages)
    assert "graph with cycle" in joined
    assert "'bad_name' is invalid" in joined
    assert str(good) not in joined  # the valid file is not blamed


def test_unparseable_yaml_fails(argo_bin: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Workflow\n: : [\n", encoding="utf-8")
    result = lint_offline([bad])
    assert not result.ok
    assert any("not valid" in m for m in result.messages), result.messages
    assert any("found nothing to lint" in m for m in result.messages), result.messages


@pytest.fixture
def loopback_listener() -> Iterator[tuple[int, list[str]]]:
    """A TCP listener on loopback that records every connection it receives."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    seen: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, addr = srv.accept()
            except OSError:
                continue
            seen.append(f"{addr[0]}:{addr[1]}")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield srv.getsockname()[1], seen
    finally:
        stop.set()
        thread.join()
        srv.close()


def test_lint_never_contacts_a_cluster_or_argo_server(
    argo_bin: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    loopback_listener: tuple[int, list[str]],
) -> None:
    port, seen = loopback_listener
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        f"""\
apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "https://127.0.0.1:{port}"}}}}]
users: [{{name: u, user: {{token: not-a-secret}}}}]
contexts: [{{name: x, context: {{cluster: c, user: u, namespace: ns}}}}]
current-context: x
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("ARGO_SERVER", f"127.0.0.1:{port}")
    monkeypatch.setenv("ARGO_HTTP1", "true")
    result = lint_offline([EXAMPLES / "hello-world.yaml"])
    assert result.ok, result.messages
    assert seen == []


def test_build_script_with_cached_binary_only_prints_the_path(
    argo_bin: Path, tmp_path: Path
) -> None:
    cached = tmp_path / "cache" / f"argo-{ARGO_VERSION}" / "argo"
    cached.parent.mkdir(parents=True)
    cached.symlink_to(argo_bin.resolve())
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "KUBELINE_CACHE": str(tmp_path / "cache"),
        "GO": str(tmp_path / "no-go-here"),  # any build attempt would fail loudly
    }
    proc = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == str(cached)
    assert proc.stderr == ""


# -- finding the binary (no argo needed) --------------------------------------------------


def test_script_and_module_pin_the_same_version() -> None:
    text = SCRIPT.read_text(encoding="utf-8")
    match = re.search(r'^ARGO_VERSION="([^"]+)"$', text, flags=re.MULTILINE)
    assert match is not None
    assert match.group(1) == ARGO_VERSION


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No KUBELINE_ARGO, an empty cache and a PATH with only an empty folder."""
    monkeypatch.delenv("KUBELINE_ARGO", raising=False)
    monkeypatch.setenv("KUBELINE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    return tmp_path


def test_find_argo_order_env_then_cache_then_path(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert find_argo() is None
    on_path = _write_exe(isolated / "bin" / "argo", "echo path")
    assert find_argo() == on_path
    cached = _write_exe(isolated / "cache" / f"argo-{ARGO_VERSION}" / "argo", "echo cache")
    assert cached == cached_argo_path()
    assert find_argo() == cached
    explicit = _write_exe(isolated / "elsewhere" / "argo", "echo env")
    monkeypatch.setenv("KUBELINE_ARGO", str(explicit))
    assert find_argo() == explicit


def test_bad_kubeline_argo_is_an_error_not_a_fallback(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_exe(isolated / "bin" / "argo", "echo path")
    monkeypatch.setenv("KUBELINE_ARGO", str(isolated / "missing" / "argo"))
    with pytest.raises(ArgoNotFoundError, match="KUBELINE_ARGO="):
        find_argo()


def test_lint_without_argo_names_the_build_script(isolated: Path) -> None:
    with pytest.raises(ArgoNotFoundError) as info:
        lint_offline([EXAMPLES / "hello-world.yaml"])
    text = str(info.value)
    assert "scripts/build-argo.sh" in text
    assert "\n" not in text


def test_lint_rejects_empty_and_missing_paths(tmp_path: Path) -> None:
    with pytest.raises(ArgoLintError, match="paths is empty"):
        lint_offline([])
    with pytest.raises(ArgoLintError, match="no such file"):
        lint_offline([tmp_path / "nope.yaml"])


def test_build_script_refuses_a_wrong_version_cache_without_go(tmp_path: Path) -> None:
    _write_exe(tmp_path / "cache" / f"argo-{ARGO_VERSION}" / "argo", "echo 'argo: v0.0.1'")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "KUBELINE_CACHE": str(tmp_path / "cache"),
        "GO": str(tmp_path / "no-go-here"),
    }
    proc = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert "is not an executable file" in proc.stderr
