"""What a run's history record starts from: the compiled manifest (its kubeline pipeline,
steps and snapshots) and what the starter of the run knows that the manifest does not.

Every backend starts a record the same way (``new_run``), so a run looks the same in the
history whichever backend ran it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubeline.graph.names import CONTENT_AWARE_PARAMETER as CONTENT_AWARE_PARAMETER
from kubeline.graph.names import REGENERATE_PARAMETER as REGENERATE_PARAMETER
from kubeline.graph.stepspec import unpack
from kubeline.history.db import NewRun

CONTENT_AWARE_ENV = "KUBELINE_CONTENT_AWARE"
"""Set to true in the environment of a submitting process: its runs are content-aware."""
INTERNAL_PREFIX = "kubeline-"


@dataclass(frozen=True)
class PipelineSpecInfo:
    """What the compiled manifest says about the kubeline pipeline inside it (if any)."""

    name: str
    default_datastore: str
    datastores: dict[str, dict[str, Any]]
    steps: list[tuple[str, str]]
    snapshots: dict[str, str]
    base_name: str
    # resource templates that watch or clean up what another pod of the step did (a
    # SparkApplication's get and delete): their pods never stand for the step's work
    control_templates: frozenset[str] = frozenset()

    @staticmethod
    def from_docs(docs: list[dict[str, Any]]) -> PipelineSpecInfo:
        files: dict[str, str] = {}
        workflow: dict[str, Any] = {}
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            if doc.get("kind") == "ConfigMap":
                files.update({str(k): str(v) for k, v in (doc.get("data") or {}).items()})
            elif doc.get("kind") in ("Workflow", "WorkflowTemplate"):
                workflow = doc
        meta = workflow.get("metadata") or {}
        base = str(meta.get("name") or meta.get("generateName") or "workflow").rstrip("-")
        annotations = meta.get("annotations") or {}
        pipeline = json.loads(files["pipeline.json"]) if "pipeline.json" in files else None
        control = _control_templates(workflow)
        if pipeline is None:
            return PipelineSpecInfo(base, "", {}, [], {}, base, control)
        names: dict[str, str] = json.loads(annotations.get("kubeline.io/step-names", "{}"))
        defaults = dict(pipeline.get("step_defaults") or {})
        store = str(pipeline.get("default_datastore", ""))
        specs = {k[5:-5]: unpack(k[5:-5], json.loads(v), defaults, store)
                 for k, v in files.items() if k.startswith("step.") and k.endswith(".json")}
        order = [s for s in _dag_order(workflow) if s in specs]
        order += sorted(s for s in specs if s not in order)
        return PipelineSpecInfo(
            name=str(annotations.get("kubeline.io/pipeline-name") or pipeline.get("name") or base),
            default_datastore=str(pipeline.get("default_datastore", "")),
            datastores=dict(pipeline.get("datastores", {})),
            steps=[(s, names.get(s) or str(specs[s].get("name") or s)) for s in order],
            snapshots={s: str(specs[s]["snapshot"]) for s in order if specs[s].get("snapshot")},
            base_name=base,
            control_templates=control,
        )

    @property
    def is_kubeline(self) -> bool:
        return bool(self.default_datastore)


def _control_templates(workflow: dict[str, Any]) -> frozenset[str]:
    """Resource templates other than create/apply: their logs and exit codes are about
    watching or deleting, not about the step's work."""
    return frozenset(
        str(t.get("name")) for t in (workflow.get("spec") or {}).get("templates") or []
        if isinstance(t.get("resource"), dict)
        and str(t["resource"].get("action", "")) not in ("create", "apply"))


def _dag_order(workflow: dict[str, Any]) -> list[str]:
    """Task names in the order the DAG templates list them (the compiler's topological order)."""
    out: list[str] = []
    for tmpl in (workflow.get("spec") or {}).get("templates") or []:
        for task in (tmpl.get("dag") or {}).get("tasks") or []:
            name = str(task.get("name", ""))
            if name and name not in out:
                out.append(name)
    return out


@dataclass
class RunInfo:
    """What the starter of a run knows that the manifest does not."""

    started_by: str
    experiment: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    git: dict[str, Any] | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    regenerate_outputs: bool = False
    workspace: str | None = None
    content_aware: bool = False  # DataReference inputs' ETags enter their steps' keys


def effective_parameters(docs: list[dict[str, Any]], overrides: Mapping[str, str]
                         ) -> dict[str, str]:
    """Workflow argument values after -p overrides (what the run uses)."""
    values: dict[str, str] = {}
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") in ("Workflow", "WorkflowTemplate"):
            for p in ((doc.get("spec") or {}).get("arguments") or {}).get("parameters") or []:
                value = p.get("value", p.get("default"))
                values[str(p.get("name"))] = "" if value is None else str(value)
    values.update({k: str(v) for k, v in overrides.items()})
    return values


def new_run(spec: PipelineSpecInfo, *, run_id: str, workflow: str, experiment: str,
            started_by: str, parameters: Mapping[str, str], tags: Mapping[str, Any],
            git: Mapping[str, Any] | None, properties: Mapping[str, Any], workspace: Path,
            state_dir: Path, runner_pid: int | None) -> NewRun:
    """The record of a run about to start: parameters without kubeline's internal ones,
    the manifest's steps and snapshots, and where its data and state live."""
    return NewRun(
        id=run_id, experiment=experiment, pipeline=spec.name, workflow=workflow,
        started_by=started_by,
        parameters={k: v for k, v in parameters.items() if not k.startswith(INTERNAL_PREFIX)},
        tags=dict(tags), snapshots=spec.snapshots, git=git,
        properties={
            **properties,
            "default_datastore": spec.default_datastore,
            "datastores": spec.datastores,
            "workspace": str(workspace),
            "state_dir": str(state_dir),
        },
        steps=spec.steps,
        runner_pid=runner_pid,
    )
