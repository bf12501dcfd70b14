"""Paths inside a datastore: the one check that keeps every path in its datastore.

Every place a datastore path is defined or received (DataReference, DataPath, PipelineData
names, uploads, ``-p`` values, REST bodies, the step spec the shim reads) calls
``safe_path``/``safe_name``; every store driver calls ``path_problem`` through
``kubeline.stores.keys.check_key``; local folders also go through ``contained``, so a
symbolic link inside a datastore cannot lead out of it. Semantics and reasons:
docs/decisions/0013-datastore-paths.md. Standard library only: the runtime shim, the DSL, the
stores and the local executor all import it.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from kubeline.exceptions import DatastoreError

_HINT = "give a path relative to the datastore's root, like 'data/train.csv'"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class DatastorePathError(DatastoreError):
    """A datastore path that is absolute, climbs with '..' or otherwise leaves its datastore."""


def path_problem(path: str) -> str | None:
    """Why ``path`` could leave its datastore, or None: the reasons every check shares."""
    if "\x00" in path:
        return "contains a NUL character"
    if _CONTROL.search(path):
        return "contains a control character"
    if "\\" in path:
        return "contains a backslash (use '/' between folders)"
    if _URL.match(path):
        return "is a URL, not a path inside the datastore"
    if path.startswith("/") or _DRIVE.match(path):
        return "is absolute"
    if ".." in path.split("/"):
        return "has a '..' segment"
    return None


def _refuse(what: str, path: object, problem: str, store: str | None) -> DatastorePathError:
    where = f"datastore '{store}'" if store else "its datastore"
    return DatastorePathError(f"{what} {path!r} {problem}, which could leave {where}", _HINT)


def safe_path(path: str | os.PathLike[str] | None, what: str, *, store: str | None = None,
              keep_trailing_slash: bool = False) -> str:
    """A path as given by a user, made canonical: '' is the root; '.' and empty segments
    ('a/./b', 'a//b', 'a/b/') are dropped. Anything ``path_problem`` names raises one line
    naming ``what`` (the object and field, 'DataReference 'raw': path_on_datastore') and
    the path. keep_trailing_slash keeps one '/' at the end (a listing prefix that must
    match a folder only)."""
    if path is None:
        return ""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        raise DatastorePathError(f"{what} {path!r} is a {type(path).__name__}",
                                 "pass the path as a string")
    problem = path_problem(path)
    if problem:
        raise _refuse(what, path, problem, store)
    clean = "/".join(part for part in path.split("/") if part not in ("", "."))
    if keep_trailing_slash and clean and path.endswith("/"):
        clean += "/"
    return clean


def safe_name(name: object, what: str) -> str:
    """A name that becomes one segment of a datastore key (an output's name): no '/', and
    nothing ``path_problem`` refuses; returned unchanged."""
    text = name if isinstance(name, str) else ""
    problem = path_problem(text) if text else "is empty"
    if problem is None and ("/" in text or text in (".", "..")):
        problem = "is not a single name (it has a '/' or is '.')"
    if problem:
        raise DatastorePathError(f"{what}: name {name!r} {problem}; it names objects in the "
                                 "datastore", "use letters, digits, '_', '-' or '.'")
    return text


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def contained(root: Path, parts: list[str], what: str, known: set[str] | None = None) -> Path:
    """``root/parts...`` on this machine, refusing it when a symbolic link on the way (or at
    the end) leads outside ``root``. ``parts`` are already checked segments. Links that stay
    inside are fine, and so is a root that is itself a link. The common case (no link under
    root) costs one lstat per existing segment; ``known`` (kept by the caller) remembers
    folders found to be plain folders, so later keys in them cost one lstat."""
    current = os.fspath(root)
    last = len(parts) - 1
    for index, part in enumerate(parts):  # plain strings: this runs for every object
        current = f"{current}{os.sep}{part}"
        if known is not None and current in known:
            continue
        try:
            mode = os.lstat(current).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return root.joinpath(*parts)  # nothing further exists, so nothing is a link
        if stat.S_ISLNK(mode):
            break
        if known is not None and index < last and stat.S_ISDIR(mode):
            known.add(current)
    else:
        return root.joinpath(*parts)
    path = root.joinpath(*parts)
    real, real_root = os.path.realpath(path), os.path.realpath(root)
    if not _inside(real, real_root):
        rel = "/".join(parts)
        raise DatastorePathError(
            f"{what}: {rel!r} is a symbolic link (or under one) that leads to {real!r}, "
            f"outside the datastore folder {str(root)!r}; refused",
            "copy the data into the datastore instead of linking to it")
    return path
