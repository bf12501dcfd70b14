"""The copy-paste curl command for an endpoint (AML users could not call theirs from
outside Python): the docs, the API and the web page all show this one."""

from __future__ import annotations

import json
from typing import Any

from kubeline.server.registry import PublishedRecord


def example_body(record: PublishedRecord, experiment: str = "my-experiment",
                 version: str | None = None) -> dict[str, Any]:
    """A body that works as is: every parameter with its published default."""
    params = {p.name: p.default for p in record.parameters if p.type != "datapath"}
    paths = {p.name: {"DataStoreName": (p.default or {}).get("datastore", ""),
                      "RelativePath": (p.default or {}).get("path", "")}
             for p in record.parameters if p.type == "datapath" and isinstance(p.default, dict)}
    body: dict[str, Any] = {"ExperimentName": experiment, "ParameterAssignments": params}
    if paths:
        body["DataPathAssignments"] = paths
    if version is not None:
        body["PipelineVersion"] = version
    return body


def curl_command(url: str, body: dict[str, Any]) -> str:
    """A POSIX shell command; the token comes from $KUBELINE_TOKEN, never inlined."""
    data = json.dumps(body, sort_keys=True).replace("'", "'\"'\"'")
    return (f"curl -sS -X POST '{url}' -H \"Authorization: Bearer $KUBELINE_TOKEN\" "
            f"-H 'Content-Type: application/json' -d '{data}'")
