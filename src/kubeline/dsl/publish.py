"""PublishedPipeline and PipelineEndpoint: the SDK's publishing API on the local registry.

Publishing compiles the pipeline once, uploads its source snapshots (content-addressed, so
later edits add new archives and never replace these) and stores the compiled manifest in
``<workspace>/.kubeline/serve.db``. Every run of a published pipeline, through
``submit`` here or the REST endpoint of ``kubeline serve``, runs that stored manifest: the
source can change afterwards without changing what the endpoint runs.
"""

from __future__ import annotations

import builtins
import json
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.exceptions import KubelineError
from kubeline.server.registry import (
    ACTIVE,
    DISABLED,
    EndpointRecord,
    ParameterInfo,
    PublishedRecord,
    Registry,
    utc_now,
)

if TYPE_CHECKING:
    from kubeline.dsl.pipeline import Pipeline
    from kubeline.dsl.pipeline_run import PipelineRun
    from kubeline.dsl.workspace import Workspace

DEFAULT_URL = "http://127.0.0.1:8765"
URL_ENV = "KUBELINE_SERVE_URL"


def serve_url() -> str:
    """Where ``kubeline serve`` answers (KUBELINE_SERVE_URL, else its default address)."""
    return os.environ.get(URL_ENV, DEFAULT_URL).rstrip("/")


def registry_of(workspace: Workspace) -> Registry:
    return Registry(workspace.state_dir)


# --- building a record -------------------------------------------------------------------


def parameters_of(docs: list[dict[str, Any]]) -> tuple[ParameterInfo, ...]:
    """The pipeline parameters the compiled spec declares (pipeline.json in the ConfigMap)."""
    from kubeline.graph.names import param_name

    for doc in docs:
        if doc.get("kind") == "ConfigMap" and "pipeline.json" in (doc.get("data") or {}):
            pipeline = json.loads(doc["data"]["pipeline.json"])
            return tuple(ParameterInfo(name=str(p["name"]), type=str(p["type"]),
                                       default=p.get("default"),
                                       argument=param_name(str(p["name"])))
                         for p in pipeline.get("parameters", []))
    return ()


def _continue_on_failure(docs: list[dict[str, Any]], value: bool) -> None:
    """AML's continue_on_step_failure on the DAG templates (failFast = not value)."""
    for doc in docs:
        if doc.get("kind") in ("Workflow", "WorkflowTemplate"):
            for tmpl in (doc.get("spec") or {}).get("templates") or []:
                if "dag" in tmpl:
                    tmpl["dag"]["failFast"] = not value


def _record(docs: list[dict[str, Any]], name: str | None, description: str | None,
            version: str | None, continue_on_step_failure: bool | None,
            source: dict[str, Any]) -> PublishedRecord:
    from kubeline.history.manifest import PipelineSpecInfo

    if not isinstance(name, str) or not name.strip():
        raise KubelineError("publish: name is empty", "give the published pipeline a name")
    if continue_on_step_failure is not None:
        _continue_on_failure(docs, bool(continue_on_step_failure))
    spec = PipelineSpecInfo.from_docs(docs)
    if not spec.is_kubeline:
        raise KubelineError("publish: the manifest is not a kubeline pipeline",
                            "publish a Pipeline or a run of one")
    pipeline_id = ""
    for doc in docs:
        annotations = (doc.get("metadata") or {}).get("annotations") or {}
        pipeline_id = pipeline_id or str(annotations.get("kubeline.io/pipeline-id", ""))
    return PublishedRecord(
        id=str(uuid.uuid4()), name=name, description=description or "",
        version="" if version is None else str(version), status=ACTIVE, pipeline=spec.name,
        pipeline_id=pipeline_id, continue_on_step_failure=continue_on_step_failure,
        parameters=parameters_of(docs), docs=docs, snapshots=spec.snapshots, source=source,
        created_at=utc_now())


def publish_pipeline(pipeline: Pipeline, name: str | None, description: str | None = None,
                     version: str | None = None,
                     continue_on_step_failure: bool | None = None) -> PublishedPipeline:
    """Pipeline.publish: compile now, upload snapshots, store the manifest."""
    from kubeline.compiler.api import publish_snapshots
    from kubeline.compiler.argo.workflow import compile_graph
    from kubeline.dsl.experiment import _cwd, pipeline_name
    from kubeline.reuse.snapshot import git_info

    pipeline.name = pipeline_name(pipeline)
    base_dir = Path(pipeline._base_dir)
    ws = pipeline.workspace
    with _cwd(base_dir):
        graph = pipeline.graph()
        publish_snapshots(graph, ws)
    docs = compile_graph(graph, ws.config, "workflow").documents
    git = git_info(base_dir)
    source = {"from": "Pipeline.publish", "source": str(base_dir),
              "git": None if git is None else {"commit": git.commit, "branch": git.branch,
                                               "dirty": git.dirty}}
    record = _record(docs, name, description, version, continue_on_step_failure, source)
    registry_of(ws).add_published(record)
    return PublishedPipeline(ws, record)


def publish_run(run: PipelineRun, name: str, description: str | None = None,
                version: str | None = None,
                continue_on_step_failure: bool | None = None) -> PublishedPipeline:
    """PipelineRun.publish_pipeline: the manifest that run ran (its snapshots included)."""
    from kubeline.history.db import History
    from kubeline.local.executor import manifest_mod_docs
    from kubeline.local.state import StateStore

    ws = run.experiment.workspace
    state_dir = Path(run._state_dir)
    with History(state_dir) as db:
        record = db.get_run(run.id)
    state = StateStore(state_dir)
    try:
        row = state.load_run(record.workflow)
    finally:
        state.close()
    docs = manifest_mod_docs(row["manifest"])
    source = {"from": "PipelineRun.publish_pipeline", "run_id": record.id,
              "source": record.properties.get("source", ""), "git": record.git}
    published = _record(docs, name, description, version, continue_on_step_failure, source)
    registry_of(ws).add_published(published)
    return PublishedPipeline(ws, published)


def _submit(workspace: Workspace, record: PublishedRecord, experiment_name: str,
            pipeline_parameters: Mapping[str, Any] | None, started_by: str,
            properties: dict[str, Any], tags: Mapping[str, Any] | None = None) -> PipelineRun:
    from kubeline.dsl.data import DataPath
    from kubeline.dsl.experiment import Experiment
    from kubeline.dsl.pipeline_run import PipelineRun
    from kubeline.server.body import RequestError, bind
    from kubeline.server.runs import RunStarter

    if record.status != ACTIVE:
        raise KubelineError(f"published pipeline '{record.name}' ({record.id}) is disabled",
                            "enable it with PublishedPipeline.enable()")
    experiment = Experiment(workspace, experiment_name)
    values: dict[str, Any] = {}
    paths: dict[str, dict[str, str]] = {}
    for key, value in (pipeline_parameters or {}).items():
        if isinstance(value, DataPath):
            store = value.datastore.name if value.datastore is not None else \
                workspace.config.default_datastore
            paths[key] = {"DataStoreName": store, "RelativePath": value.path_on_datastore}
        else:
            values[key] = value
    try:
        arguments = bind(record, values, paths, set(workspace.config.datastores),
                         where="pipeline_parameters")
    except RequestError as exc:
        raise KubelineError(exc.message, exc.hint) from None
    started = RunStarter(workspace.state_dir, workspace.root).start(
        record, experiment.name, arguments, started_by=started_by, properties=properties,
        tags={str(k): str(v) for k, v in (tags or {}).items()})
    return PipelineRun(experiment, started.id)


def _published(pipeline: Any, name: str, description: str, where: str) -> PublishedPipeline:
    """A PublishedPipeline as given, or a Pipeline published now."""
    from kubeline.dsl.pipeline import Pipeline

    if isinstance(pipeline, PublishedPipeline):
        return pipeline
    if isinstance(pipeline, Pipeline):
        return publish_pipeline(pipeline, name, description)
    raise KubelineError(f"{where}: pipeline is a {type(pipeline).__name__}",
                        "pass a PublishedPipeline or a Pipeline")


# --- the SDK classes -----------------------------------------------------------------------


class PipelineVersion:
    """One version of a pipeline endpoint and its published pipeline."""

    def __init__(self, version: str, pipeline: PublishedPipeline) -> None:
        self.version = version
        self.pipeline = pipeline

    @property
    def pipeline_id(self) -> str:
        return self.pipeline.id

    def __repr__(self) -> str:
        return f"PipelineVersion(version={self.version!r}, pipeline_id={self.pipeline.id!r})"


class PipelineVersionStr(str):
    """A version string that is also the SDK's PipelineVersion (``.version``, ``.pipeline``)."""

    _workspace: Workspace
    _published_id: str

    def __new__(cls, version: str, workspace: Workspace, published_id: str
                ) -> PipelineVersionStr:
        value = super().__new__(cls, version)
        value._workspace = workspace
        value._published_id = published_id
        return value

    @property
    def version(self) -> str:
        return str(self)

    @property
    def pipeline_id(self) -> str:
        return self._published_id

    @property
    def pipeline(self) -> PublishedPipeline:
        return PublishedPipeline.get(self._workspace, self._published_id)


@aml_surface(surface("PublishedPipeline"))
class PublishedPipeline:
    """An immutable, versioned pipeline with a REST endpoint (AML's PublishedPipeline)."""

    def __init__(self, workspace: Workspace, record: PublishedRecord) -> None:
        self.workspace = workspace
        self._record = record

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def description(self) -> str:
        return self._record.description

    @property
    def version(self) -> str:
        return self._record.version

    @property
    def status(self) -> str:
        return registry_of(self.workspace).get_published(self.id).status

    @property
    def endpoint(self) -> str:
        """The REST URL served by ``kubeline serve``."""
        return f"{serve_url()}/pipelines/{self.id}"

    @property
    def total_run_steps(self) -> int:
        """How many steps a run of this pipeline has."""
        from kubeline.history.manifest import PipelineSpecInfo

        return len(PipelineSpecInfo.from_docs(self._record.docs).steps)

    @property
    def graph_id(self) -> str:
        return self._record.pipeline_id

    @property
    def continue_on_step_failure(self) -> bool | None:
        return self._record.continue_on_step_failure

    @property
    def parameters(self) -> dict[str, Any]:
        return {p.name: p.default for p in self._record.parameters}

    @classmethod
    def get(cls, workspace: Workspace, id: str, **_aml_only: Any) -> PublishedPipeline:
        return cls(workspace, registry_of(workspace).get_published(id))

    @classmethod
    def list(cls, workspace: Workspace, active_only: bool = True, **_aml_only: Any
             ) -> list[PublishedPipeline]:
        return [cls(workspace, r) for r in registry_of(workspace).list_published(active_only)]

    def submit(self, workspace: Workspace, experiment_name: str,
               pipeline_parameters: Mapping[str, Any] | None = None,
               _workflow_provider: Any = None, _service_endpoint: Any = None,
               parent_run_id: str | None = None, continue_on_step_failure: bool | None = None,
               *, tags: Mapping[str, Any] | None = None) -> PipelineRun:
        """Start a run of this version; returns once the run is recorded."""
        record = registry_of(workspace).get_published(self.id)
        return _submit(workspace, record, experiment_name, pipeline_parameters,
                       f"PublishedPipeline.submit:{self.id}", {}, tags)

    def disable(self) -> None:
        registry_of(self.workspace).set_published_status(self.id, DISABLED)

    def enable(self) -> None:
        registry_of(self.workspace).set_published_status(self.id, ACTIVE)

    def __repr__(self) -> str:
        return (f"PublishedPipeline(Name: {self.name}, Id: {self.id}, Status: {self.status}, "
                f"Endpoint: {self.endpoint})")


@aml_surface(surface("PipelineEndpoint"))
class PipelineEndpoint:
    """A fixed URL routing to one of several published pipelines (AML's PipelineEndpoint)."""

    def __init__(self, workspace: Workspace, record: EndpointRecord) -> None:
        self.workspace = workspace
        self._record = record

    def _fresh(self) -> EndpointRecord:
        self._record = registry_of(self.workspace).get_endpoint(self._record.name)
        return self._record

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def description(self) -> str:
        return self._record.description

    @property
    def status(self) -> str:
        return self._fresh().status

    @property
    def default_version(self) -> str:
        return self._fresh().default_version

    @property
    def endpoint(self) -> str:
        """The REST URL by id, as AML's (``.../Id/<id>``; append ``/<version>`` for one
        version); ``kubeline serve`` also answers ``/pipelineEndpoints/<name>`` and AML's
        ``/pipelineEndpoints/Name?name=...&pipelineVersion=...``."""
        return f"{serve_url()}/pipelineEndpoints/Id/{self.id}"

    @classmethod
    def publish(cls, workspace: Workspace, name: str, description: str,
                pipeline: PublishedPipeline | Pipeline, _workflow_provider: Any = None,
                _service_endpoint: Any = None) -> PipelineEndpoint:
        """Create the endpoint with ``pipeline`` as version "0" (the default); a Pipeline is
        published first, under the endpoint's name, as the SDK does."""
        pipeline = _published(pipeline, name, description, "PipelineEndpoint.publish")
        record = registry_of(workspace).add_endpoint(name, str(uuid.uuid4()), description or "",
                                                     pipeline.id)
        return cls(workspace, record)

    @classmethod
    def get(cls, workspace: Workspace, id: str | None = None, name: str | None = None,
            **_aml_only: Any) -> PipelineEndpoint:
        if id is None and name is None:
            raise KubelineError("PipelineEndpoint.get: give id or name")
        return cls(workspace, registry_of(workspace).get_endpoint(name, id))

    @classmethod
    def list(cls, workspace: Workspace, active_only: bool = True, max_results: int = 100,
             _workflow_provider: Any = None, _service_endpoint: Any = None
             ) -> list[PipelineEndpoint]:
        found = registry_of(workspace).list_endpoints(active_only)
        return [cls(workspace, r) for r in found[:max_results]]

    @property
    def pipeline_version_list(self) -> builtins.list[PipelineVersionStr]:
        return self.list_versions()

    def add(self, pipeline: PublishedPipeline) -> str:
        """Add a version without making it the default; returns the version."""
        pipeline = _published(pipeline, self.name, self.description, "PipelineEndpoint.add")
        return registry_of(self.workspace).add_endpoint_version(self.name, pipeline.id, False)

    def add_default(self, pipeline: PublishedPipeline) -> str:
        """Add a version and make it the default; returns the version."""
        pipeline = _published(pipeline, self.name, self.description,
                              "PipelineEndpoint.add_default")
        return registry_of(self.workspace).add_endpoint_version(self.name, pipeline.id, True)

    def set_default(self, pipeline: PublishedPipeline) -> None:
        """Make this published pipeline the default version (adding it if it is not one)."""
        self.add_default(pipeline)

    def set_name(self, name: str, _workflow_provider: Any = None,
                 _service_endpoint: Any = None) -> None:
        """Rename the endpoint; its REST URL changes with the name, its id stays."""
        registry_of(self.workspace).rename_endpoint(self.name, name)
        self._record = registry_of(self.workspace).get_endpoint(name)

    def set_description(self, description: str) -> None:
        registry_of(self.workspace).set_endpoint_description(self.name, description)
        self._fresh()

    def list_pipeline_versions(self) -> builtins.list[PipelineVersion]:
        """Each version with its PublishedPipeline (the SDK's list_versions objects)."""
        record = self._fresh()
        return [PipelineVersion(v, PublishedPipeline.get(self.workspace, record.versions[v]))
                for v in self.list_versions()]

    def set_default_version(self, version: str) -> None:
        registry_of(self.workspace).set_endpoint_default(self.name, str(version))

    def get_default_version(self) -> str:
        return self.default_version

    def list_versions(self) -> builtins.list[PipelineVersionStr]:
        """The versions, in order; each also has ``.version`` and ``.pipeline`` as the SDK's
        PipelineVersion objects have."""
        record = self._fresh()
        return [PipelineVersionStr(v, self.workspace, record.versions[v])
                for v in sorted(record.versions, key=lambda v: (len(v), v))]

    def get_pipeline(self, version: str | None = None) -> PublishedPipeline:
        record = self._fresh()
        chosen = record.default_version if version is None else str(version)
        if chosen not in record.versions:
            raise KubelineError(f"pipeline endpoint '{self.name}' has no version '{chosen}'",
                                f"its versions are {', '.join(self.list_versions())}")
        return PublishedPipeline.get(self.workspace, record.versions[chosen])

    def list_pipelines(self, active_only: bool = True) -> builtins.list[PublishedPipeline]:
        record = self._fresh()
        found = [PublishedPipeline.get(self.workspace, record.versions[v])
                 for v in self.list_versions()]
        return [p for p in found if p.status == ACTIVE or not active_only]

    def submit(self, experiment_name: str, pipeline_parameters: Mapping[str, Any] | None = None,
               pipeline_version: str | None = None, *, tags: Mapping[str, Any] | None = None
               ) -> PipelineRun:
        record = self._fresh()
        if record.status != ACTIVE:
            raise KubelineError(f"pipeline endpoint '{self.name}' is disabled",
                                "enable it with PipelineEndpoint.enable()")
        published = self.get_pipeline(pipeline_version)
        return _submit(self.workspace, published._record, experiment_name, pipeline_parameters,
                       f"PipelineEndpoint.submit:{self.name}",
                       {"pipeline_endpoint": self.name,
                        "pipeline_version": pipeline_version or record.default_version}, tags)

    def disable(self) -> None:
        registry_of(self.workspace).set_endpoint_status(self.name, DISABLED)

    def enable(self) -> None:
        registry_of(self.workspace).set_endpoint_status(self.name, ACTIVE)

    def __repr__(self) -> str:
        return f"PipelineEndpoint(Name: {self.name}, Id: {self.id}, Endpoint: {self.endpoint})"
