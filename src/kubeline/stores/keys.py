"""Object keys: one validated POSIX-style form shared by every driver.

Keys come from user config and pipeline code; a stray ``..`` or leading ``/`` must not let a
local datastore write outside its folder, so every driver checks keys here first.
"""

from __future__ import annotations

from kubeline.exceptions import DatastoreError


def check_key(store: str, key: str) -> str:
    """Return key unchanged if it is a clean relative POSIX key; else raise DatastoreError."""
    problem = _key_problem(key)
    if problem:
        raise DatastoreError(
            f"datastore '{store}': invalid key {key!r}: {problem}",
            "use a relative path like 'folder/file.txt'",
        )
    return key


def check_prefix(store: str, prefix: str) -> str:
    """A listing prefix: empty, or a key that may end with '/'."""
    if prefix == "":
        return prefix
    check_key(store, prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def dir_prefix(prefix: str) -> str:
    """The prefix as a folder: '' stays '', 'a/b' becomes 'a/b/'."""
    return prefix if prefix == "" or prefix.endswith("/") else prefix + "/"


def join_root(root: str, key: str) -> str:
    """The full object name under a configured prefix ('runs' + 'a.txt' -> 'runs/a.txt')."""
    return dir_prefix(root.strip("/")) + key


def _key_problem(key: str) -> str | None:
    if not key:
        return "it is empty"
    if "\\" in key or "\x00" in key:
        return "it contains a backslash or NUL"
    if key.startswith("/"):
        return "it starts with '/'"
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "it has an empty, '.' or '..' segment"
    return None
