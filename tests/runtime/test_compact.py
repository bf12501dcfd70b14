"""Compact mode: the step from Argo's node name, upstream keys from the run record."""

from __future__ import annotations

import pytest

from kubeline.graph.model import DataRef, Lit, Step, StepInput, StepOutput
from kubeline.runtime.spec import SpecError, step_id_from_node
from tests.runtime.conftest import PROBE, read_report
from tests.runtime.harness import Harness


@pytest.mark.parametrize(("node", "step"), [
    ("pipeline1-x7k.chunk-3.train-py", "train-py"),
    ("pipeline1-x7k.chunk-3.train-py(0)", "train-py"),
    ("pipeline1-x7k.chunk-12.s-1(12)", "s-1"),
    ("my.dotted.workflow.chunk-0.compare-py(3)", "compare-py"),
    ("train-py", "train-py"),
])
def test_node_names(node: str, step: str) -> None:
    assert step_id_from_node(node) == step


@pytest.mark.parametrize("node", ["", "wf.chunk-0.", "wf.chunk-0.Train(x)", "wf.(1)"])
def test_bad_node_names(node: str) -> None:
    with pytest.raises(SpecError, match="no step id in the node name"):
        step_id_from_node(node)


def test_compact_mode_reads_upstream_keys_from_the_run_record(harness: Harness) -> None:
    harness.add(Step(id="prod", name="prod", kind="python_script", image="x", script="main.py",
                     arguments=(DataRef("d"), Lit("payload")),
                     outputs=(StepOutput("d", "main"),)),
                {"main.py": "import sys\nopen(sys.argv[1], 'w').write(sys.argv[2])\n"})
    harness.add(Step(id="cons", name="cons", kind="python_script", image="x", script="main.py",
                     arguments=(DataRef("d"),),
                     inputs=(StepInput("d", "pipeline_data", "main", producer="prod"),)),
                {"main.py": PROBE})
    # the consumer before its producer ran in this workflow: a clear error
    done = harness.run("", node="pipe-abcde.chunk-1.cons(0)")
    assert done.returncode == 2
    assert "producer 'prod' has no key in the run record" in done.stderr
    done = harness.run("", node="pipe-abcde.chunk-0.prod(1)")
    assert done.returncode == 0, done.stderr
    done = harness.run("", node="pipe-abcde.chunk-1.cons(0)")
    assert done.returncode == 0, done.stderr
    report = read_report(harness)
    assert report["listings"][report["argv"][0]] == {"": "payload"}
    assert harness.result("cons")["node"] == ""  # KUBELINE_NODE is the env's, unset here
