"""Random valid DAGs compile to objects Argo accepts, and keep every data edge."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.argo_schema import schema_errors
from tests.pipelines import workspace

from kubeline import Pipeline, PipelineData, PythonScriptStep
from kubeline.compiler.argo.workflow import compile_graph
from kubeline.compiler.validate import validate_document

_ROOT = Path(tempfile.mkdtemp(prefix="kubeline-prop-"))
_WS = workspace(_ROOT)


@st.composite
def dags(draw: st.DrawFn) -> list[set[int]]:
    """Parents of each node; only earlier nodes can be parents, so the graph is acyclic."""
    n = draw(st.integers(min_value=1, max_value=25))
    return [set(draw(st.lists(st.integers(0, i - 1), max_size=3))) if i else set()
            for i in range(n)]


def _depends(task: dict[str, object]) -> set[str]:
    text = str(task.get("depends") or "")
    return {part.strip() for part in text.split("&&") if part.strip()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parents=dags(), names=st.lists(st.text("abcXY_ .-", min_size=1, max_size=6),
                                      min_size=25, max_size=25, unique_by=lambda s: s.lower()))
def test_random_dag_compiles_validates_and_keeps_edges(parents: list[set[int]],
                                                       names: list[str]) -> None:
    outs = [PipelineData(f"d{i}") for i in range(len(parents))]
    steps = [PythonScriptStep("step.py", name=f"n{i}-{names[i]}", source_directory="scripts",
                              inputs=[outs[p] for p in sorted(ps)], outputs=[outs[i]])
             for i, ps in enumerate(parents)]
    pipeline = Pipeline(_WS, steps=steps)
    pipeline._base_dir = _ROOT
    graph = pipeline.graph()
    compiled = compile_graph(graph, _WS.config)
    for doc in compiled.documents:
        assert schema_errors(doc) == []
        assert validate_document(doc, "x") == []
    workflow = yaml.safe_load(yaml.safe_dump(compiled.documents[-1]))
    tasks = {t["name"]: t for t in workflow["spec"]["templates"][0]["dag"]["tasks"]}
    ids = [s.id for s in sorted(graph.steps, key=lambda s: int(s.name.split("-")[0][1:]))]
    assert len(tasks) == len(parents)
    for i, ps in enumerate(parents):
        assert _depends(tasks[ids[i]]) == {ids[p] for p in ps}
