"""A bounded fan-out as one DAG template: a planner prints a JSON list, one task per item
runs (``withParam``) at most ``parallelism`` at a time, then a gather task runs once.

Reusable by any step kind that splits its work at run time (ParallelRunStep; a HyperDrive
search could use it too): the caller names the three templates and what each task passes.
The DAG's outputs are the gather task's output parameters of the same names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hera.workflows.models import (
    Arguments,
    Artifact,
    DAGTask,
    DAGTemplate,
    Inputs,
    Metadata,
    Outputs,
    Parameter,
    Template,
    ValueFrom,
)

PLAN_TASK = "plan"
WORK_TASK = "work"
GATHER_TASK = "gather"
ITEM = "{{item}}"


@dataclass(frozen=True)
class FanOut:
    """The three templates of a fan-out and what flows between them."""

    name: str  # the DAG template's name (what the pipeline's task calls)
    plan_template: str
    work_template: str
    gather_template: str
    items_output: str  # the planner's output parameter holding the JSON list
    item_parameter: str  # the worker template's input parameter that receives one item
    parallelism: int | None = None  # at most this many workers at once (None: Argo's limits)
    parameters: tuple[Parameter, ...] = ()  # the DAG's inputs, passed to all three tasks
    artifacts: tuple[str, ...] = ()  # input artifacts, passed to the planner and the workers
    outputs: tuple[str, ...] = ()  # gather output parameters exposed as the DAG's outputs
    labels: dict[str, str] = field(default_factory=dict)


def _passed(names: Sequence[str]) -> list[Parameter]:
    return [Parameter(name=n, value=f"{{{{inputs.parameters.{n}}}}}") for n in names]


def _artifacts(names: Sequence[str]) -> list[Artifact] | None:
    return [Artifact(name=n, from_=f"{{{{inputs.artifacts.{n}}}}}") for n in names] or None


def fanout_dag(fan: FanOut) -> Template:
    """The DAG template: plan -> work (one task per item, bounded) -> gather."""
    shared = [p.name for p in fan.parameters]
    plan_args = Arguments(parameters=_passed(shared) or None, artifacts=_artifacts(fan.artifacts))
    work_args = Arguments(parameters=[*_passed(shared),
                                      Parameter(name=fan.item_parameter, value=ITEM)],
                          artifacts=_artifacts(fan.artifacts))
    gather_args = Arguments(parameters=_passed(shared)) if shared else None
    has_plan_args = bool(shared or fan.artifacts)
    return Template(
        name=fan.name,
        metadata=Metadata(labels=fan.labels) if fan.labels else None,
        inputs=Inputs(parameters=list(fan.parameters) or None,
                      artifacts=[Artifact(name=n) for n in fan.artifacts] or None),
        outputs=Outputs(parameters=[
            Parameter(name=n, value_from=ValueFrom(
                parameter=f"{{{{tasks.{GATHER_TASK}.outputs.parameters.{n}}}}}"))
            for n in fan.outputs]) if fan.outputs else None,
        parallelism=fan.parallelism,
        dag=DAGTemplate(tasks=[
            DAGTask(name=PLAN_TASK, template=fan.plan_template,
                    arguments=plan_args if has_plan_args else None),
            DAGTask(name=WORK_TASK, template=fan.work_template, depends=PLAN_TASK,
                    arguments=work_args,
                    with_param=f"{{{{tasks.{PLAN_TASK}.outputs.parameters.{fan.items_output}}}}}"),
            DAGTask(name=GATHER_TASK, template=fan.gather_template, depends=WORK_TASK,
                    arguments=gather_args),
        ]),
    )
