"""Parts of issue 13 not built yet (Datasets, ParallelRunStep, HyperDriveStep): importable, so
AML code moves over and the parity tool counts them as refused, but each refuses where it is
created or called with one line saying it is not available yet.

Whoever builds one of these replaces its entry here with an import of the real class (the
``azureml`` tree re-exports whatever this module and the rest of ``kubeline.dsl`` provide).
"""

from __future__ import annotations

from typing import Any, NoReturn

from kubeline.exceptions import KubelineError

REFUSED_ATTR = "__kubeline_refused__"

_PENDING = {
    # issue 13 point 2: Datasets and OutputFileDatasetConfig
    "Dataset": "Datasets: use a DataReference (or a DataPath PipelineParameter) for now",
    "FileDataset": "Datasets: use a DataReference for now",
    "TabularDataset": "Datasets: read the file with pandas from a DataReference for now",
    "OutputFileDatasetConfig": "OutputFileDatasetConfig: use PipelineData for now",
    "DatasetConsumptionConfig": "Datasets: use a DataReference for now",
    # point 3: ParallelRunStep
    "ParallelRunStep": "ParallelRunStep: split the data and fan out PythonScriptSteps for now",
    "ParallelRunConfig": "ParallelRunStep: split the data and fan out PythonScriptSteps for now",
    "EntryScript": "ParallelRunStep's EntryScript: log with print() or the logging module",
    # point 4: a HyperDrive run submitted on its own (HyperDriveStep is built)
    "HyperDriveRun": "a HyperDrive run outside a pipeline: put a HyperDriveStep in a Pipeline "
                     "and read it with HyperDriveStepRun",
}

PENDING_NAMES = tuple(sorted(_PENDING))


class NotAvailableYet(KubelineError):
    """A name of the AML SDK that this version of kubeline does not provide yet."""


def refuse(name: str) -> NoReturn:
    raise NotAvailableYet(f"{name} is not available yet in this version of kubeline",
                          _PENDING[name])


class _Pending:
    """Base of the not-yet classes: creating one (or calling a class method) refuses."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        refuse(type(self).__name__)


class _PendingMeta(type):
    """Class attributes (``Dataset.File.from_files``, ``PrimaryMetricGoal.MAXIMIZE``) refuse."""

    def __getattr__(cls, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        refuse(cls.__name__)


def _pending_class(name: str) -> type:
    return _PendingMeta(name, (_Pending,), {"__doc__": _PENDING[name], REFUSED_ATTR: _PENDING[name],
                                            "__module__": __name__})


def _pending_function(name: str) -> Any:
    def pending(*args: Any, **kwargs: Any) -> NoReturn:
        refuse(name)

    pending.__name__ = pending.__qualname__ = name
    pending.__doc__ = _PENDING[name]
    setattr(pending, REFUSED_ATTR, _PENDING[name])
    return pending


def __getattr__(name: str) -> Any:
    if name not in _PENDING:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = _pending_function(name) if name[0].islower() else _pending_class(name)
    globals()[name] = value
    return value
