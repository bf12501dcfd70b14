"""OutputFileDatasetConfig: a step's output folder, optionally copied to a destination and
registered as a dataset when the step succeeds.

It is a PipelineData underneath: the output is committed under the step's reuse key like any
PipelineData, later steps read it with ``.as_input()`` (or ``.read_delimited_files()`` /
``.read_parquet_files()`` for a table) and that orders the steps. With ``destination=(datastore,
'path/{run-id}/{output-name}')`` the shim also copies the files there after the step succeeds
(``{run-id}`` and ``{output-name}`` are replaced); without one the files stay at their keyed
location only (no second copy: docs/decisions/0029-datasets.md). ``register_on_complete``
registers the files (the destination, else the keyed location) as a new FileDataset version.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from kubeline.aml_surface.checker import ArgumentError, Params, Surface, aml_surface
from kubeline.datapaths import safe_path
from kubeline.datasets.objects import DatasetConsumptionConfig, _check_name
from kubeline.datasets.spec import DatasetSpec, Format
from kubeline.dsl.data import PipelineData

_COUNTER = itertools.count(1)
_REGISTERED = "use letters, digits, '_', '.' or '-'"
_TRANSFORM = "subset the DataFrame in the consuming step (input_datasets[name])"
_GLOB_READ = "keep only the wanted files in the output folder (or as_upload(source_globs=...))"
_COLUMN_TYPES = "convert the DataFrame's columns with pandas (astype) in the consuming step"


def _destination(value: Any, name: str) -> tuple[Any, str] | None:
    if value is None:
        return None
    if not (isinstance(value, tuple) and len(value) == 2):
        raise ArgumentError(f"OutputFileDatasetConfig '{name}': destination must be a tuple "
                            f"(datastore, 'path'), not {type(value).__name__}")
    store, path = value
    if not hasattr(store, "workspace") or not isinstance(getattr(store, "name", None), str):
        raise ArgumentError(f"OutputFileDatasetConfig '{name}': destination[0] must be a "
                            f"Datastore, not {type(store).__name__}")
    return store, safe_path(path or "", f"OutputFileDatasetConfig '{name}': destination path",
                            store=store.name)


_READ_REFUSED = Params(refused={"path_glob": (None, _GLOB_READ),
                                "set_column_types": (None, _COLUMN_TYPES)})


@aml_surface(Surface(params={
    "as_mount": Params(ignored={"disable_metadata_cache": "kubeline has no mount metadata "
                                                          "cache"}),
    "read_delimited_files": _READ_REFUSED, "read_parquet_files": _READ_REFUSED,
    "as_upload": Params(), "register_on_complete": Params(), "as_input": Params()}))
class OutputFileDatasetConfig(PipelineData):
    """A step's output folder as a dataset (see the module docstring). Pass it in the
    producing step's ``arguments`` (or ``outputs``); consumers take ``.as_input()``."""

    def __init__(self, name: str | None = None, destination: tuple[Any, str] | None = None,
                 source: str | None = None, partition_format: str | None = None) -> None:
        label = name if name is not None else f"output_{next(_COUNTER)}"
        _check_name(label, "OutputFileDatasetConfig")
        target = _destination(destination, label)
        if source is not None and not isinstance(source, str):
            raise ArgumentError(f"OutputFileDatasetConfig '{label}': source must be str, not "
                                f"{type(source).__name__}")
        if partition_format is not None and not isinstance(partition_format, str):
            raise ArgumentError(f"OutputFileDatasetConfig '{label}': partition_format must be "
                                f"str, not {type(partition_format).__name__}")
        super().__init__(label, datastore=target[0] if target else None,
                         output_path_on_compute=source, is_directory=True)
        self.destination = target
        self.source = source
        self.partition_format = partition_format
        self._register: dict[str, Any] | None = None
        self._upload_overwrite = False
        self._source_globs: list[str] = []

    # -- how the output is written and kept ---------------------------------------------------
    def _clone(self, **changes: Any) -> OutputFileDatasetConfig:
        clone = OutputFileDatasetConfig.__new__(OutputFileDatasetConfig)
        clone.__dict__.update(self.__dict__)
        clone.__dict__.update(changes)
        return clone

    def as_upload(self, overwrite: bool = False,
                  source_globs: str | Sequence[str] | None = None) -> OutputFileDatasetConfig:
        """The files are written locally and uploaded when the script ends; source_globs
        limits what reaches the destination ('*.csv', '**/*.json')."""
        globs = [source_globs] if isinstance(source_globs, str) else list(source_globs or [])
        if not all(isinstance(g, str) for g in globs):
            raise ArgumentError(f"OutputFileDatasetConfig '{self.name}': source_globs must be "
                                "str or a list of str")
        return self._clone(output_mode="upload", _upload_overwrite=bool(overwrite),
                           _source_globs=globs)

    def as_mount(self, disable_metadata_cache: bool = False  # type: ignore[override]
                 ) -> OutputFileDatasetConfig:
        return self._clone(output_mode="mount")

    def register_on_complete(self, name: str, description: str | None = None,
                             tags: Mapping[str, Any] | None = None) -> OutputFileDatasetConfig:
        """Register the files as a new version of dataset ``name`` when the step succeeds."""
        from kubeline.datasets.objects import _REGISTERED_NAME

        _check_name(name, "register_on_complete", _REGISTERED_NAME)
        return self._clone(_register={"name": name, "description": description or "",
                                      "tags": {str(k): str(v) for k, v in (tags or {}).items()}})

    # -- consumers ------------------------------------------------------------------------------
    @property
    def _dataset_read(self) -> DatasetSpec:
        return DatasetSpec(kind="file", format="files", sources=(),
                           partition_format=self.partition_format or "")

    @property
    def _output(self) -> OutputFileDatasetConfig:
        return self

    def as_input(self, name: str | None = None) -> DatasetConsumptionConfig:
        """This output as a later step's input (mounted: the step gets its folder)."""
        return DatasetConsumptionConfig(name or self.name, self, "mount")

    def read_delimited_files(self, include_path: bool = False, separator: str = ",",
                             header: bool = True, partition_format: str | None = None
                             ) -> OutputTabularDatasetConfig:
        """Later steps read this output as a table (input_datasets[name] is a
        TabularDataset)."""
        options = {"include_path": include_path, "separator": separator, "header": header}
        return OutputTabularDatasetConfig(self, "delimited", options,
                                          partition_format or self.partition_format or "")

    def read_parquet_files(self, include_path: bool = False, partition_format: str | None = None
                           ) -> OutputTabularDatasetConfig:
        return OutputTabularDatasetConfig(self, "parquet", {"include_path": include_path},
                                          partition_format or self.partition_format or "")

    def settings(self) -> str:
        """Canonical JSON of what the shim does after the step (the StepOutput's dataset
        field); "" when there is nothing beyond a PipelineData."""
        data: dict[str, Any] = {}
        if self.destination is not None:
            data["destination"] = {"datastore": self.destination[0].name,
                                   "path": self.destination[1]}
        if self._upload_overwrite:
            data["overwrite"] = True
        if self._source_globs:
            data["source_globs"] = self._source_globs
        if self._register is not None:
            data["register"] = self._register
        if self.partition_format:
            data["partition_format"] = self.partition_format
        return json.dumps(data, sort_keys=True, separators=(",", ":")) if data else ""


_TABULAR_OUTPUT = Surface(
    members={"as_mount": "a table is read, not mounted: use the OutputFileDatasetConfig",
             "as_upload": "call as_upload() on the OutputFileDatasetConfig",
             "drop_columns": _TRANSFORM, "keep_columns": _TRANSFORM,
             "random_split": _TRANSFORM, "register_on_complete": "register the "
             "OutputFileDatasetConfig with register_on_complete"})


@aml_surface(_TABULAR_OUTPUT)
class OutputTabularDatasetConfig:
    """An OutputFileDatasetConfig read as a table by later steps."""

    def __init__(self, output: OutputFileDatasetConfig, fmt: Format,
                 options: dict[str, Any], partition_format: str) -> None:
        self._output = output
        self._format = fmt
        self._options = options
        self._partition_format = partition_format

    @property
    def name(self) -> str:
        return self._output.name

    @property
    def _dataset_read(self) -> DatasetSpec:
        return DatasetSpec(kind="tabular", format=self._format, sources=(),
                           options=tuple(sorted(self._options.items())),
                           partition_format=self._partition_format)

    def as_input(self, name: str | None = None) -> DatasetConsumptionConfig:
        """The table as a later step's input: ``Run.get_context().input_datasets[name]``."""
        return DatasetConsumptionConfig(name or self.name, self, "direct")
