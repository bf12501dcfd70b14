"""The dataset registry: named, versioned definitions kept in the default datastore.

``kubeline/datasets/<name>/<version>.json`` holds a version's definition (sources, format,
options, partition format, subsetting), description, tags and creation time; versions are
claimed as models' are (``kubeline.stores.versions``). Registering keeps the definition,
never a copy of the data: a version names the same files until they change, as in the SDK.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from kubeline.datasets.spec import DatasetSpec, from_dict
from kubeline.exceptions import UserErrorException
from kubeline.stores import versions as versioned
from kubeline.stores.base import Store

PREFIX = "kubeline/datasets"


class DatasetNotFound(UserErrorException):
    """A dataset name, version or id that is not registered."""


def register(store: Store, name: str, spec: DatasetSpec, description: str,
             tags: dict[str, Any], create_new_version: bool) -> dict[str, Any]:
    """The record of the version that now holds ``spec`` under ``name``: the latest one
    when it has the same definition, a new version when create_new_version (or none yet)."""
    known = versioned.versions(store, PREFIX, name)
    if known:
        latest = versioned.read(store, PREFIX, name, known[-1])
        if latest.get("spec") == spec.content():
            return latest
        if not create_new_version:
            raise UserErrorException(
                f"Dataset.register: a dataset named '{name}' is already registered (version "
                f"{known[-1]}) with another definition",
                "pass create_new_version=True to add a version, or choose another name")
    data = {"name": name, "spec": spec.content(), "description": description or "",
            "tags": dict(tags), "state": "active",
            "created_time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    version = versioned.claim(store, PREFIX, name, data)
    return {**data, "version": version}


def versions(store: Store, name: str) -> list[int]:
    return versioned.versions(store, PREFIX, name)


def names(store: Store) -> list[str]:
    return versioned.names(store, PREFIX)


def get(store: Store, name: str, version: int | str = "latest") -> dict[str, Any]:
    known = versioned.versions(store, PREFIX, name)
    wanted = known[-1] if version == "latest" and known else version
    if isinstance(wanted, str) and wanted.isdigit():
        wanted = int(wanted)
    if not known or wanted not in known:
        what = f"dataset '{name}'" + (f" version {version}" if version != "latest" else "")
        raise DatasetNotFound(f"{what} is not registered",
                              f"its versions are {', '.join(map(str, known))}" if known else
                              "register it with dataset.register(workspace, name)")
    return versioned.read(store, PREFIX, name, int(wanted))


def update(store: Store, record: dict[str, Any]) -> None:
    versioned.write(store, PREFIX, str(record["name"]), int(record["version"]), record)


def delete_all(store: Store, name: str) -> None:
    for version in versioned.versions(store, PREFIX, name):
        store.delete(versioned.record_key(PREFIX, name, version))


def spec_of(record: dict[str, Any]) -> DatasetSpec:
    """The registered definition, carrying its name and version (they enter reuse keys)."""
    name = str(record["name"])
    return from_dict(record["spec"], f"dataset '{name}'").registered(name, int(record["version"]))
