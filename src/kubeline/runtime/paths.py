"""The shim's local roots and run identity, from the environment the compiler sets.

Every absolute root has an environment override so the local executor and the tests can
relocate a step's files; the defaults are the paths the compiled Argo templates use.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

_INDEXED = "KUBELINE_PARAM_"


@dataclass(frozen=True)
class RuntimeEnv:
    """What a step's container tells the shim about where it is and which run it belongs to."""

    spec_dir: Path
    inputs_dir: Path
    out_dir: Path
    work_root: Path
    workspace: Path
    run_id: str
    workflow: str
    node: str
    parameters: str | None
    indexed_parameters: dict[int, str]
    regenerate: bool
    content_aware: bool
    keep_workdir: bool
    experiment: str

    @staticmethod
    def from_environ(environ: dict[str, str] | None = None) -> RuntimeEnv:
        env = dict(os.environ if environ is None else environ)
        workflow = env.get("KUBELINE_WORKFLOW", "")
        return RuntimeEnv(
            spec_dir=Path(env.get("KUBELINE_SPEC_DIR", "/kubeline/spec")),
            inputs_dir=Path(env.get("KUBELINE_INPUTS_DIR", "/kubeline/inputs")),
            out_dir=Path(env.get("KUBELINE_OUT_DIR", "/kubeline/out")),
            work_root=Path(env.get("KUBELINE_WORKDIR")
                           or Path(tempfile.gettempdir()) / "kubeline"),
            workspace=Path(env.get("KUBELINE_WORKSPACE") or os.getcwd()),
            run_id=env.get("KUBELINE_RUN_ID", ""),
            workflow=workflow,
            node=env.get("KUBELINE_NODE", ""),
            parameters=env.get("KUBELINE_PARAMETERS"),
            indexed_parameters={int(k[len(_INDEXED):]): v for k, v in env.items()
                                if k.startswith(_INDEXED) and k[len(_INDEXED):].isdigit()},
            regenerate=_is_true(env.get("KUBELINE_REGENERATE_OUTPUTS", "")),
            content_aware=_is_true(env.get("KUBELINE_CONTENT_AWARE", "")),
            keep_workdir=_truthy(env.get("KUBELINE_KEEP_WORKDIR", "")),
            experiment=env.get("KUBELINE_EXPERIMENT", ""),
        )


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


TRUE_WORDS = ("true", "1", "yes", "on")


def _is_true(value: str) -> bool:
    """The run switches (regenerate, content-aware): exactly what the memoize key expression
    tests (``lower(trim(value)) in TRUE_WORDS``), so the controller and the shim agree."""
    return value.strip().lower() in TRUE_WORDS
