"""Parameter values: KUBELINE_PARAMETERS as Argo leaves it, defaults, the values a step uses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubeline.graph.model import DataRef, Lit, ParamRef, Step, StepInput
from kubeline.runtime import params
from tests.runtime.conftest import PROBE, read_report
from tests.runtime.harness import Harness

DEFS: dict[str, dict[str, Any]] = {
    "alpha": {"name": "alpha", "type": "string", "default": "a"},
    "data": {"name": "data", "type": "datapath", "default": {"datastore": "s", "path": "p"}},
    "n": {"name": "n", "type": "int", "default": 1},
}


def test_defaults_render_as_the_compiler_does() -> None:
    assert params.resolve(DEFS, None) == {
        "alpha": "a", "data": '{"datastore": "s", "path": "p"}', "n": "1"}


def test_valid_json_is_read_as_is() -> None:
    raw = json.dumps({"alpha": "x", "n": "5"})
    assert params.resolve(DEFS, raw)["alpha"] == "x"


def test_raw_substituted_values_with_quotes_are_split_on_known_names() -> None:
    raw = '{"alpha": "say "hi", ok", "data": "{"datastore": "t", "path": "a b"}", "n": "7"}'
    values = params.resolve(DEFS, raw)
    assert values == {"alpha": 'say "hi", ok', "data": '{"datastore": "t", "path": "a b"}',
                      "n": "7"}


def test_unsubstituted_and_garbage_values_are_errors() -> None:
    with pytest.raises(params.ParameterError, match=r"parameter 'n': value .* never substituted"):
        params.resolve(DEFS, json.dumps({"n": "{{workflow.parameters.n}}"}))
    with pytest.raises(params.ParameterError, match="KUBELINE_PARAMETERS is not a JSON object"):
        params.resolve(DEFS, '{"alpha": broken')


def test_used_by_takes_only_the_step_parameters_and_canonicalises_datapaths() -> None:
    step = Step(id="s", name="s", kind="python_script", image="x", script="m.py",
                arguments=(ParamRef("n"), DataRef("data"), Lit("alpha")),
                inputs=(StepInput("data", "datapath_param", "s", parameter="data"),))
    values = params.resolve(DEFS, None)
    assert params.used_by(step, values) == {"data": '{"datastore":"s","path":"p"}', "n": "1"}
    with pytest.raises(params.ParameterError, match="is not a DataPath"):
        params.used_by(step, {**values, "data": "not json"})


def test_indexed_variables_win_and_need_no_escaping() -> None:
    raw = json.dumps({"alpha": "from-json", "n": "2"})
    values = params.resolve(DEFS, raw, {0: 'say "hi"', 1: '{"datastore": "t", "path": "q"}'})
    assert values == {"alpha": 'say "hi"', "data": '{"datastore": "t", "path": "q"}', "n": "2"}
    with pytest.raises(params.ParameterError, match="KUBELINE_PARAM_9: no parameter 9"):
        params.resolve(DEFS, None, {9: "x"})


def test_indexed_variables_reach_the_script(harness: Harness) -> None:
    harness.parameters = [{"name": "a", "type": "string", "default": "x"},
                          {"name": "b", "type": "string", "default": "y"}]
    harness.add(Step(id="s", name="s", kind="python_script", image="x", script="main.py",
                     arguments=(ParamRef("a"), ParamRef("b"))), {"main.py": PROBE})
    done = harness.run("s", env={"KUBELINE_PARAM_1": 'quote " and \\ backslash'})
    assert done.returncode == 0, done.stderr
    assert read_report(harness)["argv"] == ["x", 'quote " and \\ backslash']
