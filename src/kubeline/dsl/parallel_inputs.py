"""The one seam between what a ParallelRunStep is given as input and what it splits.

``parallel_input`` turns each item of ``ParallelRunStep(inputs=[...])`` into the data object a
step consumes (DataReference, PipelineData, a DataPath PipelineParameter, or a dataset's
consumption once Datasets exist) and a spec saying how the runtime splits it: by files
(``{"type": "files"}``, mini-batches of N files) or by rows (``{"type": "tabular", "format":
"delimited" | "parquet", ...}``, mini-batches of about N bytes). A plain folder or file is
split by files, as a FileDataset is; ``TabularInput`` (or a TabularDataset) splits by rows.

An object that knows its own split (a Dataset) answers ``__kubeline_parallel_input__()`` with
``(data, spec)``; nothing else here needs to change when one arrives.
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


def parallel_input(step: str, item: Any) -> ParallelInput:
    """The seam: ``item`` as given to ParallelRunStep -> data object + split spec."""
    data, spec = item, {"type": "files"}
    adapt = getattr(item, PROTOCOL, None)
    if callable(adapt):
        data, spec = adapt()
    name = _name_of(data)
    if name is None:
        raise KubelineError(f"ParallelRunStep '{step}': input {item!r} cannot be split into "
                            "mini-batches",
                            "pass a DataReference, PipelineData, DataPath PipelineParameter or "
                            "TabularInput(...) of one")
    return ParallelInput(name=name, data=data, spec=dict(sorted(spec.items())))
