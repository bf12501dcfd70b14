"""Mini-batches: the planner splits inputs into them, a worker turns one into run()'s argument.

A mini-batch is a small JSON record naming its input and its part of it:

* files: ``{"input": "images", "files": ["a.png", "b.png"]}`` (paths relative to the input);
* delimited rows: ``{"input": "iris", "file": "part-1.csv", "start": 1024, "end": 2048}``,
  a byte range cut at line ends (a quoted field holding a newline may be cut; say so in
  docs/parallel-run.md);
* parquet rows: ``{"input": "t", "file": "x.parquet", "row_groups": [0, 1]}``;
* one partition: ``{"input": "t", "keys": ["us", 2024]}`` (rows whose partition_keys columns
  hold these values).

Records hold no absolute path: a worker pod finds the input where its own shim put it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kubeline.runtime.parallel.settings import Settings
from kubeline.runtime.spec import SpecError

Batch = dict[str, Any]


def _files(root: Path) -> list[str]:
    """Files of an input, relative and sorted; a file input is its own one file."""
    if root.is_file():
        return [root.name]
    if not root.is_dir():
        raise SpecError(f"input '{root.name}' is neither a file nor a folder on this machine")
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and not any(part.startswith(".")
                                             for part in p.relative_to(root).parts))


def _path(root: Path, rel: str) -> Path:
    return root if root.is_file() else root / rel


def plan(settings: Settings, roots: Mapping[str, Path]) -> list[Batch]:
    """Every mini-batch of every input, inputs in the step's order, deterministic."""
    batches: list[Batch] = []
    for name, root in roots.items():
        spec = settings.inputs.get(name, {"type": "files"})
        if spec.get("type") == "tabular":
            if settings.partition_keys:
                batches += _partitions(name, root, spec, settings.partition_keys)
            else:
                batches += _row_batches(name, root, spec, settings.bytes_per_batch())
        else:
            if settings.partition_keys:
                raise SpecError(f"input '{name}': partition_keys split rows of a tabular input",
                                "pass TabularInput(...) (or a TabularDataset), or use "
                                "mini_batch_size for files")
            files = _files(root)
            size = settings.files_per_batch()
            batches += [{"input": name, "files": files[i:i + size]}
                        for i in range(0, len(files), size)]
    return batches


def _row_batches(name: str, root: Path, spec: Mapping[str, Any], size: int) -> Iterator[Batch]:
    for rel in _files(root):
        path = _path(root, rel)
        if spec.get("format") == "parquet":
            yield from _parquet_batches(name, rel, path, size)
        else:
            yield from _delimited_batches(name, rel, path, size, bool(spec.get("header", True)))


def _delimited_batches(name: str, rel: str, path: Path, size: int,
                       header: bool) -> Iterator[Batch]:
    total = path.stat().st_size
    with path.open("rb") as handle:
        start = len(handle.readline()) if header else 0
        while start < total:
            handle.seek(min(start + size, total))
            if handle.tell() < total:
                handle.seek(handle.tell() - 1)  # a cut that falls on a line end stays there
                handle.readline()
            end = handle.tell()
            yield {"input": name, "file": rel, "start": start, "end": end}
            start = end


def _pyarrow_parquet() -> Any:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:
        raise SpecError("a parquet input needs pyarrow where the step runs",
                        "pip install pyarrow (or add it to the step's image)") from None
    return pq


def _parquet_batches(name: str, rel: str, path: Path, size: int) -> Iterator[Batch]:
    meta = _pyarrow_parquet().ParquetFile(path).metadata
    groups: list[int] = []
    held = 0
    for index in range(meta.num_row_groups):
        groups.append(index)
        held += meta.row_group(index).total_byte_size
        if held >= size:
            yield {"input": name, "file": rel, "row_groups": groups}
            groups, held = [], 0
    if groups:
        yield {"input": name, "file": rel, "row_groups": groups}


def read_table(root: Path, spec: Mapping[str, Any]) -> Any:
    """All rows of a tabular input as one DataFrame (partition_keys need them together)."""
    import pandas as pd  # type: ignore[import-untyped]

    frames = [_read_file(root, rel, spec) for rel in _files(root)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _read_file(root: Path, rel: str, spec: Mapping[str, Any]) -> Any:
    import pandas as pd

    path = _path(root, rel)
    if spec.get("format") == "parquet":
        frame = _pyarrow_parquet().read_table(path).to_pandas()
    else:
        frame = pd.read_csv(path, sep=spec.get("separator", ","),
                            header=0 if spec.get("header", True) else None)
    return _with_path(frame, rel, spec)


def _with_path(frame: Any, rel: str, spec: Mapping[str, Any]) -> Any:
    if spec.get("include_path"):
        frame.insert(0, "Path", rel)
    return frame


def _partitions(name: str, root: Path, spec: Mapping[str, Any],
                keys: tuple[str, ...]) -> list[Batch]:
    frame = read_table(root, spec)
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise SpecError(f"input '{name}': partition_keys {', '.join(missing)} are not columns",
                        "columns: " + ", ".join(map(str, frame.columns)))
    groups = frame.groupby(list(keys), sort=True, dropna=False).size().index
    return [{"input": name, "keys": [_plain(v) for v in (g if isinstance(g, tuple) else (g,))]}
            for g in groups]


def _plain(value: Any) -> Any:
    """A numpy scalar as the JSON value it holds."""
    return value.item() if hasattr(value, "item") else value


class Loader:
    """Turns mini-batch records into run()'s argument inside one worker process."""

    def __init__(self, settings: Settings, roots: Mapping[str, Path]) -> None:
        self.settings = settings
        self.roots = roots
        self._tables: dict[str, Any] = {}

    def load(self, batch: Batch) -> Any:
        root = self.roots[batch["input"]]
        spec = self.settings.inputs.get(batch["input"], {"type": "files"})
        if "files" in batch:
            return [str(_path(root, rel)) for rel in batch["files"]]
        if "keys" in batch:
            return self._partition(batch["input"], root, spec, batch["keys"])
        if "row_groups" in batch:
            table = _pyarrow_parquet().ParquetFile(_path(root, batch["file"]))
            return _with_path(table.read_row_groups(batch["row_groups"]).to_pandas(),
                              batch["file"], spec)
        return self._rows(root, batch, spec)

    def _rows(self, root: Path, batch: Batch, spec: Mapping[str, Any]) -> Any:
        import pandas as pd

        path = _path(root, batch["file"])
        header = bool(spec.get("header", True))
        with path.open("rb") as handle:
            first = handle.readline() if header else b""
            handle.seek(batch["start"])
            chunk = handle.read(batch["end"] - batch["start"])
        frame = pd.read_csv(io.BytesIO(first + chunk), sep=spec.get("separator", ","),
                            header=0 if header else None)
        return _with_path(frame, batch["file"], spec)

    def _partition(self, name: str, root: Path, spec: Mapping[str, Any],
                   values: list[Any]) -> Any:
        if name not in self._tables:
            self._tables[name] = read_table(root, spec)
        frame = self._tables[name]
        keys = list(self.settings.partition_keys or ())
        mask = None
        for key, value in zip(keys, values, strict=True):
            hit = frame[key].isna() if value is None else frame[key] == value
            mask = hit if mask is None else mask & hit
        return frame[mask].reset_index(drop=True)


def item_count(mini_batch: Any) -> int:
    """Files or rows in a mini-batch: what error_threshold counts."""
    return len(mini_batch)


def describe(batch: Batch) -> str:
    """One line naming a mini-batch, for its log section."""
    if "files" in batch:
        files = batch["files"]
        more = f" ... {files[-1]}" if len(files) > 1 else ""
        return f"{batch['input']}: {len(files)} file(s) {files[0]}{more}"
    if "keys" in batch:
        return f"{batch['input']}: partition {batch['keys']}"
    if "row_groups" in batch:
        return f"{batch['input']}: {batch['file']} row groups {batch['row_groups']}"
    return f"{batch['input']}: {batch['file']} bytes {batch['start']}-{batch['end']}"
