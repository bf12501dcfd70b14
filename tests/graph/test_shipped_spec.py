"""The shipped step spec (pack/unpack): smaller than the full record, restored byte for byte,
so the shim's recomputed fingerprint is the compiler's."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.pipelines import EXAMPLES, chain, copy_example, workspace

from kubeline import Pipeline, PipelineData, PythonScriptStep
from kubeline.compiler.api import compile_pipelines, file_graphs
from kubeline.compiler.argo.spec import spec_files
from kubeline.graph.model import PipelineGraph
from kubeline.graph.stepspec import encode_step, pack, step_defaults, unpack
from kubeline.reuse.keys import static_fingerprint
from kubeline.runtime.spec import load_step

NAMES = sorted(p.parent.name for p in EXAMPLES.glob("*/pipeline.py"))


def _write_spec(graph: PipelineGraph, config: object, folder: Path) -> dict[str, str]:
    files = spec_files(graph, config)  # type: ignore[arg-type]
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return files


def _graphs(name: str, tmp_path: Path) -> list[tuple[PipelineGraph, object]]:
    return [(graph, workspace.config)
            for graph, workspace in file_graphs(copy_example(name, tmp_path))]


@pytest.mark.parametrize("name", NAMES)
def test_every_example_step_is_restored_with_its_fingerprint(name: str, tmp_path: Path) -> None:
    for graph, config in _graphs(name, tmp_path):
        spec_dir = tmp_path / "spec" / graph.name
        files = _write_spec(graph, config, spec_dir)
        assert not any("fingerprint" in text for text in files.values())
        for step in graph.steps:
            loaded, fingerprint = load_step(spec_dir, step.id)
            assert loaded == step
            assert fingerprint == static_fingerprint(step)


def test_shared_fields_are_written_once(tmp_path: Path,
                                        in_folder: Callable[[Path], None]) -> None:
    ws = workspace(tmp_path)
    in_folder(tmp_path)
    graph = chain(ws, 5).graph()
    files = spec_files(graph, ws.config)
    pipeline = json.loads(files["pipeline.json"])
    snapshot = graph.steps[0].snapshot
    assert pipeline["step_defaults"]["snapshot"] == snapshot
    assert pipeline["step_defaults"]["script"] == "step.py"
    assert sum(text.count(snapshot) for text in files.values()) == 1
    second = json.loads(files["step.s1.json"])
    assert second == {"args": ["--out", {"data": "out1"}, "--in", {"data": "out0"}],
                      "inputs": {"out0": {"producer": "s0"}}, "outputs": {"out1": {}}}


def test_a_step_that_differs_from_the_defaults_says_so(
        tmp_path: Path, in_folder: Callable[[Path], None]) -> None:
    """The odd one out keeps its own values, including an empty one where most have a value,
    and a run_after dependency no input implies."""
    ws = workspace(tmp_path)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "solo.py").write_text("print('solo')\n", encoding="utf-8")
    in_folder(tmp_path)
    steps = []
    for i in range(3):
        out = PipelineData(f"o{i}")
        steps.append(PythonScriptStep("step.py", name=f"s{i}", source_directory="scripts",
                                      arguments=["--out", out], outputs=[out]))
    odd = PythonScriptStep("solo.py", name="Odd Step", source_directory="other",
                           allow_reuse=False)
    odd.run_after(steps[0])
    graph = Pipeline(ws, steps=[*steps, odd]).graph()
    records = [encode_step(s, "") for s in graph.steps]
    defaults = step_defaults(records)
    assert defaults["source_directory"] == "scripts" and defaults["allow_reuse"] is True
    by_id = {s.id: s for s in graph.steps}
    odd_id = next(s.id for s in graph.steps if s.name == "Odd Step")
    shipped = pack(encode_step(by_id[odd_id], ""), defaults, graph.default_datastore)
    assert shipped["name"] == "Odd Step" and shipped["allow_reuse"] is False
    assert shipped["depends_on"] == [graph.steps[0].id]
    assert "script" not in pack(records[0], defaults, graph.default_datastore)
    for step, record in zip(graph.steps, records, strict=True):
        restored = unpack(step.id, pack(record, defaults, graph.default_datastore), defaults,
                          graph.default_datastore)
        assert restored == record


def test_a_malformed_step_spec_is_one_line(tmp_path: Path,
                                           in_folder: Callable[[Path], None]) -> None:
    ws = workspace(tmp_path)
    in_folder(tmp_path)
    graph = chain(ws, 2).graph()
    _write_spec(graph, ws.config, tmp_path / "spec")
    (tmp_path / "spec" / "step.s1.json").write_text('{"inputs": ["not", "a", "map"]}')
    from kubeline.runtime.spec import SpecError

    with pytest.raises(SpecError) as info:
        load_step(tmp_path / "spec", "s1")
    assert "step.s1.json: malformed" in str(info.value) and "\n" not in str(info.value)


def test_compiled_default_tasks_carry_no_arguments(tmp_path: Path) -> None:
    """The default form: a task is its name, dependencies and template; the memoize form
    passes the key per task."""
    path = copy_example("data_dependency", tmp_path)
    for memoize, expect_args in ((False, False), (True, True)):
        (compiled,) = compile_pipelines(path, memoize=memoize)
        workflow = next(d for d in compiled.documents if d["kind"] == "Workflow")
        tasks = [t for tmpl in workflow["spec"]["templates"] if "dag" in tmpl
                 for t in tmpl["dag"]["tasks"]]
        assert tasks and all(("arguments" in t) == expect_args for t in tasks), memoize
        has_memo = any("memoize" in t for t in workflow["spec"]["templates"])
        assert has_memo == memoize


def test_the_workflow_names_each_source_folders_snapshot(tmp_path: Path) -> None:
    path = copy_example("compare_models", tmp_path)
    (compiled,) = compile_pipelines(path)
    workflow = next(d for d in compiled.documents if d["kind"] == "Workflow")
    pipeline = json.loads(next(d for d in compiled.documents if d["kind"] == "ConfigMap")
                          ["data"]["pipeline.json"])
    annotation = json.loads(workflow["metadata"]["annotations"]["kubeline.io/snapshots"])
    assert annotation == {"scripts": pipeline["step_defaults"]["snapshot"]}
