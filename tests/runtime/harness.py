"""A step's container, on this machine: spec files, a local datastore and the shim as a
subprocess, with every root relocated by the KUBELINE_* environment variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kubeline.graph.model import Step
from kubeline.graph.stepspec import encode_step
from kubeline.reuse.keys import static_fingerprint
from kubeline.runtime.snapshots import publish
from kubeline.stores import Store, open_store
from kubeline.stores.config import LocalDatastore

SRC = str(Path(__file__).resolve().parents[2] / "src")


@dataclass
class Harness:
    """One pipeline's spec folder and datastores; ``run`` starts the shim for one step."""

    root: Path
    datastores: dict[str, dict[str, Any]] = field(default_factory=dict)
    default: str = "main"
    parameters: list[dict[str, Any]] = field(default_factory=list)
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.workspace = self.root / "workspace"
        self.spec_dir = self.root / "spec"
        self.inputs_dir = self.root / "inputs"
        self.out_dir = self.root / "out"
        self.work_root = self.root / "work"
        for folder in (self.workspace, self.spec_dir, self.inputs_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.datastores.setdefault(self.default, {"kind": "local", "path": "store"})

    # -- spec ---------------------------------------------------------------------------------
    def write_pipeline(self) -> None:
        data = {"name": "pipe", "id": "0123456789abcdef", "default_datastore": self.default,
                "datastores": self.datastores, "parameters": self.parameters}
        (self.spec_dir / "pipeline.json").write_text(json.dumps(data, indent=1))

    def source(self, files: dict[str, str], name: str = "src") -> tuple[str, Path]:
        """A source folder with these files, published as a snapshot; (hash, folder)."""
        folder = self.root / name
        for rel, text in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
        return publish(folder, (), self.store(self.default)), folder

    def add(self, step: Step, files: dict[str, str] | None = None) -> Step:
        """Write the step's spec file (publishing its source first when files are given)."""
        if files is not None:
            digest, _ = self.source(files, name=f"src-{step.id}")
            step = replace(step, snapshot=digest, source_directory=f"src-{step.id}")
        spec = encode_step(step, static_fingerprint(step))
        (self.spec_dir / f"step.{step.id}.json").write_text(json.dumps(spec, indent=1))
        self.write_pipeline()
        return step

    def store(self, name: str) -> Store:
        from kubeline.runtime.datastores import Datastores

        config = self.datastores.get(name)
        if config is None or config.get("kind") == "local":
            return open_store(name, LocalDatastore(path=(config or {}).get("path", "store")),
                              self.workspace)
        return Datastores(self.datastores, self.default, self.workspace).get(name)

    # -- running ------------------------------------------------------------------------------
    def shim_env(self, parameters: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBELINE_")}
        env.update({
            "PYTHONPATH": SRC,
            "KUBELINE_SPEC_DIR": str(self.spec_dir),
            "KUBELINE_INPUTS_DIR": str(self.inputs_dir),
            "KUBELINE_OUT_DIR": str(self.out_dir),
            "KUBELINE_WORKDIR": str(self.work_root),
            "KUBELINE_WORKSPACE": str(self.workspace),
            "KUBELINE_RUN_ID": self.run_id,
            "KUBELINE_WORKFLOW": "pipe-abcde",
        })
        if parameters is not None:
            env["KUBELINE_PARAMETERS"] = json.dumps(parameters, sort_keys=True)
        env.update(self.env)
        env.update(extra)
        return env

    def run(self, step_id: str, upstream: dict[str, str] | None = None, *,
            node: str | None = None, parameters: dict[str, str] | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        if node is not None:
            args = ["--node", node]
        else:
            ups = " ".join(f"{p}:{k}" for p, k in sorted((upstream or {}).items()))
            args = ["--step", step_id, "--upstream", ups]
        return subprocess.run([sys.executable, "-m", "kubeline.runtime", *args],
                              cwd=self.workspace, env=self.shim_env(parameters, **(env or {})),
                              capture_output=True, text=True, timeout=120, check=False)

    def key(self) -> str:
        return (self.out_dir / "key").read_text()

    def result(self, step_id: str, run_id: str | None = None) -> dict[str, Any]:
        key = f"kubeline/runs/{run_id or self.run_id}/steps/{step_id}/result.json"
        data: dict[str, Any] = json.loads(self.store(self.default).get_bytes(key))
        return data
