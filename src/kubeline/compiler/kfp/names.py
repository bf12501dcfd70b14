"""Names in a KFP PipelineSpec: inputs are Python identifiers (a loaded pipeline is called
with keyword arguments), and kubeline's own inputs share one reserved prefix."""

from __future__ import annotations

import keyword
import re

from kubeline.exceptions import KubelineError
from kubeline.graph.model import Parameter

PREFIX = "kubeline_"
REGENERATE = "kubeline_regenerate_outputs"
CONTENT_AWARE = "kubeline_content_aware"
FINGERPRINT = "kubeline_fingerprint"
SNAPSHOT = "kubeline_snapshot"
KEY_OUTPUT = "kubeline_key"
_INVALID = re.compile(r"[^A-Za-z0-9_]")
PARAMETER_TYPES = {"string": "STRING", "int": "NUMBER_INTEGER", "float": "NUMBER_DOUBLE",
                   "bool": "BOOLEAN", "datapath": "STRUCT"}


def identifier(name: str) -> str:
    """A Python identifier for a name: other characters become '_'."""
    text = _INVALID.sub("_", name)
    if not text or text[0].isdigit() or keyword.iskeyword(text):
        text = f"p_{text}"
    return text


def upstream_input(producer: str) -> str:
    return f"kubeline_upstream_{producer.replace('-', '_')}"


def parameter_names(parameters: tuple[Parameter, ...]) -> dict[str, str]:
    """Pipeline parameter name -> KFP input name; two that clash, or one that takes
    kubeline's prefix, are refused naming the parameter."""
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for param in parameters:
        name = identifier(param.name)
        if name.startswith(PREFIX):
            raise KubelineError(f"PipelineParameter '{param.name}': names starting with "
                                f"'{PREFIX}' are kubeline's own KFP inputs", "rename it")
        if name in seen:
            raise KubelineError(f"PipelineParameters '{seen[name]}' and '{param.name}' both "
                                f"become KFP input '{name}'", "rename one of them")
        seen[name] = param.name
        out[param.name] = name
    return out
