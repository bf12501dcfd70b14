"""Argo's expression functions: expr's builtins (closures included), jsonpath and sprig.*.

Expected values follow expr-lang v1.17's and sprig v3.3's documented behaviour (Argo v4.1's
versions): Go's integer division truncating toward zero, sprig's argument order (value last),
jsonpath arrays for wildcards, slices and filters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeline.local import exprlang
from tests.local.conftest import run_yaml

CONFIG = ('{"employees": [{"name": "Baris", "age":43},{"name": "Mo", "age": 42},'
          ' {"name": "Jai", "age" :44}]}')
ENV: dict[str, Any] = {"cfg": CONFIG, "nums": [3, 1, 2], "data": ["a/main.log", "b.txt"],
                       "people": [{"name": "Ann", "age": 30}, {"name": "Bo", "age": 20}]}


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("filter([1, 3], {# > 1})", [3]),
        ("filter(data, {# endsWith 'main.log'})", ["a/main.log"]),
        ("map(nums, # * 2)", [6, 2, 4]),
        ("map(people, .name)", ["Ann", "Bo"]),
        ("map(nums, #index)", [0, 1, 2]),
        ("all(nums, # > 0)", True),
        ("any(nums, # > 2)", True),
        ("none(nums, # > 5)", True),
        ("one(nums, # == 1)", True),
        ("count(nums, # >= 2)", 2),
        ("sum(nums)", 6),
        ("sum(people, .age)", 50),
        ("find(people, .age < 25).name", "Bo"),
        ("find(nums, # > 9)", None),
        ("findIndex(nums, # == 2)", 2),
        ("findLast(nums, # < 3)", 2),
        ("findLastIndex(nums, # > 9)", -1),
        ("groupBy(people, .age > 25)[true][0].name", "Ann"),
        ("sortBy(people, .age)[0].name", "Bo"),
        ("sortBy(nums, #, 'desc')", [3, 2, 1]),
        ("reduce(nums, #acc + #)", 6),
        ("reduce(nums, #acc + #, 10)", 16),
        ("nums | filter(# > 1) | map(# * 10)", [30, 20]),
        ("nums[1:]", [1, 2]),
        ("nums[:-1]", [3, 1]),
        ("'kubeline'[4:]", "line"),
        ("first(nums)", 3),
        ("last(nums)", 2),
        ("take(nums, 2)", [3, 1]),
        ("uniq([1, 1, 2])", [1, 2]),
        ("flatten([[1], [2, [3]]])", [1, 2, 3]),
        ("concat([1], [2, 3])", [1, 2, 3]),
        ("sort(nums)", [1, 2, 3]),
        ("reverse(nums)", [2, 1, 3]),
        ("toPairs({b: 2, a: 1})", [["a", 1], ["b", 2]]),
        ("fromPairs([['a', 1]])", {"a": 1}),
        ("mean(nums)", 2.0),
        ("median([1, 2, 3, 4])", 2.5),
        ("max(nums)", 3),
        ("min(4, 2, 8)", 2),
        ("ceil(1.2)", 2.0),
        ("floor(1.8)", 1.0),
        ("round(2.5)", 3.0),
        ("type(nums)", "array"),
        ("type(1.5)", "float"),
        ("[type(nil), type(true), type(1), type('a'), type({a: 1})]",
         ["nil", "bool", "int", "string", "map"]),
        ("mean([])", 0.0),
        ("median(1, [3, 2])", 2.0),
        ("any(nums, # > 5) || all([], # > 5)", True),
        ("split('a,b,c', ',', 2)", ["a", "b,c"]),
        ("splitAfter('a,b', ',')", ["a,", "b"]),
        ("lastIndexOf('abcabc', 'b')", 4),
        ("get(people[0], 'name')", "Ann"),
        ("get(nums, 7)", None),
        ("bitand(12, 10)", 8),
        ("jsonpath(cfg, '$.employees[?(@.name==\"Baris\")].age')", [43]),
        ("jsonpath(cfg, '$.employees[?(@.age>42 && @.age<44)].age')", [43]),
        ("jsonpath(cfg, '$.employees[0:1]')", [{"name": "Baris", "age": 43}]),
        ("jsonpath(cfg, '$.employees[*].name')", ["Baris", "Mo", "Jai"]),
        ("jsonpath(cfg, '$.employees[-1].name')", "Jai"),
        ("jsonpath(cfg, '$..age')", [43, 42, 44]),
        ("jsonpath(cfg, '$.employees.length')", 3),
        ("jsonpath('[{\"value\": \"true\"}]', '$[0].value') == 'true'", True),
        ("sprig.add(1, '2', 3.9)", 6),
        ("sprig.div(-7, 2)", -3),
        ("sprig.mod(-7, 2)", -1),
        ("sprig.max(3, '10', 2)", 10),
        ("sprig.trunc(-3, 'abcdef')", "def"),
        ("sprig.substr(1, 3, 'abcdef')", "bc"),
        ("sprig.splitList('$', 'foo$bar$baz')", ["foo", "bar", "baz"]),
        ("sprig.split('$', 'foo$bar')._1", "bar"),
        ("sprig.join('-', [1, 'b'])", "1-b"),
        ("sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '${1}W')", "-W-xxW-"),
        ("sprig.regexFindAll('[2,4,6,8]', '123456789', -1)", ["2", "4", "6", "8"]),
        ("sprig.regexMatch('^[a-z]+@example\\\\.com$', 'me@example.com')", True),
        ("sprig.dig('a', 'b', 'none', {a: {b: 1}})", 1),
        ("sprig.dig('a', 'x', 'none', {a: {b: 1}})", "none"),
        ("sprig.until(3)", [0, 1, 2]),
        ("sprig.seq(3)", "1 2 3"),
        ("sprig.round(123.555555, 3)", 123.556),
        ("sprig.title('hello world')", "Hello World"),
        ("sprig.snakecase('FirstName')", "first_name"),
        ("sprig.kebabcase('FirstName')", "first-name"),
        ("sprig.camelcase('http_server')", "HttpServer"),
        ("sprig.initials('First Try')", "FT"),
        ("sprig.abbrev(5, 'hello world')", "he..."),
        ("sprig.int64('0x10')", 16),
        ("sprig.atoi('x')", 0),
        ("sprig.plural('one', 'many', 2)", "many"),
        ("sprig.indent(2, 'a\\nb')", "  a\n  b"),
        ("sprig.default('d', '')", "d"),
        ("sprig.default('d', 'given')", "given"),
        ("sprig.coalesce('', nil, 'x')", "x"),
        ("sprig.ternary('yes', 'no', 1 > 0)", "yes"),
        ("sprig.b64dec(sprig.b64enc('hi'))", "hi"),
        ("sprig.keys({b: 1, a: 2})", ["a", "b"]),
        ("sprig.pick({a: 1, b: 2}, 'a')", {"a": 1}),
        ("sprig.omit({a: 1, b: 2}, 'a')", {"b": 2}),
        ("sprig.hasKey({a: 1}, 'a')", True),
        ("sprig.without([1, 2, 3], 2)", [1, 3]),
        ("sprig.chunk(2, [1, 2, 3])", [[1, 2], [3]]),
        ("sprig.base('/a/b.txt')", "b.txt"),
        ("sprig.ext('/a/b.txt')", ".txt"),
        ("sprig.toJson({b: [1], a: 'x'})", '{"a":"x","b":[1]}'),
        ("sprig.quote('a', 1)", '"a" "1"'),
        ("sprig.cat('a', nil, 2)", "a 2"),
    ],
)
def test_expression_functions(expr: str, value: object) -> None:
    assert exprlang.evaluate(expr, ENV) == value


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("jsonpath(cfg, '$.nobody')", "key 'nobody' not found"),
        ("jsonpath('not json', '$.a')", "not JSON"),
        ("all(nums, # + 1)", "predicate must return a bool"),
        ("max([])", r"max\(\): not enough arguments"),
        ("min('a')", r"min\(\): invalid argument of type string"),
        ("sprig.div(1, 0)", "divide by zero"),
        ("sprig.fail('stop here')", "stop here"),
    ],
)
def test_expression_function_errors(expr: str, message: str) -> None:
    with pytest.raises(exprlang.ExprError, match=message):
        exprlang.evaluate(expr, ENV)


def test_a_workflow_using_closures_jsonpath_and_sprig(tmp_path: Path) -> None:
    """The shape of Argo's expression-reusing-verbose-snippets: map() aliases a verbose
    jsonpath/b64dec result as #, sprig does the arithmetic, jsonpath reads the result back."""
    text = r"""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: exprs}
spec:
  arguments:
    parameters:
    - name: weather
      value: '{"weekWeather": "eyJ0ZW1wcyI6IFszNCwgMjcsIDE1LCA1NywgNDZdfQo="}'
  entrypoint: main
  templates:
  - name: main
    inputs:
      parameters:
      - name: week
        value: >-
          {{= map([jsonpath(sprig.b64dec(jsonpath(workflow.parameters.weather,
          '$.weekWeather')), '$.temps')], {toJson({avg: sprig.add(#[0], #[1], #[2], #[3],
          #[4]) / 5, min: sprig.min(#[0], #[1], #[2], #[3], #[4])})})[0] }}
      - name: evens
        value: "{{=toJson(filter([1, 2, 3, 4], {# % 2 == 0}))}}"
    container:
      image: busybox
      command: [sh, -c]
      args:
      - >-
        echo {{=jsonpath(inputs.parameters.week, '$.avg')}}
        {{=jsonpath(inputs.parameters.week, '$.min')}} {{inputs.parameters.evens}}
"""
    s = run_yaml(text, tmp_path)
    assert s.phase == "Succeeded", [(n.display_name, n.message) for n in s.nodes]
    assert s.nodes[0].logs().strip() == "35.8 15 [2,4]"
