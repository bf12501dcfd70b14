"""Azure-only parts of the SDK (API.md tier 3): importable, so code moves over, but refused
at construction with one line saying what to use instead (docs/api.md)."""

from __future__ import annotations

from typing import Any, NoReturn

from kubeline.exceptions import KubelineError

_ADVICE = {
    "AutoMLStep": "Azure AutoML is a hosted service; run your own search in a PythonScriptStep",
    "KustoStep": "Azure Data Explorer has no open equivalent; query it from a PythonScriptStep "
                 "with the azure-kusto-data client",
    "AzureBatchStep": "Azure Batch is replaced by the cluster itself; use a CommandStep",
    "NotebookRunnerStep": "run the notebook with papermill in a CommandStep "
                          "(`papermill in.ipynb out.ipynb -p name value`)",
    "ModuleStep": "AML modules are not supported; use PythonScriptStep",
    "HyperDriveStep": "parameter sweeps are not supported yet; fan out PythonScriptSteps over a "
                      "list of parameter values",
    "ParallelRunStep": "ParallelRunStep is not supported yet; split the data and use "
                       "several PythonScriptSteps",
}


class _Refused:
    """Base of the refused classes: constructing one raises KubelineError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _refuse(type(self).__name__)


def _refuse(name: str) -> NoReturn:
    raise KubelineError(f"{name} is not supported by kubeline", _ADVICE[name])


AutoMLStep = type("AutoMLStep", (_Refused,), {"__doc__": _ADVICE["AutoMLStep"]})
KustoStep = type("KustoStep", (_Refused,), {"__doc__": _ADVICE["KustoStep"]})
AzureBatchStep = type("AzureBatchStep", (_Refused,), {"__doc__": _ADVICE["AzureBatchStep"]})
NotebookRunnerStep = type("NotebookRunnerStep", (_Refused,),
                          {"__doc__": _ADVICE["NotebookRunnerStep"]})
ModuleStep = type("ModuleStep", (_Refused,), {"__doc__": _ADVICE["ModuleStep"]})
HyperDriveStep = type("HyperDriveStep", (_Refused,), {"__doc__": _ADVICE["HyperDriveStep"]})
ParallelRunStep = type("ParallelRunStep", (_Refused,), {"__doc__": _ADVICE["ParallelRunStep"]})
