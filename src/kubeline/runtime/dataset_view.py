"""``Run.get_context().input_datasets`` / ``output_datasets``: what the shim wrote for the
script (kubeline.runtime.datasets.script_view). Empty outside a step."""

from __future__ import annotations

import json
import os
from typing import Any

ENV_DATASETS_FILE = "KUBELINE_DATASETS_FILE"


def _load() -> dict[str, Any]:
    path = os.environ.get(ENV_DATASETS_FILE)
    if not path:
        return {}
    with open(path, encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def input_datasets() -> dict[str, Any]:
    from kubeline.datasets.objects import AbstractDataset
    from kubeline.datasets.spec import LOCAL, from_dict

    found: dict[str, Any] = {}
    for name, entry in _load().get("inputs", {}).items():
        if entry["mode"] != "direct":
            found[name] = entry["path"]
            continue
        spec = from_dict({**entry["spec"], "sources": [{"datastore": LOCAL,
                                                        "path": entry["path"]}]},
                         f"input dataset '{name}'", allow_local=True)
        found[name] = AbstractDataset._of(spec, opener=_no_datastore)
    return found


def output_datasets() -> dict[str, str]:
    return {name: str(path) for name, path in _load().get("outputs", {}).items()}


def _no_datastore(name: str) -> Any:
    from kubeline.datasets.spec import DatasetError

    raise DatasetError(f"datastore '{name}' is not open inside the step",
                       "the step's dataset inputs are read from their local copy")
