"""The small rule modules, checked against values and messages taken from Argo's behaviour."""

from __future__ import annotations

import pytest

from kubeline.local import exprlang
from kubeline.local.depends import DependsError, DepState, evaluate, task_dependencies
from kubeline.local.loops import item_scope, sequence
from kubeline.local.memo import MemoError, parse_duration_or_seconds, parse_go_duration
from kubeline.local.nodes import display_name, fnv32a, go_json, loop_node_name, node_id, pod_name
from kubeline.local.templating import MissingVariable, TemplateError, substitute
from kubeline.local.when import WhenError, should_execute


def test_fnv32a_and_ids() -> None:
    assert fnv32a("") == 0x811C9DC5
    assert fnv32a("a") == 0xE40C292C  # FNV-1a published test vector
    assert node_id("wf", "wf") == "wf"
    assert node_id("wf", "wf.A") == f"wf-{fnv32a('wf.A')}"
    assert pod_name("wf", "wf.A", "echo") == f"wf-echo-{fnv32a('wf.A')}"
    assert pod_name("wf", "wf", "echo") == "wf"


def test_display_and_loop_names() -> None:
    assert display_name("wf.A", "wf") == "A"
    assert display_name("wf[0].gen", "wf") == "gen"
    assert display_name("wf[1]", "wf") == "[1]"
    assert display_name("wf.A(0)", "wf") == "A(0)"
    assert loop_node_name("t", 0, 1) == "t(0:1)"
    assert loop_node_name("t", 1, {"num": "2", "evenness": "even"}) == "t(1:evenness:even,num:2)"
    assert loop_node_name("t", 2, "a(b)") == "t(2:ab)"
    assert loop_node_name("t", 3, [1, "x"]) == "t(3:[1 x])"


def test_go_json() -> None:
    assert go_json({"b": 1, "a": ["<&>"]}) == '{"a":["\\u003c\\u0026\\u003e"],"b":1}'
    assert go_json([1.0, 2.5]) == "[1,2.5]"


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("1 + 2 * 3", 7),
        ("7 / 2", 3.5),
        ("7 % 3", 1),
        ("'a' + 'b' == 'ab'", True),
        ("!(1 < 2) || 2 >= 2", True),
        ("'x' in ['x', 'y'] and not ('z' in ['x'])", True),
        ("'abc' startsWith 'a' && 'abc' endsWith 'c' && 'abc' contains 'b'", True),
        ("'a1' matches '^a[0-9]$'", True),
        ("nil ?? 'd'", "d"),
        ("m.missing ?? 'd'", "d"),
        ("m?.nope?.z", None),
        ("m['k'] == 'v' ? 'yes' : 'no'", "yes"),
        ("asInt('4') + asFloat('0.5')", 4.5),
        ("string(3) + toJson({'b': [1]})", '3{"b":[1]}'),
        ("len(fromJSON('[1,2,3]'))", 3),
        ("sprig.replace('a', 'b', 'aa') + sprig.trim(' x ')", "bbx"),
        ("-2 ** 2", -4.0),
    ],
)
def test_expressions(expr: str, value: object) -> None:
    assert exprlang.evaluate(expr, {"m": {"k": "v"}}) == value


@pytest.mark.parametrize(
    "expr", ["now()", "x.method()", "sprig.dateModify('1h', x)", "unknownFn(1)", "1 +", "# > 1",
             "sprig.genPrivateKey('rsa')", "duration('1h')"]
)
def test_unsupported_expressions_are_syntax_errors(expr: str) -> None:
    with pytest.raises(exprlang.ExprSyntaxError):
        exprlang.parse(expr)


@pytest.mark.parametrize(
    ("when", "result"),
    [
        ("heads == heads", True),
        ("tails == heads", False),
        ("5 > 3", True),
        ("'a b' != 'a b'", False),
        ("hello =~ hel", True),
        ("hello !~ 'x$'", True),
        ("true && (false || !false)", True),
        ("2 + 3 == 5", True),
        ("1 == 1.0", True),
        ("1 == '1'", False),
    ],
)
def test_when(when: str, result: bool) -> None:
    assert should_execute(when) is result


def test_when_errors() -> None:
    with pytest.raises(WhenError, match="Expected boolean evaluation"):
        should_execute("heads")
    with pytest.raises(WhenError, match="hint: try wrapping"):
        should_execute("a == {{item}}")


def test_depends_expansion_and_evaluation() -> None:
    tasks = {"A": {}, "B": {"continueOn": {"failed": True}}, "C": {"dependencies": ["A", "B"]}}
    deps = task_dependencies(tasks["C"], tasks)
    assert deps.names == ("A", "B")
    assert deps.logic == (
        "(A.Succeeded || A.Skipped || A.Daemoned) && "
        "(B.Succeeded || B.Skipped || B.Daemoned || B.Failed)"
    )
    assert evaluate(deps, {"A": DepState("Succeeded"), "B": DepState("Failed")})
    assert not evaluate(deps, {"A": DepState("Omitted"), "B": DepState("Succeeded")})
    loop = {"L": {}, "X": {"depends": "L.AnySucceeded && !L.AllFailed"}}
    d = task_dependencies(loop["X"], loop)
    assert evaluate(d, {"L": DepState("Failed", ("Failed", "Succeeded"))})
    assert not evaluate(d, {"L": DepState("Failed", ("Failed", "Failed"))})
    with pytest.raises(DependsError, match="task result 'Done' for task 'A' is invalid"):
        task_dependencies({"depends": "A.Done"}, {"A": {}})
    with pytest.raises(DependsError, match="dependency 'nope' not defined"):
        task_dependencies({"depends": "nope"}, {"A": {}})


def test_substitution_rules() -> None:
    scope = {"inputs.parameters.x": "1", "tasks.A.outputs.result": "r", "absent": None}
    assert substitute("{{ inputs.parameters.x }}-{{other}}", scope) == "1-{{other}}"
    assert substitute("{{=asInt(inputs.parameters.x) + 1}}", scope) == "2"
    assert substitute("{{=item}}", scope) == "{{=item}}"  # late binding stays verbatim
    with pytest.raises(MissingVariable, match=r"failed to resolve \{\{tasks.B.outputs.result\}\}"):
        substitute("{{tasks.B.outputs.result}}", scope, strict_prefixes=("tasks",))
    assert substitute("{{tasks.B.outputs.artifacts.x}}", scope, strict_prefixes=("tasks",)) == (
        "{{tasks.B.outputs.artifacts.x}}"
    )
    with pytest.raises(TemplateError, match="absent optional"):
        substitute("{{absent}}", scope)
    with pytest.raises(TemplateError, match="Cannot find end tag"):
        substitute("{{oops", scope)


def test_loops_and_durations() -> None:
    assert sequence({"count": "3"}) == ["0", "1", "2"]
    assert sequence({"start": "3", "end": "1"}) == ["3", "2", "1"]
    assert sequence({"start": "1", "end": "2", "format": "n%02d"}) == ["n01", "n02"]
    assert sequence({"count": 0}) == []
    assert item_scope({"a": 1, "b": "x"}) == {
        "item.a": "1",
        "item.b": "x",
        "item": '{"a":1,"b":"x"}',
    }
    assert item_scope(True) == {"item": "true"}
    assert parse_go_duration("1h30m") == 5400.0
    assert parse_go_duration("10s") == 10.0
    assert parse_duration_or_seconds("20") == 20.0
    with pytest.raises(MemoError):
        parse_go_duration("10")
