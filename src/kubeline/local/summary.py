"""The result of a run: the workflow's phase and every node (``kubeline run --json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.local.nodes import Node

if TYPE_CHECKING:
    from kubeline.local.artifacts import Repository


@dataclass
class NodeSummary:
    """One Argo node: what a user and the tests look at."""

    id: str
    name: str
    display_name: str
    type: str
    template_name: str
    phase: str
    message: str
    attempts: int | None
    exit_code: int | None
    output_parameters: dict[str, str]
    output_artifacts: list[dict[str, str]]
    memoized: bool
    started_at: str
    finished_at: str
    log_dir: str
    image: str
    children: list[str] = field(default_factory=list)
    result: str | None = None
    start_seq: int = 0
    finish_seq: int = 0

    def logs(self) -> str:
        """The main container's stdout then stderr (Argo's pod log, without interleaving)."""
        if not self.log_dir:
            return ""
        parts = []
        for name in ("main.stdout", "main.stderr"):
            p = Path(self.log_dir) / name
            if p.exists():
                parts.append(p.read_text(errors="replace"))
        return "".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "displayName": self.display_name,
            "type": self.type,
            "templateName": self.template_name,
            "phase": self.phase,
            "message": self.message,
            "attempts": self.attempts,
            "exitCode": self.exit_code,
            "outputParameters": self.output_parameters,
            "outputArtifacts": self.output_artifacts,
            "memoized": self.memoized,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "logDir": self.log_dir,
            "image": self.image,
            "children": self.children,
            "startSeq": self.start_seq,
            "finishSeq": self.finish_seq,
        }


@dataclass
class RunSummary:
    """A finished (or stopped) run."""

    id: str
    phase: str
    message: str
    nodes: list[NodeSummary]
    outputs: dict[str, Any]
    state_dir: str
    artifacts_dir: str
    sandbox: str
    started_at: str
    finished_at: str

    @property
    def processes_started(self) -> int:
        """How many node processes this run has started in total (across resumes)."""
        return sum(n.attempts or 0 for n in self.nodes if n.type == "Pod")

    def node(self, display_name: str) -> NodeSummary:
        """The node with this display name (raises KeyError if none or several)."""
        found = [n for n in self.nodes if n.display_name == display_name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} nodes named {display_name!r}")
        return found[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "phase": self.phase,
            "message": self.message,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "sandbox": self.sandbox,
            "stateDir": self.state_dir,
            "artifactsDir": self.artifacts_dir,
            "processesStarted": self.processes_started,
            "outputs": self.outputs,
            "nodes": [n.to_json() for n in self.nodes],
        }

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=False)


def _exit_code(node: Node) -> int | None:
    if node.outputs is None or node.outputs.exit_code is None:
        return None
    try:
        return int(node.outputs.exit_code)
    except ValueError:
        return None


def build_summary(
    *,
    run_id: str,
    phase: str,
    message: str,
    nodes: list[Node],
    outputs: dict[str, Any],
    state_dir: Path,
    repo: Repository,
    sandbox: str,
    started_at: str,
    finished_at: str,
) -> RunSummary:
    out: list[NodeSummary] = []
    for n in nodes:
        if n.type == "Retry":
            attempts: int | None = len(n.children)
        elif n.type == "Pod":
            attempts = n.process_starts
        else:
            attempts = None
        params = {}
        arts = []
        if n.outputs is not None:
            params = {str(p["name"]): str(p.get("value", "")) for p in n.outputs.parameters}
            arts = [
                {"name": str(a["name"]), "location": repo.describe(a)} for a in n.outputs.artifacts
            ]
        out.append(
            NodeSummary(
                id=n.id,
                name=n.name,
                display_name=n.display_name,
                type=n.type,
                template_name=n.template_name,
                phase=n.phase,
                message=n.message,
                attempts=attempts,
                exit_code=_exit_code(n),
                output_parameters=params,
                output_artifacts=arts,
                memoized=bool(n.memoization and n.memoization.get("hit")),
                started_at=n.started_at,
                finished_at=n.finished_at,
                log_dir=n.log_path,
                image=n.image,
                children=list(n.children),
                result=n.outputs.result if n.outputs else None,
                start_seq=n.start_seq,
                finish_seq=n.finish_seq,
            )
        )
    return RunSummary(
        id=run_id,
        phase=phase,
        message=message,
        nodes=out,
        outputs=outputs,
        state_dir=str(state_dir),
        artifacts_dir=str(repo.root),
        sandbox=sandbox,
        started_at=started_at,
        finished_at=finished_at,
    )
