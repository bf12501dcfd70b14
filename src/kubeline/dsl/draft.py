"""PipelineDraft: a mutable, named pipeline that can be run and published (the SDK's class).

A draft keeps the compiled manifest of its pipeline, as a PublishedPipeline does, in
``<workspace>/.kubeline/drafts/<id>.json``; ``update(pipeline=...)`` recompiles it. A run of
a draft runs that stored manifest through the same path as ``Experiment.submit``; publishing
stores it as a new immutable PublishedPipeline.
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.dsl.stored import StoredObject
from kubeline.exceptions import KubelineError

if TYPE_CHECKING:
    from kubeline.dsl.pipeline import Pipeline
    from kubeline.dsl.pipeline_run import PipelineRun
    from kubeline.dsl.publish import PublishedPipeline
    from kubeline.dsl.workspace import Workspace

DRAFTS_DIR = "drafts"


class PipelineDraftError(KubelineError):
    """A draft that does not exist or cannot be changed as asked."""


def _compile(draft: dict[str, Any], pipeline: Pipeline) -> None:
    """Compile the pipeline into the draft: the job Experiment.submit would start."""
    from kubeline.dsl.experiment import Experiment, _prepare

    experiment = Experiment(pipeline.workspace, draft["experiment_name"])
    job = _prepare(experiment, pipeline, dict(draft["tags"]), False,
                   dict(draft["parameters_objects"]), draft["continue_on_step_failure"])
    draft["job"] = job


@aml_surface(surface("PipelineDraft"))
class PipelineDraft(StoredObject):
    """A pipeline kept under a name until it is good enough to publish."""

    FOLDER = DRAFTS_DIR

    def __init__(self, workspace: Workspace, data: dict[str, Any]) -> None:
        super().__init__(workspace, data)  # here, so the SDK's signature checks wrap it

    # --- the SDK's properties ----------------------------------------------------------
    @property
    def tags(self) -> dict[str, str]:
        return dict(self._data["tags"])

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._data["properties"])

    @property
    def experiment_name(self) -> str:
        return str(self._data["experiment_name"])

    @property
    def pipeline_parameters(self) -> dict[str, str]:
        return dict(self._data["job"]["parameters"])

    @property
    def continue_on_step_failure(self) -> bool | None:
        value = self._data["continue_on_step_failure"]
        return None if value is None else bool(value)

    @property
    def last_submitted_pipeline_run_id(self) -> str | None:
        return self._data.get("last_run_id")

    @property
    def status(self) -> str:
        return "Created" if not self._data.get("last_run_id") else "Submitted"

    # --- create, find ------------------------------------------------------------------
    @staticmethod
    def create(workspace: Workspace, pipeline: Pipeline, name: str | None = None,
               description: str | None = None, experiment_name: str | None = None,
               pipeline_parameters: Mapping[str, Any] | None = None,
               continue_on_step_failure: bool | None = None,
               tags: Mapping[str, str] | None = None,
               properties: Mapping[str, str] | None = None,
               _workflow_provider: Any = None, _service_endpoint: Any = None
               ) -> PipelineDraft:
        from kubeline.dsl.pipeline import Pipeline

        if not isinstance(pipeline, Pipeline):
            raise PipelineDraftError(f"PipelineDraft.create: pipeline is a "
                                     f"{type(pipeline).__name__}", "pass a Pipeline")
        data: dict[str, Any] = {
            "id": str(uuid.uuid4()), "name": name or "PipelineDraft",
            "description": description or "", "experiment_name": experiment_name or
            (name or "PipelineDraft"), "tags": dict(tags or {}),
            "properties": dict(properties or {}),
            "continue_on_step_failure": continue_on_step_failure,
            "parameters_objects": dict(pipeline_parameters or {}), "last_run_id": None,
        }
        _compile(data, pipeline)
        data.pop("parameters_objects")
        PipelineDraft._store(workspace, data)
        return PipelineDraft(workspace, data)

    @staticmethod
    def get(workspace: Workspace, id: str, _workflow_provider: Any = None,
            _service_endpoint: Any = None) -> PipelineDraft:
        path = PipelineDraft._folder(workspace) / f"{id}.json"
        if not path.is_file():
            raise PipelineDraftError(f"pipeline draft '{id}' does not exist in workspace "
                                     f"'{workspace.name}'", "list them with "
                                     "PipelineDraft.list(ws)")
        return PipelineDraft(workspace, json.loads(path.read_text(encoding="utf-8")))

    @staticmethod
    def list(workspace: Workspace, tags: Mapping[str, str] | None = None,
             _workflow_provider: Any = None, _service_endpoint: Any = None
             ) -> builtins.list[PipelineDraft]:
        """Drafts of the workspace (those carrying every tag given), oldest id first."""
        found = [PipelineDraft(workspace, data) for data in PipelineDraft._records(workspace)]
        wanted = dict(tags or {})
        return [d for d in found if all(d.tags.get(k) == v for k, v in wanted.items())]

    # --- change, run, publish ----------------------------------------------------------
    def update(self, pipeline: Pipeline | None = None, name: str | None = None,
               description: str | None = None, experiment_name: str | None = None,
               tags: Mapping[str, str] | None = None,
               pipeline_parameters: Mapping[str, Any] | None = None,
               continue_on_step_failure: bool | None = None) -> None:
        """Change what is given; a new pipeline (or new parameters) is compiled now."""
        data = dict(self._data)
        for key, value in (("name", name), ("description", description),
                           ("experiment_name", experiment_name),
                           ("continue_on_step_failure", continue_on_step_failure)):
            if value is not None:
                data[key] = value
        if tags is not None:
            data["tags"] = dict(tags)
        if pipeline is not None or pipeline_parameters is not None:
            if pipeline is None:
                raise PipelineDraftError("PipelineDraft.update: new pipeline_parameters need "
                                         "the pipeline too", "pass pipeline=... as well")
            data["parameters_objects"] = dict(pipeline_parameters or {})
            _compile(data, pipeline)
            data.pop("parameters_objects")
        elif "job" in data:
            data["job"] = {**data["job"], "info": {**data["job"]["info"],
                                                   "experiment": data["experiment_name"]}}
        self._store(self.workspace, data)
        self._data = data

    def submit_run(self) -> PipelineRun:
        """Run the draft's pipeline in its experiment (as Experiment.submit does)."""
        from kubeline.dsl.experiment import Experiment, start_job

        job = json.loads(json.dumps(self._data["job"]))
        job["info"]["experiment"] = self.experiment_name
        job["info"]["started_by"] = f"PipelineDraft.submit_run:{self.id}"
        run = start_job(Experiment(self.workspace, self.experiment_name), job)
        self._data["last_run_id"] = run.id
        self._persist()
        return run

    def publish(self) -> PublishedPipeline:
        """Store the draft's pipeline as an immutable PublishedPipeline."""
        from kubeline.dsl.publish import PublishedPipeline, _record, registry_of

        source = {"from": "PipelineDraft.publish", "draft_id": self.id,
                  "source": self._data["job"]["info"]["properties"].get("source", ""),
                  "git": self._data["job"]["info"].get("git")}
        record = _record(json.loads(json.dumps(self._data["job"]["docs"])), self.name,
                         self.description, None, self.continue_on_step_failure, source)
        registry_of(self.workspace).add_published(record)
        return PublishedPipeline(self.workspace, record)

    def delete(self) -> None:
        (self._folder(self.workspace) / f"{self.id}.json").unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"PipelineDraft(Name: {self.name}, Id: {self.id}, Status: {self.status})"
