"""The one seam between what a ParallelRunStep is given as input and what it splits.

``parallel_input`` turns each item of ``ParallelRunStep(inputs=[...])`` into the data object a
step consumes (DataReference, PipelineData, a DataPath PipelineParameter, or a dataset's
consumption once Datasets exist) and a spec saying how the runtime splits it: by files
(``{"type": "files"}``, mini-batches of N files) or by rows (``{"type": "tabular", "format":
"delimited" | "parquet", ...}``, mini-batches of about N bytes). A plain folder or file is
split by files, as a FileDataset is; ``TabularInput`` (or a TabularDataset) splits by rows.

Datasets (``kubeline.datasets``: FileDataset, TabularDataset, their ``as_named_input(...)``)
are recognised by their definition (``spec.kind``, ``spec.format``, its options), without
importing them; any other object that knows its own split answers
``__kubeline_parallel_input__()`` with ``(data, spec)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubeline.dsl.data import DataPath, DataReference, PipelineData, PipelineParameter
from kubeline.exceptions import KubelineError

FORMATS = ("delimited", "parquet")
PROTOCOL = "__kubeline_parallel_input__"


@dataclass(frozen=True)
class ParallelInput:
    """One input of a ParallelRunStep: the step's data object, its name, how to split it."""

    name: str
    data: Any
    spec: dict[str, Any]


class TabularInput:
    """Rows of delimited or parquet files under a DataReference, PipelineData or DataPath:
    ``run()`` receives pandas DataFrames (what ``Dataset.Tabular`` gives in AML)."""

    def __init__(self, data: Any, file_format: str = "delimited", separator: str = ",",
                 header: bool = True, include_path: bool = False) -> None:
        if file_format not in FORMATS:
            raise KubelineError(f"TabularInput: file_format {file_format!r} is not one of "
                                f"{', '.join(FORMATS)}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise KubelineError(f"TabularInput: separator must be one character, not "
                                f"{separator!r}")
        self.data = data
        self.spec: dict[str, Any] = {"type": "tabular", "format": file_format}
        if file_format == "delimited":
            self.spec.update({"separator": separator, "header": bool(header)})
        if include_path:
            self.spec["include_path"] = True

    def __kubeline_parallel_input__(self) -> tuple[Any, dict[str, Any]]:
        return self.data, dict(self.spec)


def _name_of(data: Any) -> str | None:
    if isinstance(data, DataReference):
        return data.data_reference_name
    if isinstance(data, PipelineData):
        return data.name
    param = data[0] if isinstance(data, tuple) and data else data
    if isinstance(param, PipelineParameter) and isinstance(param.default_value, DataPath):
        return param.name
    name = getattr(data, "name", None)  # a dataset consumption (as_named_input) has one
    return name if isinstance(name, str) and name else None


def _from_dataset(step: str, item: Any) -> tuple[Any, dict[str, Any]] | None:
    """A Dataset (FileDataset/TabularDataset, ``as_named_input(...)`` of one, or of a
    PipelineParameter holding one): its consumption, fetched (ParallelRunStep reads the data
    itself, whatever the mode), and its split. None for anything else."""
    consumption = item
    if hasattr(item, "as_named_input") and hasattr(item, "spec"):  # a bare dataset
        consumption = item.as_named_input(item._auto_name())
    dataset = getattr(consumption, "dataset", None)
    if dataset is None or not hasattr(consumption, "mode"):
        return None
    if hasattr(dataset, "_dataset_read"):  # an OutputFileDatasetConfig read as input
        raise KubelineError(f"ParallelRunStep '{step}': a pipeline output read as a dataset "
                            "cannot be split yet",
                            "pass the producing step's PipelineData (TabularInput(...) for rows)")
    definition = getattr(getattr(dataset, "default_value", dataset), "spec", None)
    kind = getattr(definition, "kind", None)
    if definition is None or kind not in ("file", "tabular"):
        return None
    if consumption.mode == "direct":
        consumption = type(consumption)(consumption.name, dataset, "mount",
                                        consumption.path_on_compute)
    if kind == "file":
        return consumption, {"type": "files"}
    if definition.format not in FORMATS:
        raise KubelineError(f"ParallelRunStep '{step}': {definition.format} datasets cannot be "
                            "split into mini-batches", "use delimited or parquet files")
    split: dict[str, Any] = {"type": "tabular", "format": definition.format}
    if definition.format == "delimited":
        split.update({"separator": definition.option("separator", ","),
                      "header": bool(definition.option("header", True))})
    if definition.option("include_path", False):
        split["include_path"] = True
    return consumption, split


def parallel_input(step: str, item: Any) -> ParallelInput:
    """The seam: ``item`` as given to ParallelRunStep -> data object + split spec."""
    data, spec = item, {"type": "files"}
    adapt = getattr(item, PROTOCOL, None)
    dataset = None if callable(adapt) else _from_dataset(step, item)
    if callable(adapt):
        data, spec = adapt()
    elif dataset is not None:
        data, spec = dataset
    name = _name_of(data)
    if name is None:
        raise KubelineError(f"ParallelRunStep '{step}': input {item!r} cannot be split into "
                            "mini-batches",
                            "pass a DataReference, PipelineData, DataPath PipelineParameter or "
                            "TabularInput(...) of one")
    return ParallelInput(name=name, data=data, spec=dict(sorted(spec.items())))
