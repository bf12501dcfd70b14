"""A ParallelRunStep as Argo templates: the fan-out DAG and its plan / work / gather containers.

The three containers are the step's own container template (image, scheduling, secrets,
spec volume) with the shim told which part to run (``--phase``); the planner and the
workers get the step's DataReference artifacts, the gather step none. ``parallelism`` is
the step's node_count when it is a number (a PipelineParameter node_count bounds the
fan-out through the planner's item count instead: docs/parallel-run.md).
"""

from __future__ import annotations

import json
from dataclasses import replace

from hera.workflows.models import Inputs, Outputs, Parameter, Template, ValueFrom

from kubeline.compiler.argo.fanout import FanOut, fanout_dag
from kubeline.compiler.argo.templates import OUT_DIR, Shape, step_template
from kubeline.graph.model import PipelineGraph, Step
from kubeline.workspace.config import WorkspaceConfig

TASKS_OUTPUT = "tasks"
TASK_INPUT = "task"
STEP_OUTPUTS = ("key", "metrics", "origin")


def _container(shape: Shape, graph: PipelineGraph, config: WorkspaceConfig,
               labels: dict[str, str], compact: bool, name: str, phase: str,
               step: Step) -> Template:
    base = step_template(shape, graph, config, labels, compact=True)
    params: list[Parameter] = []
    if compact:  # the step id is fixed here; upstream keys come from the run record
        args = ["--step", step.id, "--phase", phase]
    else:
        params = [Parameter(name="step"), Parameter(name="upstream", default="")]
        args = ["--step", "{{inputs.parameters.step}}",
                "--upstream", "{{inputs.parameters.upstream}}", "--phase", phase]
    if phase == "work":
        params.append(Parameter(name=TASK_INPUT))
        args += ["--task", f"{{{{inputs.parameters.{TASK_INPUT}}}}}"]
    outputs = base.outputs
    if phase == "plan":
        outputs = Outputs(parameters=[Parameter(name=TASKS_OUTPUT, value_from=ValueFrom(
            path=f"{OUT_DIR}/{TASKS_OUTPUT}", default="[]"))])
    elif phase == "work":
        outputs = None
    assert base.container is not None and base.inputs is not None
    return base.model_copy(update={
        "name": name,
        "inputs": Inputs(parameters=params or None, artifacts=base.inputs.artifacts),
        "outputs": outputs,
        "container": base.container.model_copy(update={"args": args}),
    })


def parallel_run_templates(step: Step, shape: Shape, graph: PipelineGraph,
                           config: WorkspaceConfig, labels: dict[str, str],
                           compact: bool) -> list[Template]:
    """The DAG the pipeline's task calls, then its three container templates."""
    name = shape.template_name
    node_count = json.loads(step.settings).get("node_count", 1)
    plan = _container(shape, graph, config, labels, compact, f"{name}-plan", "plan", step)
    work = _container(shape, graph, config, labels, compact, f"{name}-work", "work", step)
    gather = _container(replace(shape, artifacts=()), graph, config, labels, compact,
                        f"{name}-gather", "gather", step)
    dag = fanout_dag(FanOut(
        name=name, plan_template=plan.name or "", work_template=work.name or "",
        gather_template=gather.name or "", items_output=TASKS_OUTPUT,
        item_parameter=TASK_INPUT,
        parallelism=node_count if isinstance(node_count, int) else None,
        parameters=() if compact else (Parameter(name="step", default=step.id),
                                       Parameter(name="upstream", default="")),
        artifacts=shape.artifacts, outputs=STEP_OUTPUTS))
    return [dag, plan, work, gather]
