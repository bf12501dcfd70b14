"""FileDataset, TabularDataset and DatasetConsumptionConfig: the SDK's dataset objects.

A dataset object is a definition (``kubeline.datasets.spec.DatasetSpec``) plus a way to
open its datastores: the workspace's in a notebook, the step's own copy inside a step
(``Run.get_context().input_datasets``). Objects are immutable: ``take``, ``skip``,
``keep_columns`` return new, unregistered definitions.

For a pipeline step, a dataset is consumed through ``ds.as_named_input('name')`` (a
DatasetConsumptionConfig, "direct" mode: the step reads it with
``Run.get_context().input_datasets['name']``), then optionally ``.as_mount()`` /
``.as_download(path_on_compute)`` (the step is given a local path). ``ds.as_mount()`` on a
FileDataset is a shortcut with a name made from the definition. What a ParallelRunStep
needs: ``config.name``, ``config.mode``, ``config.dataset`` (``.spec`` for the definition,
``.files()`` for the file list with relative paths, ``to_pandas_dataframe()`` for tables).
"""

from __future__ import annotations

import builtins
import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.aml_surface.checker import ArgumentError, Params, Surface, aml_surface
from kubeline.datasets import files as F
from kubeline.datasets import registry
from kubeline.datasets.spec import DatasetError, DatasetSpec
from kubeline.exceptions import UserErrorException

if TYPE_CHECKING:
    from kubeline.stores.base import Store

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
_REGISTERED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
MODES = ("direct", "mount", "download")

AZURE_DATA = "an Azure data service feature: not available for kubeline datasets (docs/datasets.md)"
PROFILES = "dataset profiles and snapshots are Azure services: compute them in a step"
SPARK_DATA = "read the files with Spark yourself (ds.download() or a DataReference in direct mode)"
TIME_SERIES = "time-series filters: filter the DataFrame from to_pandas_dataframe()"
MOUNT_CTX = "use ds.download(target_path) here, or as_mount() for a pipeline step"
SAMPLING = "sample the DataFrame or file list yourself (random_split/take_sample)"


def workspace_opener(workspace: Any) -> F.Opener:
    """Datastore drivers of a workspace (a ``kubeline.dsl.workspace.Workspace``)."""
    from kubeline.exceptions import DatastoreNotFoundError
    from kubeline.stores import open_store

    opened: dict[str, Store] = {}

    def opener(name: str) -> Store:
        if name not in opened:
            config = workspace.config.datastores.get(name)
            if config is None:
                known = ", ".join(sorted(workspace.config.datastores))
                raise DatastoreNotFoundError(
                    f"datastore '{name}' is not registered in workspace '{workspace.name}'",
                    f"known datastores: {known}")
            opened[name] = open_store(name, config, workspace.root)
        return opened[name]

    return opener


def default_store(workspace: Any) -> Store:
    return workspace_opener(workspace)(workspace.config.default_datastore)


def _check_name(name: object, what: str, pattern: re.Pattern[str] = _NAME) -> str:
    if not isinstance(name, str) or not pattern.match(name):
        raise ArgumentError(f"{what}: name {name!r} is not valid",
                            "use letters, digits and '_', starting with a letter")
    return name


_CHECKED = Params()  # type and name checks only: one line naming the parameter


@aml_surface(Surface(params={name: _CHECKED for name in (
    "register", "get_by_name", "get_by_id", "as_named_input", "update", "add_tags",
    "remove_tags", "get_partition_key_values")}))
class AbstractDataset:
    """What file and tabular datasets share: the definition, registration, naming."""

    _spec: DatasetSpec
    _opener: F.Opener | None
    _workspace: Any
    _record: dict[str, Any]

    def __init__(self) -> None:
        raise UserErrorException(f"{type(self).__name__}: create datasets with "
                                 "Dataset.File.from_files / Dataset.Tabular.from_*_files",
                                 "or get a registered one with Dataset.get_by_name")

    @classmethod
    def _of(cls, spec: DatasetSpec, opener: F.Opener | None = None, workspace: Any = None,
            record: dict[str, Any] | None = None) -> AbstractDataset:
        dataset = cls.__new__(cls_for(spec) if cls is AbstractDataset else cls)
        dataset._spec = spec
        dataset._workspace = workspace
        dataset._opener = opener or (workspace_opener(workspace) if workspace is not None
                                     else None)
        dataset._record = dict(record or {})
        return dataset

    def _derived(self, spec: DatasetSpec) -> AbstractDataset:
        return type(self)._of(spec, self._opener, self._workspace)

    # -- identity -------------------------------------------------------------------------------
    @property
    def spec(self) -> DatasetSpec:
        """The definition: sources, format, options (kubeline's; what enters reuse keys)."""
        return self._spec

    @property
    def name(self) -> str | None:
        return self._spec.name or None

    @property
    def version(self) -> int | None:
        return self._spec.version or None

    @property
    def id(self) -> str | None:
        """``name:version`` once registered; None before (the SDK's ids are GUIDs)."""
        return f"{self._spec.name}:{self._spec.version}" if self._spec.name else None

    @property
    def description(self) -> str | None:
        return self._record.get("description") or None

    @property
    def tags(self) -> dict[str, Any]:
        return dict(self._record.get("tags") or {})

    @property
    def partition_keys(self) -> builtins.list[str]:
        """The names partition_format defines ('{state}/{year}/...' -> ['state', 'year'])."""
        return F.partition_keys(self._spec.partition_format)

    def _files_opener(self) -> F.Opener:
        if self._opener is not None:
            return self._opener

        def no_workspace(name: str) -> Store:  # URL sources never open a datastore
            raise DatasetError(f"{self!r}: no workspace to open datastore '{name}'",
                               "get the dataset with a workspace (Dataset.get_by_name(ws, ..))")

        return no_workspace

    def files(self) -> builtins.list[F.DatasetFile]:
        """The dataset's files now, in a stable order, with their relative paths."""
        return F.list_files(self._spec, self._files_opener(), repr(self))[0]

    def get_partition_key_values(self, partition_keys: Sequence[str] | None = None
                                 ) -> builtins.list[dict[str, Any]]:
        """The distinct partition values of the files, one dict per combination."""
        keys = list(partition_keys or self.partition_keys)
        unknown = [k for k in keys if k not in self.partition_keys]
        if unknown:
            raise ArgumentError(f"get_partition_key_values: partition key {unknown[0]!r} is "
                                "not in partition_format",
                                f"known: {', '.join(self.partition_keys) or 'none'}")
        parse = F.partition_parser(self._spec.partition_format)
        found: builtins.list[dict[str, Any]] = []
        for item in self.files():
            values = parse(item.rel)
            if values is not None:
                picked = {k: values[k] for k in keys}
                if picked not in found:
                    found.append(picked)
        return found

    # -- consumption by a step ------------------------------------------------------------------
    def _auto_name(self) -> str:
        """The input name of a dataset given without as_named_input: its registered name, or
        one made from its definition (the same definition, the same name)."""
        if self._spec.name:
            return re.sub(r"[^A-Za-z0-9_]", "_", self._spec.name)
        return "input_" + hashlib.sha256(self._spec.to_json().encode()).hexdigest()[:8]

    def as_named_input(self, name: str) -> DatasetConsumptionConfig:
        """The dataset as a step input called name (direct mode: the step gets the dataset
        object in ``Run.get_context().input_datasets[name]``)."""
        return DatasetConsumptionConfig(name, self)

    # -- registry -------------------------------------------------------------------------------
    def register(self, workspace: Any, name: str, description: str | None = None,
                 tags: Mapping[str, Any] | None = None, create_new_version: bool = False
                 ) -> AbstractDataset:
        """Keep this definition under name in the workspace's registry (a new version when
        create_new_version; the same version when the definition is unchanged)."""
        _check_name(name, "Dataset.register", _REGISTERED_NAME)
        record = registry.register(default_store(workspace), name, self._spec,
                                   description or "", dict(tags or {}), create_new_version)
        return type(self)._of(registry.spec_of(record), workspace=workspace, record=record)

    @staticmethod
    def get_by_name(workspace: Any, name: str, version: int | str = "latest",
                    **kwargs: Any) -> AbstractDataset:
        """A registered version (the latest by default)."""
        record = registry.get(default_store(workspace), name, version)
        return AbstractDataset._of(registry.spec_of(record), workspace=workspace, record=record)

    @staticmethod
    def get_by_id(workspace: Any, id: str, **kwargs: Any) -> AbstractDataset:
        """``name:version`` as ``id`` gives."""
        name, _, version = str(id).rpartition(":")
        if not name or not version.isdigit():
            raise registry.DatasetNotFound(f"dataset id {id!r} is not 'name:version'",
                                           "pass dataset.id of a registered dataset")
        return AbstractDataset.get_by_name(workspace, name, int(version))

    @staticmethod
    def get_all(workspace: Any) -> dict[str, AbstractDataset]:
        """The latest version of every registered dataset, by name."""
        store = default_store(workspace)
        return {name: AbstractDataset.get_by_name(workspace, name)
                for name in registry.names(store) if registry.versions(store, name)}

    def _registered(self, what: str) -> tuple[Store, dict[str, Any]]:
        if not self._spec.name or self._workspace is None:
            raise UserErrorException(f"{what}: the dataset is not registered",
                                     "register it first: ds = ds.register(ws, 'name')")
        store = default_store(self._workspace)
        return store, registry.get(store, self._spec.name, self._spec.version)

    def update(self, description: str | None = None, tags: Mapping[str, Any] | None = None
               ) -> AbstractDataset:
        store, record = self._registered("Dataset.update")
        if description is not None:
            record["description"] = description
        if tags is not None:
            record["tags"] = dict(tags)
        registry.update(store, record)
        self._record = record
        return self

    def add_tags(self, tags: Mapping[str, Any] | None = None) -> AbstractDataset:
        return self.update(tags={**self.tags, **dict(tags or {})})

    def remove_tags(self, tags: Sequence[str] | None = None) -> AbstractDataset:
        drop = set(tags or ())
        return self.update(tags={k: v for k, v in self.tags.items() if k not in drop})

    def unregister_all_versions(self) -> None:
        """Forget every version of this name (the data stays where it is)."""
        store, _ = self._registered("Dataset.unregister_all_versions")
        registry.delete_all(store, self._spec.name)

    def __repr__(self) -> str:
        where = ", ".join(s.describe() for s in self._spec.sources)
        named = f"name={self._spec.name!r}, version={self._spec.version}, " if self.name else ""
        return f"{type(self).__name__}({named}source=[{where}])"


def cls_for(spec: DatasetSpec) -> type[AbstractDataset]:
    return TabularDataset if spec.kind == "tabular" else FileDataset


SURFACES: dict[str, Surface] = {
    "FileDataset": Surface(
        members={"as_cache": AZURE_DATA, "as_hdfs": SPARK_DATA, "file_metadata": AZURE_DATA,
                 "filter": AZURE_DATA, "hydrate": AZURE_DATA, "mount": MOUNT_CTX,
                 "random_split": SAMPLING, "take_sample": SAMPLING,
                 "data_changed_time": AZURE_DATA},
        properties=frozenset({"data_changed_time"}),
        params={"download": Params(ignored={"ignore_not_found": "kubeline: always an error"}),
                **{name: _CHECKED for name in ("as_mount", "as_download", "take", "skip")}}),
    "TabularDataset": Surface(
        members={"download": "a tabular dataset's files: use Dataset.File.from_files",
                 "mount": MOUNT_CTX, "filter": AZURE_DATA, "get_profile": PROFILES,
                 "get_profile_runs": PROFILES, "submit_profile_run": PROFILES,
                 "partition_by": AZURE_DATA, "random_split": SAMPLING,
                 "take_sample": SAMPLING, "time_after": TIME_SERIES,
                 "time_before": TIME_SERIES, "time_between": TIME_SERIES,
                 "time_recent": TIME_SERIES, "timestamp_columns": TIME_SERIES,
                 "with_timestamp_columns": TIME_SERIES, "to_csv_files": AZURE_DATA,
                 "to_parquet_files": AZURE_DATA, "to_dask_dataframe": SPARK_DATA,
                 "to_spark_dataframe": SPARK_DATA, "data_changed_time": AZURE_DATA},
        properties=frozenset({"data_changed_time", "timestamp_columns"}),
        params={"to_pandas_dataframe": Params(ignored={
            "on_error": "kubeline: a bad value is an error of pandas' parser",
            "out_of_range_datetime": "kubeline: pandas decides"}),
            "keep_columns": Params(ignored={"validate": "kubeline: unknown columns are "
                                                        "ignored"}),
            "take": _CHECKED, "skip": _CHECKED, "drop_columns": _CHECKED}),
    "DatasetConsumptionConfig": Surface(members={"as_hdfs": SPARK_DATA},
                                        params={"as_mount": _CHECKED, "as_download": _CHECKED}),
}


@aml_surface(SURFACES["FileDataset"])
class FileDataset(AbstractDataset):
    """Files in datastores (or at URLs): mounted or downloaded for a step, or downloaded here."""

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """A step input with the files at a local path (named after the definition)."""
        return self.as_named_input(self._auto_name()).as_mount(path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        return self.as_named_input(self._auto_name()).as_download(path_on_compute)

    def to_path(self) -> builtins.list[str]:
        """The files' paths inside the dataset ('/folder/file.csv'), as the SDK lists them."""
        return ["/" + f.rel for f in self.files()]

    def download(self, target_path: str | None = None, overwrite: bool = False,
                 ignore_not_found: bool = False) -> builtins.list[str]:
        """Copy the files under target_path (a new temporary folder when None); returns
        their local paths. Existing files are an error unless overwrite."""
        import tempfile

        target = Path(target_path) if target_path else Path(tempfile.mkdtemp(prefix="dataset-"))
        found = self.files()
        if not overwrite:
            clash = [f.rel for f in found if (target / f.rel).exists()]
            if clash:
                raise UserErrorException(f"FileDataset.download: {str(target / clash[0])!r} "
                                         "exists", "pass overwrite=True")
        _, written = F.download(self._spec, self._files_opener(), target, repr(self), found)
        return [str(p) for p in written]

    def take(self, count: int) -> FileDataset:
        return self._derived(self._spec.with_transform("take", int(count)))  # type: ignore

    def skip(self, count: int) -> FileDataset:
        return self._derived(self._spec.with_transform("skip", int(count)))  # type: ignore

    def files(self) -> builtins.list[F.DatasetFile]:
        found = super().files()
        for operation, argument in self._spec.transforms:
            found = found[:argument] if operation == "take" else (
                found[argument:] if operation == "skip" else found)
        return found


@aml_surface(SURFACES["TabularDataset"])
class TabularDataset(AbstractDataset):
    """Rows read from delimited, parquet or JSON-lines files (pandas reads them)."""

    def to_pandas_dataframe(self, on_error: str = "null", out_of_range_datetime: str = "null"
                            ) -> Any:
        """The whole table as a pandas DataFrame (needs pandas; pyarrow for parquet)."""
        from kubeline.datasets.tabular import to_dataframe

        return to_dataframe(self._spec, self._files_opener(), repr(self))

    def take(self, count: int) -> TabularDataset:
        return self._derived(self._spec.with_transform("take", int(count)))  # type: ignore

    def skip(self, count: int) -> TabularDataset:
        return self._derived(self._spec.with_transform("skip", int(count)))  # type: ignore

    def keep_columns(self, columns: str | Sequence[str], validate: bool = False
                     ) -> TabularDataset:
        names = [columns] if isinstance(columns, str) else list(columns)
        return self._derived(self._spec.with_transform("keep_columns", names))  # type: ignore

    def drop_columns(self, columns: str | Sequence[str]) -> TabularDataset:
        names = [columns] if isinstance(columns, str) else list(columns)
        return self._derived(self._spec.with_transform("drop_columns", names))  # type: ignore


@aml_surface(SURFACES["DatasetConsumptionConfig"])
class DatasetConsumptionConfig:
    """A dataset as a named step input: direct (the object), mount or download (a path).

    ``dataset`` is a FileDataset/TabularDataset, a PipelineParameter whose default is one
    (the dataset can then change per run), or a pipeline output (OutputFileDatasetConfig).
    """

    def __init__(self, name: str, dataset: Any, mode: str = "direct",
                 path_on_compute: str | None = None) -> None:
        self._name = _check_name(name, "DatasetConsumptionConfig")
        if mode not in MODES:
            raise ArgumentError(f"DatasetConsumptionConfig '{name}': mode {mode!r} is not "
                                "supported", f"use one of {', '.join(MODES)}")
        if not _consumable(dataset):
            raise ArgumentError(f"DatasetConsumptionConfig '{name}': dataset must be a "
                                "FileDataset, TabularDataset, a PipelineParameter with one as "
                                f"default, or an OutputFileDatasetConfig, not "
                                f"{type(dataset).__name__}")
        if path_on_compute is not None and not isinstance(path_on_compute, str):
            raise ArgumentError(f"DatasetConsumptionConfig '{name}': path_on_compute must be "
                                f"str, not {type(path_on_compute).__name__}")
        self.dataset = dataset
        self.mode = mode
        self.path_on_compute = path_on_compute

    @property
    def name(self) -> str:
        return self._name

    def _with(self, mode: str, path_on_compute: str | None) -> DatasetConsumptionConfig:
        if mode != "direct" and _is_tabular(self.dataset) and not _is_output(self.dataset):
            raise ArgumentError(f"DatasetConsumptionConfig '{self._name}': a TabularDataset "
                                f"cannot be consumed with as_{mode}()",
                                "read it in the step with Run.get_context().input_datasets")
        return DatasetConsumptionConfig(self._name, self.dataset, mode, path_on_compute)

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """The files at a local path the step is given (kubeline fetches them first)."""
        return self._with("mount", path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        return self._with("download", path_on_compute)

    def __repr__(self) -> str:
        return f"$AZUREML_DATAREFERENCE_{self._name}"


def _consumable(value: Any) -> bool:
    if isinstance(value, AbstractDataset) or _is_output(value):
        return True
    default = getattr(value, "default_value", None)  # a PipelineParameter
    return isinstance(default, AbstractDataset)


def _is_output(value: Any) -> bool:
    return hasattr(value, "_dataset_read")  # OutputFileDatasetConfig and its tabular view


def _is_tabular(value: Any) -> bool:
    dataset = getattr(value, "default_value", value)
    return isinstance(dataset, TabularDataset)
