"""The YAML emitter reads back as the data it was given (PyYAML's loader as the judge),
including the flow-style lines it writes for DAG tasks."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeline.compiler.yaml_emit import dump, dump_all

TRICKY = ["yes", "No", "on", "null", "~", "1", "0x1f", "1e3", "-", "- a", "a: b", "a #b",
          ".Inf", "-.INF", ".NaN", "+.nan", ".inf",
          "{x}", "[y]", "a, b", "s0 && s1", "&anchor", "*alias", "!tag", "%x", "@x", "`x`",
          "'q'", '"q"', "", " lead", "trail ", "line\nbreak", "tab\there", "ünï", "#", ":",
          "{{tasks.a.outputs.parameters.key}}", "python-script-0a1b2c"]
text = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12))
scalar = st.one_of(text, st.integers(-10**6, 10**6), st.booleans(), st.none(),
                   st.floats(allow_nan=False))
flat_task = st.dictionaries(st.sampled_from(["name", "depends", "template", "when", "x"]),
                            scalar, min_size=1)
json_like = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(text, inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(text, json_like, max_size=5))
def test_any_json_shaped_document_reads_back(data: dict[str, Any]) -> None:
    assert yaml.safe_load(dump(data)) == data


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(flat_task, st.dictionaries(st.sampled_from(["name", "arguments"]),
                                                     json_like, min_size=1)), min_size=1,
                max_size=5))
def test_task_lists_read_back(tasks: list[dict[str, Any]]) -> None:
    doc = {"spec": {"templates": [{"name": "main", "dag": {"tasks": tasks}}]}}
    assert yaml.safe_load(dump(doc)) == doc


def test_flat_tasks_are_one_line_each() -> None:
    tasks = [{"name": "s0", "template": "t"}, {"name": "s1", "depends": "s0 && b", "template": "t"},
             {"name": "s2", "arguments": {"parameters": [{"name": "p", "value": "1"}]}}]
    text = dump({"tasks": tasks})
    lines = text.splitlines()
    assert lines[1] == "- {name: s0, template: t}"
    assert lines[2] == '- {name: s1, depends: "s0 && b", template: t}'
    assert lines[3] == "- name: s2"  # not flat: block style
    assert yaml.safe_load(text) == {"tasks": tasks}


def test_documents_are_separated() -> None:
    docs = [{"a": 1}, {"b": [1, "2"]}]
    assert list(yaml.safe_load_all(dump_all(docs))) == docs
