"""Reading a tabular dataset into pandas: delimited, parquet or JSON-lines files.

The files are fetched into a temporary folder, read one by one in the dataset's file order
and concatenated; partition values (``partition_format``) become columns, ``include_path``
adds the file's path as a ``Path`` column, and the definition's subsetting steps (take,
skip, keep_columns, drop_columns) are applied last. pandas (and pyarrow for parquet) are
imported only here: ``pip install 'kubeline[datasets]'``, and put them in the step image.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from kubeline.datasets.files import DatasetFile, Opener, fetch_file, list_files, partition_parser
from kubeline.datasets.spec import DatasetError, DatasetSpec


def _pandas() -> Any:
    try:
        import pandas  # type: ignore[import-untyped]
    except ImportError as exc:
        raise DatasetError("to_pandas_dataframe needs pandas, which is not installed",
                           "pip install 'kubeline[datasets]' (and add it to the step image)"
                           ) from exc
    return pandas


def _read_one(pd: Any, spec: DatasetSpec, path: Path, rel: str) -> Any:
    if spec.format == "parquet":
        try:
            return pd.read_parquet(path)
        except ImportError as exc:
            raise DatasetError("reading parquet files needs pyarrow, which is not installed",
                               "pip install 'kubeline[datasets]'") from exc
    if spec.format == "json_lines":
        return pd.read_json(path, lines=True, encoding=spec.option("encoding", "utf8"))
    if spec.format != "delimited":
        raise DatasetError(f"dataset format {spec.format!r} has no table",
                           "use Dataset.Tabular.from_delimited_files/from_parquet_files")
    header = spec.option("header", True)
    kwargs: dict[str, Any] = {
        "sep": spec.option("separator", ","),
        "header": 0 if header not in (False, "NO_HEADERS", "no_headers") else None,
        "encoding": spec.option("encoding", "utf8"),
        "skip_blank_lines": True,
    }
    if not spec.option("infer_column_types", True):
        kwargs["dtype"] = str
    if spec.option("empty_as_string", False):
        kwargs["keep_default_na"] = False
    try:
        return pd.read_csv(path, **kwargs)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DatasetError(f"dataset file {rel!r} cannot be read as delimited text: {exc}",
                           "check separator=, header= and encoding=") from exc


def to_dataframe(spec: DatasetSpec, opener: Opener, what: str = "dataset") -> Any:
    """The whole table (see the module docstring)."""
    pd = _pandas()
    files, _ = list_files(spec, opener, what)
    parse = partition_parser(spec.partition_format) if spec.partition_format else None
    frames = []
    with tempfile.TemporaryDirectory(prefix="kubeline-dataset-") as tmp:
        for index, item in enumerate(files):
            frames.append(_frame(pd, spec, opener, item, Path(tmp) / str(index), parse))
    frame = (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())
    return apply_transforms(frame, spec.transforms)


def _frame(pd: Any, spec: DatasetSpec, opener: Opener, item: DatasetFile, local: Path,
           parse: Any) -> Any:
    fetch_file(item, opener, local)
    frame = _read_one(pd, spec, local, item.rel)
    if parse is not None:
        values = parse(item.rel) or {}
        for name, value in values.items():
            frame[name] = value
    if spec.option("include_path", False):
        frame.insert(0, "Path", "/" + item.rel)
    return frame


def apply_transforms(frame: Any, transforms: tuple[tuple[str, Any], ...]) -> Any:
    for operation, argument in transforms:
        if operation == "take":
            frame = frame.head(int(argument))
        elif operation == "skip":
            frame = frame.iloc[int(argument):]
        elif operation == "keep_columns":
            frame = frame[[c for c in frame.columns if c in set(argument)]]
        elif operation == "drop_columns":
            frame = frame.drop(columns=[c for c in argument if c in frame.columns])
    return frame.reset_index(drop=True)
