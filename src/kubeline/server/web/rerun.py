"""Start a run again from the manifest the executor stored for it.

The compiled manifest and the snapshots it names are immutable, so a rerun runs exactly
what the first run ran (with optional new parameter values), through the same background
runner as ``Experiment.submit``; it returns once the new run is in the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kubeline.history.db import History
from kubeline.history.manifest import INTERNAL_PREFIX
from kubeline.server.web.errors import WebError, bad_request
from kubeline.server.web.graph import stored_manifest

_KEPT_PROPERTIES = ("continue_on_step_failure", "source", "pipeline_id")


def _parameters(known: Mapping[str, Any], given: object) -> dict[str, str]:
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise bad_request("ParameterAssignments must be an object of name -> value",
                          'send {"ParameterAssignments": {"name": "value"}}')
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise bad_request(f"ParameterAssignments: unknown parameter(s) {', '.join(unknown)}",
                          f"the run's parameters are: {', '.join(sorted(known)) or 'none'}")
    out: dict[str, str] = {}
    for name, value in given.items():
        if not isinstance(value, str | int | float | bool):
            raise bad_request(f"ParameterAssignments.{name} must be a string or a number",
                              "send a scalar value")
        out[str(name)] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def rerun(db: History, state_dir: Path, ref: str, body: Mapping[str, Any]) -> str:
    """Start a new run of the same manifest; returns the new run's id."""
    from kubeline.local import background

    run = db.get_run(ref)
    docs = stored_manifest(state_dir, run.workflow)
    if docs is None:
        raise WebError(409, f"run '{run.id}' has no stored manifest to run again",
                       "submit the pipeline again from its source")
    regenerate = body.get("RegenerateOutputs", False)
    if not isinstance(regenerate, bool):
        raise bad_request("RegenerateOutputs must be true or false")
    parameters = {k: str(v) for k, v in run.parameters.items()
                  if not k.startswith(INTERNAL_PREFIX)}
    parameters.update(_parameters(run.parameters, body.get("ParameterAssignments")))
    workspace = str(run.properties.get("workspace") or "")
    properties = {k: run.properties[k] for k in _KEPT_PROPERTIES if k in run.properties}
    job = {
        "docs": docs,
        "parameters": parameters,
        "state_dir": str(Path(state_dir).resolve()),
        "info": {
            "started_by": f"web page: rerun of {run.id}",
            "experiment": run.experiment,
            "tags": dict(run.tags),
            "git": run.git,
            "properties": {**properties, "rerun_of": run.id},
            "regenerate_outputs": regenerate,
            "workspace": workspace or None,
        },
    }
    cwd = Path(workspace) if workspace and Path(workspace).is_dir() else Path(state_dir)
    _process, run_id, _workflow = background.start(job, Path(state_dir), cwd)
    return run_id
