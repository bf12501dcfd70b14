"""Pipeline parameter values for this run, and the ones a step uses (its cache-key share).

``KUBELINE_PARAMETERS`` is the JSON object ``{"name": "{{workflow.parameters.name}}", ...}``
after Argo substituted the tags. Argo inserts values raw, so a value holding ``"`` or ``\\``
(every DataPath value does) leaves invalid JSON; the fallback parser then splits the text on
the known names, which the compiler wrote in sorted order with ``json.dumps``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kubeline.datapaths import safe_path
from kubeline.exceptions import KubelineError
from kubeline.graph.model import DataPathValue, ParamRef, Step


class ParameterError(KubelineError):
    """A parameter value that is missing or has the wrong shape."""


def default_text(param: Mapping[str, Any]) -> str:
    """A default as the workflow argument text (the compiler's rendering)."""
    value = param.get("default")
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _split_known(text: str, names: list[str]) -> dict[str, str] | None:
    """Parse ``{"a": "<raw>", "b": "<raw>"}`` with the names known in order."""
    if not names:
        return {} if text.strip() == "{}" else None
    values: dict[str, str] = {}
    pos = 0
    for index, name in enumerate(names):
        opener = ("{" if index == 0 else '", ') + json.dumps(name) + ': "'
        if not text.startswith(opener, pos):
            return None
        start = pos + len(opener)
        closer = ('", ' + json.dumps(names[index + 1]) + ': "') if index + 1 < len(names) \
            else '"}'
        end = text.find(closer, start) if index + 1 < len(names) else len(text) - 2
        if end < start or (index + 1 == len(names) and not text.endswith(closer)):
            return None
        values[name] = text[start:end]
        pos = end
    return values


def resolve(parameters: Mapping[str, Mapping[str, Any]], raw: str | None,
            indexed: Mapping[int, str] | None = None) -> dict[str, str]:
    """Every pipeline parameter's value for this run (text), defaults filling the gaps.

    ``indexed`` holds ``KUBELINE_PARAM_<i>`` values (i = position in pipeline.json's
    parameter list): one variable per value needs no escaping, so it wins over ``raw``.
    """
    values = {name: default_text(p) for name, p in parameters.items()}
    if raw is not None and raw.strip():
        values.update(_given(parameters, raw))
    names = list(parameters)
    for index, value in sorted((indexed or {}).items()):
        if not 0 <= index < len(names):
            raise ParameterError(f"KUBELINE_PARAM_{index}: no parameter {index} in the "
                                 "pipeline spec", "recompile the pipeline")
        values[names[index]] = _checked(names[index], value)
    return values


def _checked(name: str, value: str) -> str:
    if "{{" in value and "}}" in value:
        raise ParameterError(f"parameter '{name}': value {value!r} was never substituted",
                             "run the step through Argo or the local executor")
    return value


def _given(parameters: Mapping[str, Mapping[str, Any]], raw: str) -> dict[str, str]:
    given: dict[str, str] | None
    try:
        decoded = json.loads(raw)
        given = {str(k): str(v) for k, v in decoded.items()} if isinstance(decoded, dict) \
            else None
    except ValueError:
        given = _split_known(raw.strip(), sorted(parameters))
    if given is None:
        raise ParameterError("KUBELINE_PARAMETERS is not a JSON object of parameter values",
                             "it is set by the compiled template; recompile the pipeline")
    return {name: _checked(name, value) for name, value in given.items()}


def datapath(name: str, text: str) -> DataPathValue:
    """A DataPath parameter's value: JSON ``{"datastore": ..., "path": ...}``, its path made
    canonical and refused if it could leave the datastore."""
    try:
        data = json.loads(text)
        store, path = str(data["datastore"]), str(data.get("path", ""))
    except (ValueError, TypeError, KeyError) as exc:
        raise ParameterError(
            f"parameter '{name}': value {text!r} is not a DataPath",
            'pass JSON {"datastore": "<name>", "path": "<path on datastore>"}') from exc
    return DataPathValue(datastore=store, path=safe_path(path, f"parameter '{name}': path",
                                                         store=store))


def check_datapaths(step: Step, values: Mapping[str, str]) -> None:
    """Refuse a DataPath value of this step that could leave its datastore, before the step
    records or fetches anything (the value may come from -p, REST or a hand-written run)."""
    for name in sorted({i.parameter for i in step.inputs if i.source == "datapath_param"}):
        if name in values:
            datapath(name, values[name])


def used_by(step: Step, values: Mapping[str, str]) -> dict[str, str]:
    """The values of the parameters a step reads: its cache key depends on exactly these.

    DataPath values are canonicalised (sorted keys, no spaces) so formatting cannot change a key.
    """
    names = {a.name for a in step.arguments if isinstance(a, ParamRef)}
    names |= {v.name for _, v in step.params if isinstance(v, ParamRef)}
    datapaths = {i.parameter for i in step.inputs if i.source == "datapath_param"}
    used: dict[str, str] = {}
    for name in sorted(names | datapaths):
        if name not in values:
            raise ParameterError(f"step '{step.name}' uses parameter '{name}', which the "
                                 "pipeline does not define", "recompile the pipeline")
        if name in datapaths:
            value = datapath(name, values[name])
            used[name] = json.dumps({"datastore": value.datastore, "path": value.path},
                                    sort_keys=True, separators=(",", ":"))
        else:
            used[name] = values[name]
    return used
