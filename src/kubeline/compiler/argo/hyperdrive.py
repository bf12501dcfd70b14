"""A HyperDriveStep as Argo templates: sample, a bounded fan-out of trials, then the best.

The step's DAG task calls a DAG template of its own (``parallelism`` = max_concurrent_runs):

* ``sample`` writes the trials (JSON list, output parameter ``trials``);
* ``trial`` runs once per item (``withParam``); ``failFast: false`` so one failed trial
  does not stop the others from starting;
* ``best`` (depends ``trial.Succeeded || trial.Failed``: a failed trial is handled, the
  step's phase is ``best``'s) picks the best trial by the primary metric and commits the
  step's outputs.

Its outputs ``key``/``metrics``/``origin`` are ``best``'s, so downstream tasks read the
step's key as they read any step's. The three tasks share one container template that runs
the shim with ``--hyperdrive PHASE`` (kubeline.runtime.hyperdrive).
"""

from __future__ import annotations

import json

from hera.workflows.models import (
    Arguments,
    DAGTask,
    DAGTemplate,
    Inputs,
    Outputs,
    Parameter,
    Template,
    ValueFrom,
)

from kubeline.compiler.argo.templates import (
    KEY_PATH,
    METRICS_PATH,
    ORIGIN_PATH,
    OUT_DIR,
    Shape,
    step_template,
)
from kubeline.graph.model import PipelineGraph, Step
from kubeline.workspace.config import WorkspaceConfig

TRIALS_PATH = f"{OUT_DIR}/trials"
PHASES = ("sample", "trial", "best")


def hyperdrive_templates(step: Step, shape: Shape, graph: PipelineGraph,
                         config: WorkspaceConfig, labels: dict[str, str]) -> list[Template]:
    """The step's DAG template and the container template its three tasks run."""
    settings = json.loads(step.settings)
    name = shape.template_name
    runner = f"{name}-run"
    container = step_template(shape, graph, config, labels, compact=True)
    assert container.container is not None
    command = container.container.model_copy(update={"args": [
        "--step", step.id, "--upstream", "{{inputs.parameters.upstream}}",
        "--hyperdrive", "{{inputs.parameters.phase}}", "--trial", "{{inputs.parameters.trial}}",
    ]})
    metadata = container.metadata
    if metadata is not None:
        metadata = metadata.model_copy(update={"annotations": {
            **(metadata.annotations or {}), "kubeline.io/step": step.id}})
    run = container.model_copy(update={
        "name": runner,
        "metadata": metadata,
        "inputs": Inputs(parameters=[Parameter(name="upstream", default=""),
                                     Parameter(name="phase"),
                                     Parameter(name="trial", default="")]),
        "outputs": Outputs(parameters=[
            Parameter(name="key", value_from=ValueFrom(path=KEY_PATH, default="")),
            Parameter(name="metrics", value_from=ValueFrom(path=METRICS_PATH, default="{}")),
            Parameter(name="origin", value_from=ValueFrom(path=ORIGIN_PATH, default="")),
            Parameter(name="trials", value_from=ValueFrom(path=TRIALS_PATH, default="[]")),
        ]),
        "container": command,
    })

    def task(phase: str, depends: str | None = None, **extra: object) -> DAGTask:
        trial = "{{item}}" if phase == "trial" else ""
        return DAGTask(name=phase, template=runner, depends=depends, arguments=Arguments(
            parameters=[Parameter(name="upstream", value="{{inputs.parameters.upstream}}"),
                        Parameter(name="phase", value=phase),
                        Parameter(name="trial", value=trial)]), **extra)

    dag = Template(
        name=name,
        inputs=Inputs(parameters=[Parameter(name="step", default=step.id),
                                  Parameter(name="upstream", default="")]),
        outputs=Outputs(parameters=[
            Parameter(name=p, value_from=ValueFrom(
                parameter=f"{{{{tasks.best.outputs.parameters.{p}}}}}"))
            for p in ("key", "metrics", "origin")]),
        parallelism=int(settings["max_concurrent_runs"]),
        dag=DAGTemplate(tasks=[
            task("sample"),
            task("trial", "sample", with_param="{{tasks.sample.outputs.parameters.trials}}"),
            task("best", "trial.Succeeded || trial.Failed"),
        ], fail_fast=False),
    )
    return [dag, run]
