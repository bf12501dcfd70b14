"""Experiment: a named group of runs; ``submit`` compiles a pipeline and starts it locally.

``Experiment(ws, name).submit(pipeline)`` compiles in this process, publishes the source
snapshots, and starts the local executor in a background process that records the run in
``<workspace>/.kubeline/history.db``; it returns a PipelineRun at once. Under
``kubeline run pipeline.py`` the same call runs the pipeline in the foreground instead, with
the command's options (see ``foreground``), so both ways produce the same run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.exceptions import KubelineError

if TYPE_CHECKING:
    from kubeline.cluster.follow import RunEnd
    from kubeline.dsl.pipeline import Pipeline
    from kubeline.dsl.pipeline_run import PipelineRun
    from kubeline.dsl.workspace import Workspace
    from kubeline.graph.model import PipelineGraph
    from kubeline.local.executor import Reporter
    from kubeline.local.summary import RunSummary

_LOG = logging.getLogger("kubeline.submit")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")


@dataclass
class Foreground:
    """``kubeline run FILE.py`` options applied to the submissions the file makes."""

    parameters: dict[str, str]
    reporter: Reporter | None
    parallelism: int | None
    state_dir: Path | None
    runs: list[tuple[RunSummary | RunEnd, str]] = field(default_factory=list)
    target: str | None = None  # "cluster" / "local" (kubeline run --cluster / --local)


_FOREGROUND: list[Foreground] = []


@contextlib.contextmanager
def foreground(options: Foreground) -> Iterator[Foreground]:
    """While active, submit() runs pipelines in this process and blocks until they end."""
    _FOREGROUND.append(options)
    try:
        yield options
    finally:
        _FOREGROUND.pop()


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


@aml_surface(surface("Experiment"))
class Experiment:
    """A named group of pipeline runs in a workspace (AML's Experiment)."""

    name: str
    workspace: Workspace

    def __init__(self, workspace: Workspace, name: str, _skip_name_validation: bool = False,
                 **_aml_only: Any) -> None:
        if not _skip_name_validation and not _NAME.match(str(name)):
            raise KubelineError(
                f"Experiment name {name!r} is not valid",
                "use 1-255 letters, digits, '_' or '-', starting with a letter or digit")
        self.workspace = workspace
        self.name = str(name)

    @property
    def id(self) -> str:
        return self.name

    @classmethod
    def list(cls, workspace: Workspace, experiment_name: str | None = None,
             **_aml_only: Any) -> list[Experiment]:
        """Experiments with runs in the workspace's history, by name."""
        from kubeline.history.db import HISTORY_FILE, History

        if not (workspace.state_dir / HISTORY_FILE).exists():
            return []
        with History(workspace.state_dir) as db:
            names = db.experiments()
        return [cls(workspace, n, _skip_name_validation=True) for n in names
                if experiment_name in (None, n)]

    def get_runs(self, **_aml_only: Any) -> Iterator[PipelineRun]:
        """This experiment's runs, newest first."""
        from kubeline.dsl.pipeline_run import PipelineRun
        from kubeline.history.db import HISTORY_FILE, History

        if not (self.workspace.state_dir / HISTORY_FILE).exists():
            return iter(())
        with History(self.workspace.state_dir) as db:
            ids = [r.id for r in db.list_runs(self.name)]
        return (PipelineRun(self, run_id) for run_id in ids)

    def submit(self, config: Any, tags: Mapping[str, Any] | None = None,
               regenerate_outputs: bool = False,
               pipeline_parameters: Mapping[str, Any] | None = None,
               continue_on_step_failure: bool | None = None,
               content_aware: bool = False,
               **kwargs: Any) -> PipelineRun:
        """Compile the pipeline and start it; returns the PipelineRun (already in the history).

        ``content_aware`` (a kubeline addition) adds the current version of each DataReference
        input to its step's cache key, so changed data at an unchanged path reruns the step.
        """
        from kubeline.dsl.pipeline import Pipeline
        from kubeline.dsl.publish import PipelineEndpoint, PublishedPipeline

        kwargs.pop("credential_passthrough", None)
        version = kwargs.pop("pipeline_version", None)
        if kwargs:
            unknown = ", ".join(sorted(kwargs))
            raise KubelineError(f"Experiment.submit: unknown argument(s) {unknown}",
                                "see reference/API.md for submit's arguments")
        if isinstance(config, PipelineEndpoint):  # the SDK's submit of an endpoint version
            return config.submit(self.name, pipeline_parameters, version, tags=tags)
        if version is not None:
            raise KubelineError("Experiment.submit: pipeline_version is only for a "
                                "PipelineEndpoint", "drop it, or submit the endpoint")
        if isinstance(config, PublishedPipeline):
            return config.submit(self.workspace, self.name, pipeline_parameters, tags=tags)
        from kubeline.dsl.hyperdrive_config import HyperDriveConfig

        if isinstance(config, HyperDriveConfig):  # a sweep on its own: AML's HyperDriveRun
            from kubeline.dsl.hyperdrive_run import submit_hyperdrive

            if pipeline_parameters:
                raise KubelineError("Experiment.submit: pipeline_parameters do not apply to a "
                                    "HyperDriveConfig", "put the values in the "
                                    "ScriptRunConfig's arguments")
            return submit_hyperdrive(self, config, tags)
        if not isinstance(config, Pipeline):
            raise KubelineError(f"Experiment.submit: config is a {type(config).__name__}",
                                "pass a Pipeline, PublishedPipeline, PipelineEndpoint or "
                                "HyperDriveConfig")
        job = _prepare(self, config, dict(tags or {}), bool(regenerate_outputs),
                       dict(pipeline_parameters or {}), continue_on_step_failure,
                       for_cluster=submits_to_cluster(self.workspace))
        job["info"]["content_aware"] = bool(content_aware)
        _warn_missing_packages(config)
        return start_job(self, job)

    def __repr__(self) -> str:
        return f"Experiment(Name: {self.name}, Workspace: {self.workspace.name})"


def _warn_missing_packages(pipeline: Pipeline) -> None:
    """One line per step whose declared pip/conda packages this interpreter lacks: local
    steps run with it (nothing is installed), a cluster runs the step's image."""
    from kubeline.dsl.runconfig import RunConfiguration, missing_packages

    for step in pipeline.steps:
        runconfig = step.runconfig if isinstance(step.runconfig, RunConfiguration) else None
        missing = missing_packages(runconfig)
        if missing:
            _LOG.warning("kubeline: step '%s' declares %s, not installed where local steps run "
                         "(%s): pip install %s; on a cluster its image must hold them",
                         step.name, ", ".join(missing), sys.executable, " ".join(missing))


def start_job(experiment: Experiment, job: dict[str, Any]) -> PipelineRun:
    """Run a prepared job (``_prepare``): in the foreground under ``kubeline run``, else in a
    background runner; returns the PipelineRun once it is in the history."""
    from kubeline.dsl.pipeline_run import PipelineRun

    ws = experiment.workspace
    if job.get("target") == "cluster":
        return _start_on_cluster(experiment, job)
    if _FOREGROUND:
        fg = _FOREGROUND[-1]
        from kubeline.history.manifest import RunInfo
        from kubeline.local.recorder import run_with_history

        state_dir = fg.state_dir or ws.state_dir
        job["info"]["started_by"] = "kubeline run"
        with _cwd(ws.root):
            summary, run_id = run_with_history(
                job["docs"], parameters={**job["parameters"], **fg.parameters},
                state_dir=state_dir, info=RunInfo(**job["info"]),
                parallelism=fg.parallelism, reporter=fg.reporter)
        fg.runs.append((summary, run_id))
        return PipelineRun(experiment, run_id, _state_dir=state_dir)
    from kubeline.local import background

    job["state_dir"] = str(ws.state_dir.resolve())
    process, run_id, _workflow = background.start(job, ws.state_dir, ws.root)
    return PipelineRun(experiment, run_id, _process=process)


def submits_to_cluster(workspace: Workspace) -> bool:
    """Where submit sends runs: ``kubeline run --cluster/--local`` when given, else
    ``KUBELINE_SUBMIT`` (cluster or local), else kubeline.yaml's ``cluster.submit``."""
    if _FOREGROUND and _FOREGROUND[-1].target:
        return _FOREGROUND[-1].target == "cluster"
    env = os.environ.get("KUBELINE_SUBMIT", "").strip().lower()
    if env in ("cluster", "local"):
        return env == "cluster"
    return bool(workspace.config.cluster.submit)


def _start_on_cluster(experiment: Experiment, job: dict[str, Any]) -> PipelineRun:
    """Create the run on the workspace's cluster (kubeline.dsl.cluster_runs): followed here
    under ``kubeline run``, else by a follower process; the PipelineRun once recorded."""
    from kubeline.dsl.cluster_runs import submit_job
    from kubeline.dsl.pipeline_run import PipelineRun

    ws = experiment.workspace
    if _FOREGROUND:
        fg = _FOREGROUND[-1]
        state_dir = fg.state_dir or ws.state_dir
        job["info"]["started_by"] = "kubeline run"
        run_id, end, _ = submit_job(ws, job, state_dir, {**job["parameters"], **fg.parameters},
                                    fg.reporter, foreground=True)
        assert end is not None  # followed to its end here
        fg.runs.append((end, run_id))
        return PipelineRun(experiment, run_id, _state_dir=state_dir)
    run_id, _, process = submit_job(ws, job, ws.state_dir, job["parameters"], None,
                                    foreground=False)
    return PipelineRun(experiment, run_id, _process=process)


def pipeline_name(pipeline: Pipeline) -> str:
    """The name ``kubeline run``'s loader would give the pipeline of the ``__main__`` file."""
    if pipeline.name != "pipeline":
        return pipeline.name
    main = sys.modules.get("__main__")
    file = getattr(main, "__file__", None)
    if not file:
        return pipeline.name
    from kubeline.compiler.loader import _GENERIC_STEMS
    from kubeline.dsl.pipeline import Pipeline

    path = Path(file).resolve()
    base = path.parent.name if path.stem in _GENERIC_STEMS else path.stem
    found = {n: v for n, v in vars(main).items()
             if isinstance(v, Pipeline) and not n.startswith("_")}
    for name, value in found.items():
        if value is pipeline:
            return base if len(found) == 1 else f"{base}-{name}"
    return pipeline.name  # built elsewhere (a notebook, a test): keep its name


def _parameter_values(graph: PipelineGraph, values: Mapping[str, Any]) -> dict[str, str]:
    """pipeline_parameters as workflow argument strings (the compiler's encoding)."""
    from kubeline.datasets.objects import AbstractDataset
    from kubeline.dsl.data import DataPath

    known = {p.name for p in graph.parameters}
    unknown = sorted(set(values) - known)
    if unknown:
        raise KubelineError(
            f"submit: pipeline_parameters {', '.join(unknown)} not in pipeline '{graph.name}'",
            f"its parameters are: {', '.join(sorted(known)) or 'none'}")
    out: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, DataPath):
            store = value.datastore.name if value.datastore is not None else graph.default_datastore
            out[name] = json.dumps({"datastore": store, "path": value.path_on_datastore},
                                   sort_keys=True)
        elif isinstance(value, AbstractDataset):  # a dataset parameter: its definition
            out[name] = value.spec.to_json()
        else:
            out[name] = str(value)
    return out


def _continue_on_failure(docs: list[dict[str, Any]], value: bool) -> None:
    """AML's continue_on_step_failure on the DAG templates: False stops starting steps after
    the first failure (the template-level failFast, which stops creating children; the DAG's
    own failFast only decides its phase), True lets independent steps go on."""
    for doc in docs:
        if doc.get("kind") not in ("Workflow", "WorkflowTemplate"):
            continue
        for tmpl in (doc.get("spec") or {}).get("templates") or []:
            if "dag" in tmpl:
                tmpl["failFast"] = not value


def _prepare(experiment: Experiment, pipeline: Pipeline, tags: dict[str, Any],
             regenerate: bool, parameters: dict[str, Any],
             continue_on_step_failure: bool | None, for_cluster: bool = False
             ) -> dict[str, Any]:
    """Compile, publish snapshots, and describe the run for the runner (a JSON-able job).
    For a cluster the manifest is the one ``kubeline compile`` writes (the workspace's
    argo_memoize); locally memoize is always on."""
    from kubeline.compiler.api import local_compile, publish_snapshots
    from kubeline.compiler.cache import compile_cached
    from kubeline.reuse.snapshot import git_info

    pipeline.name = pipeline_name(pipeline)
    base_dir = Path(pipeline._base_dir)
    with _cwd(base_dir):
        graph = pipeline.graph()
        publish_snapshots(graph, pipeline.workspace)
    cache = pipeline.workspace.state_dir / "cache" / "compiled"
    if for_cluster:
        docs = compile_cached(graph, pipeline.workspace.config, "workflow", cache).documents
    else:
        with local_compile():
            docs = compile_cached(graph, pipeline.workspace.config, "workflow", cache,
                                  memoize=True).documents  # local: reused steps start no process
    if continue_on_step_failure is not None:
        _continue_on_failure(docs, continue_on_step_failure)
    git = git_info(base_dir)
    return {
        "target": "cluster" if for_cluster else "local",
        "docs": docs,
        "parameters": _parameter_values(graph, parameters),
        "info": {
            "started_by": "Experiment.submit",
            "experiment": experiment.name,
            "tags": {str(k): v if isinstance(v, (int, float, bool)) or v is None else str(v)
                     for k, v in tags.items()},
            "git": None if git is None else {"commit": git.commit, "branch": git.branch,
                                             "dirty": git.dirty},
            "properties": {"continue_on_step_failure": continue_on_step_failure,
                           "source": str(base_dir),
                           "pipeline_id": _pipeline_id(docs)},
            "regenerate_outputs": regenerate,
            "workspace": str(pipeline.workspace.root),
        },
    }


def _pipeline_id(docs: list[dict[str, Any]]) -> str:
    for doc in docs:
        annotations = (doc.get("metadata") or {}).get("annotations") or {}
        if "kubeline.io/pipeline-id" in annotations:
            return str(annotations["kubeline.io/pipeline-id"])
    return ""
