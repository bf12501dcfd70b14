"""DAG templates: one task per step; over 200 steps, nested chunk DAGs (Argo's CRD cap)."""

from __future__ import annotations

from hera.workflows.models import Arguments, Artifact, DAGTask, DAGTemplate, Parameter, Template

from kubeline.compiler.argo.locations import artifact_location
from kubeline.compiler.argo.templates import MEMO_KEY_INPUT, Shape, artifact_inputs
from kubeline.graph.model import PipelineGraph, Step
from kubeline.graph.names import param_name
from kubeline.reuse.keys import static_fingerprint
from kubeline.reuse.memoize import key_expression
from kubeline.workspace.config import WorkspaceConfig

MAX_TASKS = 200  # the installed CRDs cap dag.tasks at 200 items
ENTRYPOINT = "main"


def _task(step: Step, shape: Shape, config: WorkspaceConfig, deps: list[str],
          compact: bool) -> DAGTask:
    artifacts = [
        Artifact(name=param_name(i.name), **artifact_location(
            i.datastore, config.datastores[i.datastore], i.path))
        for i in sorted(artifact_inputs(step, config), key=lambda i: param_name(i.name))
    ]
    params: list[Parameter] = []
    if not compact:
        params.append(Parameter(name="step", value=step.id))
        producers = sorted({i.producer for i in step.inputs if i.producer})
        if producers:
            params.append(Parameter(name="upstream", value=" ".join(
                f"{p}:{{{{tasks.{p}.outputs.parameters.key}}}}" for p in producers)))
        if shape.memoize:
            params.append(Parameter(name=MEMO_KEY_INPUT,
                                    value=key_expression(step, static_fingerprint(step))))
    args = Arguments(parameters=params or None, artifacts=artifacts or None)
    return DAGTask(name=step.id, template=shape.template_name,
                   depends=" && ".join(deps) or None,
                   arguments=args if (params or artifacts) else None)


def dag_templates(graph: PipelineGraph, shapes: dict[str, Shape], config: WorkspaceConfig,
                  compact: bool) -> list[Template]:
    """The entrypoint DAG, plus chunk DAGs when the pipeline has more than MAX_TASKS steps."""
    steps = graph.steps
    if len(steps) <= MAX_TASKS:
        tasks = [_task(s, shapes[s.id], config, list(s.depends_on), compact) for s in steps]
        return [Template(name=ENTRYPOINT, dag=DAGTemplate(tasks=tasks))]
    chunk_of: dict[str, int] = {}
    chunks: list[list[Step]] = []
    for index, step in enumerate(steps):
        if index % MAX_TASKS == 0:
            chunks.append([])
        chunks[-1].append(step)
        chunk_of[step.id] = len(chunks) - 1
    if len(chunks) > MAX_TASKS:
        from kubeline.exceptions import KubelineError

        raise KubelineError(f"pipeline '{graph.name}' has {len(steps)} steps",
                            f"at most {MAX_TASKS * MAX_TASKS} fit Argo's limits; split it")
    templates: list[Template] = []
    outer: list[DAGTask] = []
    for number, chunk in enumerate(chunks):
        name = f"chunk-{number}"
        tasks = [_task(s, shapes[s.id], config,
                       [d for d in s.depends_on if chunk_of[d] == number], compact=True)
                 for s in chunk]
        templates.append(Template(name=name, dag=DAGTemplate(tasks=tasks)))
        deps = sorted({chunk_of[d] for s in chunk for d in s.depends_on} - {number})
        outer.append(DAGTask(name=name, template=name,
                             depends=" && ".join(f"chunk-{d}" for d in deps) or None))
    return [Template(name=ENTRYPOINT, dag=DAGTemplate(tasks=outer)), *templates]
