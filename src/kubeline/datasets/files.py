"""Which files a dataset holds, and fetching them: globs, the folder layout, partitions.

Glob rules (the SDK's): ``*`` and ``?`` match within one folder level, ``**`` any number of
levels, ``[abc]`` one of the characters. A path without a glob is a file when an object has
that key, else the folder under it. Every file gets a relative path: its key relative to the
non-glob folder its source starts from; with several sources, relative to the folder the
sources' starting folders share. A dataset of one file given by its own path is that file
(mount/download hand the script the file's path, as the SDK does); any other dataset is a
folder. Standard library plus ``kubeline.stores``.
"""

from __future__ import annotations

import os
import posixpath
import re
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kubeline.datapaths import contained, path_problem
from kubeline.datasets.spec import LOCAL, DatasetError, DatasetSpec, Source
from kubeline.stores.base import Store
from kubeline.stores.keys import check_key

Opener = Callable[[str], Store]  # datastore name -> its driver
_GLOB = re.compile(r"[*?\[]")
_URL_TIMEOUT = 120


@dataclass(frozen=True)
class DatasetFile:
    """One file of a dataset: where it is and its path inside the dataset's folder."""

    source: Source
    key: str  # the object's key (datastore), the URL, or the absolute local path
    rel: str


def has_glob(path: str) -> bool:
    return bool(_GLOB.search(path))


def glob_regex(pattern: str) -> re.Pattern[str]:
    """The SDK's glob as a regular expression over a whole key."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and "]" in pattern[i + 1:]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1:end].replace("\\", "\\\\")
            out.append(f"[{'^' + body[1:] if body.startswith('!') else body}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z")


def base_folder(path: str) -> str:
    """The folder a glob starts from: the segments before the first one with a glob."""
    parts = path.split("/") if path else []
    kept: list[str] = []
    for part in parts:
        if has_glob(part):
            break
        kept.append(part)
    return "/".join(kept)


def _prefix(folder: str) -> str:
    return f"{folder}/" if folder else ""


def _datastore_files(store: Store, source: Source) -> tuple[list[str], str, bool]:
    """(keys, the folder they are relative to, given as a single file)."""
    path = source.path
    if has_glob(path):
        base = base_folder(path)
        pattern = glob_regex(path)
        keys = [info.key for info in store.list(_prefix(base)) if pattern.match(info.key)]
        return keys, base, False
    if path and store.exists(path):
        return [path], posixpath.dirname(path), True
    return [info.key for info in store.list(_prefix(path))], path, False


def _local_files(source: Source) -> tuple[list[str], str, bool]:
    root = Path(source.path)
    if root.is_file():
        return [str(root)], str(root.parent), True
    found = sorted(str(Path(d) / n) for d, _, names in os.walk(root) for n in names)
    return found, str(root), False


def _url_name(url: str) -> str:
    name = posixpath.basename(urllib.parse.urlparse(url).path)
    return name if name and path_problem(name) is None else "data"


def list_files(spec: DatasetSpec, opener: Opener, what: str = "dataset"
               ) -> tuple[list[DatasetFile], bool]:
    """The dataset's files in a stable order, and whether it is one file given by its path."""
    listed: list[tuple[Source, list[str], str]] = []
    single = len(spec.sources) == 1
    for source in spec.sources:
        if source.url:
            listed.append((source, [source.url], ""))
            continue
        if source.datastore == LOCAL:
            keys, base, is_file = _local_files(source)
        else:
            keys, base, is_file = _datastore_files(opener(source.datastore), source)
            for key in keys:
                check_key(source.datastore, key)
        single = single and is_file
        listed.append((source, keys, base))
    bases = [base for source, _, base in listed if not source.url]
    common = _common_folder(bases) if len(listed) > 1 else (bases[0] if bases else "")
    files: list[DatasetFile] = []
    seen: dict[str, str] = {}
    for source, keys, base in listed:
        for key in keys:
            if source.url:
                rel = _url_name(key)
            elif source.datastore == LOCAL:
                rel = Path(key).relative_to(common if len(listed) > 1 else base).as_posix()
            else:
                start = common if len(listed) > 1 else base
                rel = key[len(_prefix(start)):] if start else key
            if rel in seen and seen[rel] != key:
                raise DatasetError(f"{what}: {key!r} and {seen[rel]!r} would both be {rel!r} in "
                                   "the dataset's folder", "use one source per folder")
            seen[rel] = key
            files.append(DatasetFile(source, key, rel))
    return files, single and len(files) == 1


def _common_folder(bases: list[str]) -> str:
    if not bases:
        return ""
    split = [b.split("/") if b else [] for b in bases]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "/".join(common)


def fetch_file(item: DatasetFile, opener: Opener, target: Path) -> None:
    """One file to ``target`` (its parent created)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if item.source.url:
        try:
            with urllib.request.urlopen(item.key, timeout=_URL_TIMEOUT) as response, \
                    open(target, "wb") as out:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
        except OSError as exc:
            raise DatasetError(f"dataset file {item.key!r} cannot be downloaded: {exc}",
                               "check the URL, or copy the file into a datastore") from exc
    elif item.source.datastore == LOCAL:
        if Path(item.key) != target:
            target.write_bytes(Path(item.key).read_bytes())
    else:
        opener(item.source.datastore).get_file(item.key, target)


def download(spec: DatasetSpec, opener: Opener, target: Path, what: str = "dataset",
             files: list[DatasetFile] | None = None) -> tuple[Path, list[Path]]:
    """The dataset's files under ``target`` (a folder), and the path a script is given: the
    file itself for a one-file dataset, else ``target``."""
    found, single = list_files(spec, opener, what) if files is None else (files, False)
    if not found and not single:
        where = ", ".join(s.describe() for s in spec.sources)
        raise DatasetError(f"{what}: no files match {where}",
                           "upload the data first, or fix the path or glob")
    written: list[Path] = []
    for item in found:
        dest = contained(target, item.rel.split("/"), what) if item.rel else target
        fetch_file(item, opener, dest)
        written.append(dest)
    if single and len(written) == 1:
        return written[0], written
    target.mkdir(parents=True, exist_ok=True)
    return target, written


# -- partitions ---------------------------------------------------------------------------------
_PART = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")
_DATE_TOKENS = (("yyyy", r"\d{4}", "%Y"), ("MM", r"\d{2}", "%m"), ("dd", r"\d{2}", "%d"),
                ("HH", r"\d{2}", "%H"), ("mm", r"\d{2}", "%M"), ("ss", r"\d{2}", "%S"))


def partition_keys(partition_format: str) -> list[str]:
    """The names a partition format defines, in order ('{state}/{PartitionDate:yyyy/MM}')."""
    return [m.group(1) for m in _PART.finditer(partition_format)]


def _date_pattern(fmt: str) -> tuple[str, str]:
    regex, strptime, i = "", "", 0
    while i < len(fmt):
        for token, part, code in _DATE_TOKENS:
            if fmt.startswith(token, i):
                regex += part
                strptime += code
                i += len(token)
                break
        else:
            regex += re.escape(fmt[i])
            strptime += fmt[i].replace("%", "%%")
            i += 1
    return regex, strptime


def partition_parser(partition_format: str, what: str = "partition_format"
                     ) -> Callable[[str], dict[str, Any] | None]:
    """A function from a file's relative path to its partition values (None: no match).
    ``{name}`` is one folder level (text); ``{name:yyyy/MM/dd}`` a date (datetime)."""
    fmt = partition_format.lstrip("/")
    regex, pos, dates = "", 0, {}
    for match in _PART.finditer(fmt):
        regex += glob_regex(fmt[pos:match.start()]).pattern.removesuffix(r"\Z")
        name, date = match.group(1), match.group(2)
        if date:
            part, dates[name] = _date_pattern(date)
            regex += f"(?P<{name}>{part})"
        else:
            regex += f"(?P<{name}>[^/]+)"
        pos = match.end()
    regex += glob_regex(fmt[pos:]).pattern.removesuffix(r"\Z")
    try:
        compiled = re.compile(f"(?:^|/){regex}$")
    except re.error as exc:
        raise DatasetError(f"{what} {partition_format!r} is not valid ({exc})",
                           "write it like '{state}/{PartitionDate:yyyy/MM/dd}/data.csv'") from exc

    def parse(rel: str) -> dict[str, Any] | None:
        found = compiled.search(rel)
        if found is None:
            return None
        values: dict[str, Any] = {}
        for name, value in found.groupdict().items():
            values[name] = datetime.strptime(value, dates[name]) if name in dates else value
        return values

    return parse
