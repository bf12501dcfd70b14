"""Object keys: one validated POSIX-style form shared by every driver.

Keys come from user config, pipeline code and hand-written manifests; a stray ``..`` or
leading ``/`` must not let any driver leave its datastore (a local folder, or a bucket or
container prefix: an HTTP stack may resolve ``/bucket/../other``), so every driver checks
keys here first. Drivers are strict: they take only the canonical form the entry points
produce (``kubeline.datapaths.safe_path``), never repairing a key.
"""

from __future__ import annotations

from kubeline.datapaths import DatastorePathError, path_problem, safe_path


def check_key(store: str, key: str) -> str:
    """Return key unchanged if it is a clean relative POSIX key; else raise
    DatastorePathError (a DatastoreError) naming the datastore and the key."""
    problem = key_problem(key)
    if problem:
        raise DatastorePathError(
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


def prefix_root(store: str, prefix: str) -> str:
    """A bucket's or container's configured prefix as a folder ('team/exp/'), refused if it
    climbs out of the bucket; surrounding slashes are only spelling."""
    return dir_prefix(safe_path(prefix.strip("/"), f"datastores.{store}.prefix"))


def key_problem(key: str) -> str | None:
    """Why key is not a clean relative POSIX key ('it has a '..' segment'), or None."""
    if not isinstance(key, str) or not key:
        return "it is empty"
    problem = path_problem(key)
    if problem:
        return f"it {problem}"
    if any(part in ("", ".") for part in key.split("/")):
        return "it has an empty or '.' segment"
    return None
