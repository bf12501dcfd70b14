"""Pipeline: the steps to run. ``graph()`` turns the DSL objects into a PipelineGraph."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline._gc import paused_gc
from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.compiler.source import PipelineSource
from kubeline.dsl.builder import GraphBuilder
from kubeline.dsl.sequence import StepSequence
from kubeline.dsl.steps import PipelineStep
from kubeline.exceptions import KubelineError, ValidationError

if TYPE_CHECKING:
    from kubeline.dsl.datastore import Datastore
    from kubeline.dsl.publish import PublishedPipeline
    from kubeline.dsl.workspace import Workspace
    from kubeline.graph.model import PipelineGraph


def flatten_steps(steps: Iterable[Any]) -> list[PipelineStep]:
    """Steps in the order given, nested lists flattened, each step once."""
    out: list[PipelineStep] = []
    seen: set[int] = set()

    def visit(item: Any) -> None:
        if isinstance(item, PipelineStep):
            if id(item) not in seen:
                seen.add(id(item))
                out.append(item)
        elif isinstance(item, (list, tuple)):
            for child in item:
                visit(child)
        elif isinstance(item, StepSequence):
            visit(item.steps)
        else:
            raise KubelineError(f"Pipeline steps: {item!r} is not a step",
                                "pass steps, lists of steps or a StepSequence")

    visit(steps)
    return out


@aml_surface(surface("Pipeline"))
class Pipeline(PipelineSource):
    """A set of steps; with resolve_closure the producers of every consumed PipelineData join."""

    def __init__(
        self,
        workspace: Workspace,
        steps: Sequence[Any],
        description: str | None = None,
        default_datastore: Datastore | None = None,
        default_source_directory: str | None = None,
        resolve_closure: bool = True,
        _workflow_provider: Any = None,
        _service_endpoint: Any = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            unknown = ", ".join(sorted(kwargs))
            raise KubelineError(f"Pipeline: unknown argument(s) {unknown}",
                                "see the Pipeline signature in docs/api.md")
        self.workspace: Workspace = workspace
        self.steps = flatten_steps(steps)
        self.description = description or ""
        self.default_datastore = default_datastore
        self.default_source_directory = default_source_directory
        self.resolve_closure = resolve_closure
        self.name = "pipeline"
        self._base_dir = Path.cwd()

    def validate(self) -> list[str]:
        """Every problem at once, one line each naming the step and the fix."""
        return self._builder().problems()

    def graph(self) -> PipelineGraph:
        """The validated, immutable graph; raises ValidationError listing every problem."""
        with paused_gc():
            builder = self._builder()
            problems = builder.problems()
            if problems:
                raise ValidationError(problems)
            return builder.build()

    def publish(self, name: str | None = None, description: str | None = None,
                version: str | None = None, continue_on_step_failure: bool | None = None,
                **_aml_only: Any) -> PublishedPipeline:
        """Compile and store this pipeline as an immutable PublishedPipeline (dsl/publish.py)."""
        from kubeline.dsl.publish import publish_pipeline

        return publish_pipeline(self, name, description, version, continue_on_step_failure)

    def submit(self, experiment_name: str, pipeline_parameters: dict[str, Any] | None = None,
               continue_on_step_failure: bool = False, regenerate_outputs: bool = False,
               parent_run_id: str | None = None, credential_passthrough: bool | None = None,
               **kwargs: Any) -> Any:
        """Experiment(workspace, experiment_name).submit(self, ...), as the SDK does."""
        from kubeline.dsl.experiment import Experiment

        if parent_run_id is not None:
            raise KubelineError("Pipeline.submit: parent_run_id is not supported by kubeline",
                                "runs are not nested; leave it out")
        return Experiment(self.workspace, experiment_name).submit(
            self, pipeline_parameters=pipeline_parameters,
            continue_on_step_failure=continue_on_step_failure,
            regenerate_outputs=regenerate_outputs, **kwargs)

    def _builder(self) -> GraphBuilder:
        store = self.default_datastore.name if self.default_datastore is not None else None
        return GraphBuilder(
            workspace=self.workspace,
            steps=self.steps,
            name=self.name,
            description=self.description,
            default_datastore=store or self.workspace.config.default_datastore,
            default_source_directory=self.default_source_directory,
            resolve_closure=self.resolve_closure,
            base_dir=self._base_dir,
        )

    def __repr__(self) -> str:
        return f"Pipeline(name={self.name!r}, steps={[s.name for s in self.steps]!r})"
