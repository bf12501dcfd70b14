"""Pipeline.validate(): every problem at once, one line each naming the step and the fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.pipelines import workspace

from kubeline import (
    DataReference,
    Datastore,
    Pipeline,
    PipelineData,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)
from kubeline.exceptions import ValidationError


def _pipeline(ws: Workspace, steps: list[PythonScriptStep], **kw: object) -> Pipeline:
    pipeline = Pipeline(ws, steps=steps, **kw)  # type: ignore[arg-type]
    pipeline._base_dir = ws.root
    return pipeline


def _step(name: str, **kw: object) -> PythonScriptStep:
    kw.setdefault("source_directory", "scripts")
    return PythonScriptStep("step.py", name=name, **kw)  # type: ignore[arg-type]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return workspace(tmp_path / "ws")


def test_valid_chain_has_no_problems(ws: Workspace) -> None:
    out = PipelineData("out")
    a = _step("a", arguments=["--out", out], outputs=[out])
    b = _step("b", arguments=["--in", out], inputs=[out])
    assert _pipeline(ws, [a, b]).validate() == []


def test_cycle(ws: Workspace) -> None:
    x, y = PipelineData("x"), PipelineData("y")
    a = _step("a", inputs=[y], outputs=[x])
    b = _step("b", inputs=[x], outputs=[y])
    assert _pipeline(ws, [a, b]).validate() == [
        "dependency cycle between steps 'a', 'b' (a step cannot consume data produced after it)"]


def test_consumed_but_never_produced(ws: Workspace) -> None:
    orphan = PipelineData("orphan")
    b = _step("b", arguments=["--in", orphan], inputs=[orphan])
    assert _pipeline(ws, [b]).validate() == [
        "step 'b': consumes PipelineData 'orphan' that no step in the pipeline produces "
        "(add the producing step, or list it in outputs=[...] of a step)"]


def test_produced_by_two_steps(ws: Workspace) -> None:
    x = PipelineData("x")
    problems = _pipeline(ws, [_step("a", outputs=[x]), _step("b", outputs=[x])]).validate()
    assert problems == ["PipelineData 'x' is produced by steps 'a' and 'b' "
                        "(each PipelineData needs exactly one producing step)"]


def test_duplicate_step_and_output_names(ws: Workspace) -> None:
    x = PipelineData("x")
    problems = _pipeline(ws, [_step("a"), _step("a", outputs=[x, PipelineData("x")])]).validate()
    assert "step 'a': the name is used by 2 steps (give each step a unique name=...)" in problems
    assert ("step 'a': data name 'x' is used twice in this step "
            "(give each input and output a unique name)") in problems


def test_missing_script_and_source_directory(ws: Workspace) -> None:
    problems = _pipeline(ws, [
        PythonScriptStep("nope.py", name="a", source_directory="scripts"),
        PythonScriptStep("step.py", name="b", source_directory="missing"),
    ]).validate()
    assert problems == [
        "step 'a': script 'nope.py' is not in source_directory 'scripts' "
        "(fix script_name or source_directory)",
        f"step 'b': source_directory 'missing' does not exist (create it or fix the path; "
        f"it is relative to {ws.root})",
    ]


def test_names_colliding_once_made_valid(ws: Workspace) -> None:
    problems = _pipeline(ws, [_step("Train Step"), _step("train-step")]).validate()
    assert problems == ["steps 'Train Step' and 'train-step' collide as 'train-step' once made "
                        "valid for Kubernetes (rename one of them)"]


def test_unknown_compute_target_and_datastore(ws: Workspace, tmp_path: Path) -> None:
    other = workspace(tmp_path / "other")
    Datastore.register_local(other, "elsewhere", "data")
    ref = DataReference(Datastore(other, "elsewhere"), "raw", "x.csv")
    problems = _pipeline(ws, [_step("a", compute_target="gpu", inputs=[ref])]).validate()
    assert problems == [
        "step 'a': datastore 'elsewhere' is not registered (known: workspaceblobstore; "
        "register it with Datastore.register_*)",
        "step 'a': compute target 'gpu' is not in the workspace (known: none; "
        "create it with ComputeTarget.create)",
    ]


def test_argument_referencing_undeclared_data(ws: Workspace) -> None:
    x = PipelineData("x")
    problems = _pipeline(ws, [_step("a", arguments=["--out", x])]).validate()
    assert problems == ["step 'a': argument references data 'x' that is neither an input nor an "
                        "output (add it to inputs=[...] or outputs=[...])"]


def test_parameter_type_and_resolution(ws: Workspace) -> None:
    bad = PipelineParameter("bad", [1, 2])
    p1, p2 = PipelineParameter("n", 1), PipelineParameter("n", 2)
    problems = _pipeline(ws, [_step("a", arguments=[bad, p1]), _step("b", arguments=[p2])]
                         ).validate()
    assert problems == [
        "step 'a': PipelineParameter 'bad' has a default of type list "
        "(use str, int, float, bool or DataPath)",
        "step 'b': PipelineParameter 'n' is not resolvable: it is defined twice with defaults "
        "1 and 2 (use one PipelineParameter object)",
    ]


def test_graph_raises_with_every_problem(ws: Workspace) -> None:
    pipeline = _pipeline(ws, [_step("a", compute_target="gpu"), _step("b", compute_target="x")])
    with pytest.raises(ValidationError) as info:
        pipeline.graph()
    assert str(info.value).count("\n") == 1


def test_cli_reports_problems_without_traceback(tmp_path: Path) -> None:
    workspace(tmp_path)
    (tmp_path / "pipeline.py").write_text(
        "from kubeline import Pipeline, PipelineData, PythonScriptStep, Workspace\n"
        "ws = Workspace.from_config()\n"
        "x = PipelineData('x')\n"
        "a = PythonScriptStep('missing.py', name='a', source_directory='scripts', outputs=[x])\n"
        "b = PythonScriptStep('step.py', name='b', source_directory='scripts', inputs=[x],\n"
        "                     compute_target='gpu')\n"
        "pipeline = Pipeline(ws, steps=[b])\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "kubeline.cli", "compile",
                           str(tmp_path / "pipeline.py"), "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "kubeline: error: step 'a': script 'missing.py' is not in source_directory 'scripts' "
        "(fix script_name or source_directory)",
        "kubeline: error: step 'b': compute target 'gpu' is not in the workspace (known: none; "
        "create it with ComputeTarget.create)",
    ]
    assert not (tmp_path / "out").exists()


def test_cli_reports_user_code_error_with_line(tmp_path: Path) -> None:
    workspace(tmp_path)
    (tmp_path / "pipeline.py").write_text("x = 1\nundefined_name\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "kubeline.cli", "compile",
                           str(tmp_path / "pipeline.py"), "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr == ("kubeline: error: pipeline.py:2: NameError: name 'undefined_name' "
                           "is not defined\n")


def test_parameter_names_colliding_once_made_valid(ws: Workspace) -> None:
    a, b = PipelineParameter("learning rate", 1), PipelineParameter("learning_rate", 2)
    reserved = PipelineParameter("kubeline-regenerate-outputs", "x")
    problems = _pipeline(ws, [_step("s", arguments=[a, b, reserved])]).validate()
    assert problems == [
        "PipelineParameter 'kubeline-regenerate-outputs' uses a name kubeline reserves for "
        "regenerate_outputs (rename it)",
        "PipelineParameters 'learning rate' and 'learning_rate' collide as 'learning_rate' once "
        "made valid for Argo (rename one of them)",
    ]


def test_missing_script_found_in_a_shared_source_directory(ws: Workspace) -> None:
    """Steps sharing one source_directory are fingerprinted once; each script is checked."""
    problems = _pipeline(ws, [_step("ok"), PythonScriptStep("gone.py", name="later",
                                                            source_directory="scripts")]
                         ).validate()
    assert problems == ["step 'later': script 'gone.py' is not in source_directory 'scripts' "
                        "(fix script_name or source_directory)"]
