"""A dataset's definition: where its files are and how to read them, as canonical JSON.

The definition is what the compiler writes into a step's spec (so it enters the step's reuse
key, with the registered name and version), what the registry stores, and what the shim
reads to fetch the files. Sources are datastore paths (globs allowed), each checked with
``kubeline.datapaths.safe_path`` like every datastore path, or public http(s) URLs. Standard
library only: the runtime shim imports it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Literal

from kubeline.datapaths import safe_path
from kubeline.exceptions import KubelineError

Kind = Literal["file", "tabular"]
Format = Literal["files", "delimited", "parquet", "json_lines"]
FORMATS: tuple[str, ...] = ("files", "delimited", "parquet", "json_lines")
# Subsetting a definition keeps: (operation, argument); applied in order when read.
TRANSFORMS = ("take", "skip", "keep_columns", "drop_columns")
LOCAL = "__local__"  # a source on the step's own disk: made by the shim, never by a user


class DatasetError(KubelineError):
    """A dataset definition that cannot be used: a bad path, format or option."""


@dataclass(frozen=True)
class Source:
    """One place the dataset's files come from: a datastore path (glob) or an http(s) URL."""

    datastore: str = ""
    path: str = ""
    url: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"url": self.url} if self.url else {"datastore": self.datastore,
                                                     "path": self.path}

    def describe(self) -> str:
        return self.url or f"{self.datastore}:{self.path or '/'}"


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that identifies a dataset version's content (see the module docstring)."""

    kind: Kind
    format: Format
    sources: tuple[Source, ...]
    options: tuple[tuple[str, Any], ...] = ()
    partition_format: str = ""
    transforms: tuple[tuple[str, Any], ...] = ()
    name: str = ""
    version: int = 0

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)

    @property
    def datastores(self) -> tuple[str, ...]:
        """The datastores the sources name, sorted (none for URLs)."""
        return tuple(sorted({s.datastore for s in self.sources if s.datastore
                             and s.datastore != LOCAL}))

    def with_transform(self, operation: str, argument: Any) -> DatasetSpec:
        """A new, unregistered definition with one more subsetting step."""
        return replace(self, transforms=(*self.transforms, (operation, argument)), name="",
                       version=0)

    def registered(self, name: str, version: int) -> DatasetSpec:
        return replace(self, name=name, version=version)

    def content(self) -> dict[str, Any]:
        """The definition without its registration: two registrations of the same content
        compare equal here."""
        data: dict[str, Any] = json.loads(self.to_json())  # JSON's own types, as stored
        data.pop("name", None)
        data.pop("version", None)
        return data

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "format": self.format,
                                "sources": [s.as_dict() for s in self.sources]}
        if self.options:
            data["options"] = dict(self.options)
        if self.partition_format:
            data["partition_format"] = self.partition_format
        if self.transforms:
            data["transforms"] = [list(t) for t in self.transforms]
        if self.name:
            data["name"] = self.name
            data["version"] = self.version
        return data

    def to_json(self) -> str:
        """Canonical JSON: the same definition is the same bytes everywhere."""
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))


def check_source(datastore: str, path: str, what: str) -> Source:
    """A datastore source with its path made canonical; globs stay as written."""
    if not isinstance(datastore, str) or not datastore:
        raise DatasetError(f"{what}: no datastore for path {path!r}",
                           "pass (datastore, 'path') or datastore.path('path')")
    return Source(datastore=datastore, path=safe_path(path, f"{what}: path", store=datastore))


def check_url(url: str, what: str) -> Source:
    if not url.startswith(("http://", "https://")) or any(c in url for c in "\n\r\t "):
        raise DatasetError(f"{what}: {url!r} is not an http(s) URL or a datastore path",
                           "pass datastore.path('folder/*.csv') or (datastore, 'path')")
    return Source(url=url)


def from_dict(data: Any, what: str = "dataset", *, allow_local: bool = False) -> DatasetSpec:
    """A definition from its JSON form, every path checked again (a spec may be edited)."""
    try:
        kind = data["kind"]
        fmt = data["format"]
        raw_sources = data["sources"]
        if kind not in ("file", "tabular") or fmt not in FORMATS:
            raise DatasetError(f"{what}: kind {kind!r} / format {fmt!r} is not known",
                               "recreate the dataset with Dataset.File/Dataset.Tabular")
        sources: list[Source] = []
        for item in raw_sources:
            if "url" in item:
                sources.append(check_url(str(item["url"]), what))
            elif item.get("datastore") == LOCAL and allow_local:
                sources.append(Source(datastore=LOCAL, path=str(item["path"])))
            else:
                sources.append(check_source(str(item["datastore"]), str(item["path"]), what))
        transforms = tuple((str(op), arg) for op, arg in data.get("transforms", ()))
        for op, _ in transforms:
            if op not in TRANSFORMS:
                raise DatasetError(f"{what}: transform {op!r} is not known",
                                   f"known: {', '.join(TRANSFORMS)}")
        return DatasetSpec(
            kind=kind, format=fmt, sources=tuple(sources),
            options=tuple(sorted(dict(data.get("options", {})).items())),
            partition_format=str(data.get("partition_format", "")),
            transforms=tuple((op, tuple(a) if isinstance(a, list) else a)
                             for op, a in transforms),
            name=str(data.get("name", "")), version=int(data.get("version", 0)))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DatasetError(f"{what}: malformed dataset definition ({exc})",
                           "recreate the dataset with Dataset.File/Dataset.Tabular") from exc


def from_json(text: str, what: str = "dataset", *, allow_local: bool = False) -> DatasetSpec:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DatasetError(f"{what}: the dataset definition is not JSON ({exc})",
                           "pass a dataset object, not text") from exc
    return from_dict(data, what, allow_local=allow_local)


def empty(kind: Kind, fmt: Format) -> DatasetSpec:
    return DatasetSpec(kind=kind, format=fmt, sources=())


__all__ = ["DatasetError", "DatasetSpec", "Source", "check_source", "check_url", "from_dict",
           "from_json"]
