"""Dataset: the SDK's entry point to datasets (``Dataset.File.from_files``, ``get_by_name``).

Paths are datastore paths, given as ``datastore.path('folder/*.csv')`` (a DataReference),
``(datastore, 'folder/**/*.csv')``, a DataPath, or a list of them; public http(s) URLs work
too. Each path goes through the datastore path check every datastore path gets
(``kubeline.datapaths``). Nothing is read when a dataset is created (``validate=True``
lists the files once to say early that nothing matches). docs/datasets.md has the rest.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from kubeline.aml_surface.checker import ArgumentError, Params, Surface, aml_surface
from kubeline.datasets import objects as O
from kubeline.datasets.objects import (
    AbstractDataset,
    DatasetConsumptionConfig,
    FileDataset,
    TabularDataset,
)
from kubeline.datasets.spec import DatasetError, DatasetSpec, Format, Kind, Source, check_source
from kubeline.datasets.spec import check_url as _check_url
from kubeline.exceptions import UserErrorException

__all__ = ["AbstractDataset", "Dataset", "DatasetConsumptionConfig", "FileDataset",
           "TabularDataset"]

_HEADERS = {True: True, False: False, "ALL_FILES_HAVE_SAME_HEADERS": True,
            "ONLY_FIRST_FILE_HAS_HEADERS": True, "COMBINE_ALL_FILES_HEADERS": True,
            "NO_HEADERS": False}
SQL = "SQL sources are Azure services: export the table to files in a datastore"
UNSUPPORTED_FORMAT = "read the files in a step (Dataset.File.from_files + as_mount())"


def _sources(path: Any, what: str) -> tuple[tuple[Source, ...], Any]:
    """The sources of ``path`` and the workspace of the first datastore given."""
    items = list(path) if isinstance(path, list) else [path]
    if not items:
        raise ArgumentError(f"{what}: path is empty", "pass datastore.path('folder/*.csv')")
    sources: list[Source] = []
    workspace = None
    for item in items:
        if isinstance(item, tuple) and len(item) == 2:
            store, rel = item
        elif hasattr(item, "datastore") and hasattr(item, "path_on_datastore"):
            store, rel = item.datastore, item.path_on_datastore  # DataReference, DataPath
        elif isinstance(item, str) and "://" in item:
            sources.append(_check_url(item, what))
            continue
        else:
            raise ArgumentError(f"{what}: path {item!r} is not a datastore path",
                                "pass datastore.path('folder/*.csv'), (datastore, 'path'), "
                                "a DataPath or an http(s) URL")
        name = getattr(store, "name", None)
        if not isinstance(name, str) or not hasattr(store, "workspace"):
            raise ArgumentError(f"{what}: {store!r} is not a Datastore",
                                "pass (Datastore(ws, 'name'), 'path')")
        if rel is not None and not isinstance(rel, str):
            raise ArgumentError(f"{what}: the path in {item!r} must be str, "
                                f"not {type(rel).__name__}")
        workspace = workspace or store.workspace
        sources.append(check_source(name, rel or "", what))
    return tuple(sources), workspace


def _create(cls: type[AbstractDataset], kind: Kind, fmt: Format, path: Any, what: str,
            validate: bool, partition_format: str | None,
            options: dict[str, Any]) -> AbstractDataset:
    if partition_format is not None and not isinstance(partition_format, str):
        raise ArgumentError(f"{what}: partition_format must be str, not "
                            f"{type(partition_format).__name__}")
    sources, workspace = _sources(path, what)
    spec = DatasetSpec(kind=kind, format=fmt, sources=sources,
                       options=tuple(sorted(options.items())),
                       partition_format=partition_format or "")
    if partition_format:
        from kubeline.datasets.files import partition_parser

        partition_parser(partition_format, f"{what}: partition_format")
    dataset = cls._of(spec, workspace=workspace)
    if validate and workspace is not None and not any(s.url for s in sources) \
            and not dataset.files():
        raise DatasetError(f"{what}: no files match "
                           f"{', '.join(s.describe() for s in sources)}",
                           "upload the data first, fix the path, or pass validate=False")
    return dataset


class _FileFactory:
    """``Dataset.File``: file datasets."""

    @staticmethod
    def from_files(path: Any, validate: bool = True, partition_format: str | None = None,
                   is_file: bool = False) -> FileDataset:
        """Files at datastore paths (globs allowed) or URLs."""
        return _create(FileDataset, "file", "files", path, "Dataset.File.from_files",
                       validate, partition_format, {})  # type: ignore[return-value]


class _TabularFactory:
    """``Dataset.Tabular``: tabular datasets (pandas reads the files)."""

    @staticmethod
    def from_delimited_files(path: Any, validate: bool = True, include_path: bool = False,
                             infer_column_types: bool = True,
                             separator: str = ",", header: Any = True,
                             partition_format: str | None = None,
                             support_multi_line: bool = False, empty_as_string: bool = False,
                             encoding: str = "utf8") -> TabularDataset:
        """CSV-like files; header True/False (or the SDK's PromoteHeadersBehavior names)."""
        key = getattr(header, "name", header)
        if key not in _HEADERS:
            raise ArgumentError(f"Dataset.Tabular.from_delimited_files: header {header!r} is "
                                "not supported", "pass True, False or a "
                                "PromoteHeadersBehavior name")
        options = {"separator": separator, "header": _HEADERS[key], "encoding": encoding,
                   "include_path": include_path, "infer_column_types": infer_column_types,
                   "empty_as_string": empty_as_string}
        return _create(TabularDataset, "tabular", "delimited", path,  # type: ignore[return-value]
                       "Dataset.Tabular.from_delimited_files", validate, partition_format,
                       options)

    @staticmethod
    def from_parquet_files(path: Any, validate: bool = True, include_path: bool = False,
                           partition_format: str | None = None) -> TabularDataset:
        """Parquet files (needs pyarrow)."""
        return _create(TabularDataset, "tabular", "parquet", path,  # type: ignore[return-value]
                       "Dataset.Tabular.from_parquet_files", validate, partition_format,
                       {"include_path": include_path})

    @staticmethod
    def from_json_lines_files(path: Any, validate: bool = True, include_path: bool = False,
                              partition_format: str | None = None,
                              invalid_lines: str = "error", encoding: str = "utf8"
                              ) -> TabularDataset:
        """JSON-lines files (one object per line)."""
        return _create(TabularDataset, "tabular", "json_lines", path,  # type: ignore[return-value]
                       "Dataset.Tabular.from_json_lines_files", validate, partition_format,
                       {"include_path": include_path, "encoding": encoding})


_COLUMN_TYPES = "column types: convert the DataFrame's columns with pandas (astype)"
_FACTORY_SURFACES = {
    "FileDatasetFactory": Surface(
        members={"upload_directory": "upload with datastore.upload(src_dir, target_path)"},
        params={"from_files": Params(ignored={"is_file": "kubeline: a path is a file when an "
                                                         "object has that key"})}),
    "TabularDatasetFactory": Surface(
        members={"from_sql_query": SQL,
                 "register_pandas_dataframe": "write the DataFrame to a datastore file and "
                                              "use from_delimited_files/from_parquet_files",
                 "register_dask_dataframe": UNSUPPORTED_FORMAT,
                 "register_spark_dataframe": UNSUPPORTED_FORMAT},
        params={name: Params(refused={"set_column_types": (None, _COLUMN_TYPES)},
                             ignored={"support_multi_line": "pandas reads quoted newlines",
                                      "invalid_lines": "kubeline: a bad line is an error"})
                for name in ("from_delimited_files", "from_parquet_files",
                             "from_json_lines_files")}),
}
FileDatasetFactory = aml_surface(_FACTORY_SURFACES["FileDatasetFactory"])(_FileFactory)
TabularDatasetFactory = aml_surface(_FACTORY_SURFACES["TabularDatasetFactory"])(_TabularFactory)


DATASET_SURFACE = Surface(
    members={name: advice for name, advice in {
        "Scenario": O.AZURE_DATA, "archive": O.AZURE_DATA, "auto_read_files": UNSUPPORTED_FORMAT,
        "compare_profiles": O.PROFILES, "create_snapshot": O.PROFILES,
        "definition": "use ds.spec (kubeline's definition)", "definition_version": O.AZURE_DATA,
        "delete_snapshot": O.PROFILES, "deprecate": O.AZURE_DATA, "diff": O.PROFILES,
        "from_binary_files": UNSUPPORTED_FORMAT,
        "from_delimited_files": "use Dataset.Tabular.from_delimited_files",
        "from_excel_files": UNSUPPORTED_FORMAT, "from_json_files": UNSUPPORTED_FORMAT,
        "from_pandas_dataframe": "write the DataFrame to a datastore file first",
        "from_parquet_files": "use Dataset.Tabular.from_parquet_files",
        "from_sql_query": SQL, "generate_profile": O.PROFILES, "get": "use Dataset.get_by_name",
        "get_all_snapshots": O.PROFILES, "get_definition": "use ds.spec",
        "get_definitions": "use ds.spec", "get_profile": O.PROFILES,
        "get_snapshot": O.PROFILES, "head": "use ds.take(n).to_pandas_dataframe()",
        "is_visible": O.AZURE_DATA, "reactivate": O.AZURE_DATA, "sample": O.SAMPLING,
        "state": O.AZURE_DATA, "to_spark_dataframe": O.SPARK_DATA,
        "to_pandas_dataframe": "call it on a TabularDataset (Dataset.Tabular.from_*_files)",
        "update_definition": "register the new definition with create_new_version=True",
        "workspace": "kept internally: pass the workspace where the SDK asks for it",
    }.items()},
    properties=frozenset({"definition", "definition_version", "is_visible", "state",
                          "workspace"}),
    params={"register": Params(refused={
        "visible": (True, "every registered kubeline dataset is visible"),
        "exist_ok": (False, "pass create_new_version=True, or register another name"),
        "update_if_exist": (False, "pass create_new_version=True")}),
        "update": Params(refused={"name": (None, "register under the new name instead"),
                                  "visible": (None, "every registered dataset is visible")})},
)


@aml_surface(DATASET_SURFACE)
class Dataset(AbstractDataset):
    """The SDK's Dataset: ``Dataset.File`` / ``Dataset.Tabular`` factories and the registry
    (``get_by_name``, ``get_by_id``, ``get_all``, ``list``). Datasets themselves are
    FileDataset / TabularDataset objects."""

    def __init__(self, definition: Any, workspace: Any = None, name: str | None = None,
                 id: str | None = None) -> None:
        raise UserErrorException("Dataset(...): create datasets with Dataset.File.from_files "
                                 "or Dataset.Tabular.from_*_files",
                                 "or get a registered one with Dataset.get_by_name(ws, name)")

    File = FileDatasetFactory
    Tabular = TabularDatasetFactory

    def register(self, workspace: Any, name: str, description: str | None = None,
                 tags: Mapping[str, Any] | None = None, create_new_version: bool = False
                 ) -> AbstractDataset:
        """As FileDataset/TabularDataset.register (the SDK's older Dataset class)."""
        return super().register(workspace, name, description, tags, create_new_version)

    def update(self, description: str | None = None, tags: Mapping[str, Any] | None = None
               ) -> AbstractDataset:
        return super().update(description, tags)

    @staticmethod
    def list(workspace: Any) -> builtins.list[AbstractDataset]:
        """The latest version of every registered dataset."""
        return builtins.list(AbstractDataset.get_all(workspace).values())


def dataset_parameter_text(value: Any, what: str) -> str:
    """A dataset given as a pipeline parameter value (submit, REST): its definition JSON."""
    if isinstance(value, AbstractDataset):
        return value.spec.to_json()
    if isinstance(value, str):
        from kubeline.datasets.spec import from_json

        return from_json(value, what).to_json()
    raise ArgumentError(f"{what}: a dataset parameter takes a FileDataset/TabularDataset, "
                        f"not {type(value).__name__}")

