"""Run Argo's own ``argo lint --offline`` on manifests, so Argo itself judges what we compile.

The binary is built from Argo's Go module at a pinned version by ``scripts/build-argo.sh``
(see docs/decisions/0002-argo-cli-build.md); this module only finds it and runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from kubeline.exceptions import KubelineError

#: Must equal ARGO_VERSION in scripts/build-argo.sh (a test checks this).
ARGO_VERSION = "v4.1.4"
BUILD_SCRIPT = "scripts/build-argo.sh"
ENV_ARGO = "KUBELINE_ARGO"
ENV_CACHE = "KUBELINE_CACHE"
_LINT_TIMEOUT_S = 300
_SUCCESS_SUMMARY = "no linting errors found!"


class ArgoNotFoundError(KubelineError):
    """The ``argo`` CLI is not installed where kubeline looks for it."""


class ArgoLintError(KubelineError):
    """``argo lint`` could not be run at all (bad input or the binary failed to start)."""


@dataclass(frozen=True)
class LintResult:
    """Outcome of one ``argo lint --offline`` run: ``ok`` and Argo's own messages, in order."""

    ok: bool
    messages: list[str] = field(default_factory=list)
    exit_code: int = 0


def cache_dir() -> Path:
    """Cache root shared with scripts/build-argo.sh: ``$KUBELINE_CACHE`` or ~/.cache/kubeline."""
    root = os.environ.get(ENV_CACHE)
    return Path(root) if root else Path.home() / ".cache" / "kubeline"


def cached_argo_path() -> Path:
    """Where scripts/build-argo.sh puts the binary for the pinned version."""
    return cache_dir() / f"argo-{ARGO_VERSION}" / "argo"


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_argo() -> Path | None:
    """Locate ``argo``: ``$KUBELINE_ARGO``, then the build cache, then ``PATH``; None if absent.

    An explicit ``$KUBELINE_ARGO`` that is not an executable file is an error rather than
    silently falling back, so a typo never lints with a different binary.
    """
    explicit = os.environ.get(ENV_ARGO)
    if explicit:
        path = Path(explicit).expanduser()
        if not _is_executable(path):
            raise ArgoNotFoundError(
                f"{ENV_ARGO}={explicit}: not an executable file",
                f"point it at an argo binary or unset it and run {BUILD_SCRIPT}",
            )
        return path
    cached = cached_argo_path()
    if _is_executable(cached):
        return cached
    on_path = shutil.which("argo")
    return Path(on_path) if on_path else None


def require_argo() -> Path:
    """Like find_argo(), but raise a one-line error naming the build script when absent."""
    argo = find_argo()
    if argo is None:
        raise ArgoNotFoundError(
            f"argo CLI not found ({ENV_ARGO} unset, not at {cached_argo_path()}, not on PATH)",
            f"build it with {BUILD_SCRIPT} or set {ENV_ARGO}=/path/to/argo",
        )
    return argo


def _offline_env(workdir: Path) -> dict[str, str]:
    """Environment with every way of reaching a cluster or Argo server removed.

    Offline lint never builds a client today; stripping these and pointing KUBECONFIG at an
    empty file keeps it that way even if the user's shell targets a real cluster.
    """
    env = {
        k: v for k, v in os.environ.items() if not (k.startswith("ARGO_") or k.startswith("KUBE"))
    }
    empty = workdir / "kubeconfig"
    empty.write_text("", encoding="utf-8")
    env["KUBECONFIG"] = str(empty)
    env["HOME"] = str(workdir)  # no ~/.kube/config, no ~/.config of the user
    return env


def lint_offline(paths: list[Path], argo: Path | None = None) -> LintResult:
    """Run ``argo lint --offline --output simple`` on files or directories of manifests.

    References between the given files (workflowTemplateRef) are resolved from those files
    only. ``messages`` holds Argo's lines (``<file>: in "<name>" (<Kind>): <problem>``) and
    anything it logged on stderr, e.g. YAML that does not parse.
    """
    if not paths:
        raise ArgoLintError("lint_offline: paths is empty", "pass at least one manifest file")
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise ArgoLintError(
            f"lint_offline: no such file: {', '.join(missing)}", "check the manifest paths"
        )
    binary = argo if argo is not None else require_argo()
    cmd = [
        str(binary),
        "lint",
        "--offline",
        "--output",
        "simple",
        "--no-color",
        *(str(Path(p).resolve()) for p in paths),
    ]
    with tempfile.TemporaryDirectory(prefix="kubeline-argo-lint-") as tmp:
        try:
            proc = subprocess.run(
                cmd,
                env=_offline_env(Path(tmp)),
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=_LINT_TIMEOUT_S,
                check=False,
            )
        except OSError as exc:
            raise ArgoLintError(
                f"cannot run {binary}: {exc.strerror or exc}", f"rebuild it with {BUILD_SCRIPT}"
            ) from None
        except subprocess.TimeoutExpired:
            raise ArgoLintError(
                f"argo lint did not finish within {_LINT_TIMEOUT_S}s", "lint fewer files at once"
            ) from None
    lines = [ln.rstrip() for ln in (proc.stdout + "\n" + proc.stderr).splitlines()]
    messages = [ln for ln in lines if ln.strip() and ln.strip() != _SUCCESS_SUMMARY]
    return LintResult(ok=proc.returncode == 0, messages=messages, exit_code=proc.returncode)
