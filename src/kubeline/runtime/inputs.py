"""Inputs, materialised with one layout whatever their mode.

``mount`` and ``download`` both put real files at the input's path: a file input is a file, a
folder input a folder with the same relative paths (mount is download-backed unless the
cluster provides a CSI mount). ``direct`` passes the datastore address instead. With
``path_on_compute`` the data also appears there, and that path is what the script is given.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kubeline.exceptions import KubelineError
from kubeline.graph.model import StepInput
from kubeline.graph.names import param_name
from kubeline.runtime import params as P
from kubeline.runtime import records
from kubeline.runtime.datastores import Datastores
from kubeline.runtime.layout import output_location
from kubeline.stores import Store, get_dir


class InputError(KubelineError):
    """An input that cannot be made available to the step."""


@dataclass(frozen=True)
class InputContext:
    """What inputs need: datastores, parameter values, upstream keys and local folders."""

    stores: Datastores
    parameters: Mapping[str, str]
    upstream: Mapping[str, str]
    argo_dir: Path  # where Argo's artifact drivers already put DataReference inputs
    fetch_dir: Path  # where the shim fetches the rest
    cwd: Path  # relative path_on_compute resolves against the script's working directory


def resolve_on_compute(path: str, cwd: Path) -> Path:
    given = Path(path).expanduser()
    return given if given.is_absolute() else cwd / given


def _fetch_path(store: Store, path: str, dest: Path, what: str) -> None:
    """A datastore path as local data: the object if there is one, else the folder under it."""
    key = path.strip("/")
    if key and store.exists(key):
        store.get_file(key, dest)
        return
    if not get_dir(store, key, dest):
        raise InputError(f"input '{what}': nothing found at datastore '{store.name}' path "
                         f"{path!r}", "upload the data first or fix path_on_datastore")


def _place(source: Path, target: Path, overwrite: bool, name: str) -> None:
    """Make ``source``'s data appear at ``target`` (hard links where possible, else copies)."""
    if target.exists() or target.is_symlink():
        if not overwrite:
            raise InputError(f"input '{name}': path_on_compute {str(target)!r} already exists",
                             "remove it or pass overwrite=True")
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, copy_function=_link_or_copy)
    else:
        _link_or_copy(str(source), str(target))


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def materialise(item: StepInput, ctx: InputContext) -> str:
    """The argument value of one input: a local path, or an address in direct mode."""
    local = ctx.fetch_dir / param_name(item.name)
    if item.source == "datastore":
        if item.mode == "direct":
            return ctx.stores.uri(item.datastore, item.path)
        fetched = ctx.argo_dir / param_name(item.name)
        if fetched.exists():
            local = fetched
        else:  # no artifact driver ran (local datastore, local executor): fetch it here
            _fetch_path(ctx.stores.get(item.datastore), item.path, local, item.name)
    elif item.source == "pipeline_data":
        key = ctx.upstream.get(item.producer)
        if key is None:
            raise InputError(f"input '{item.name}': no key for its producer step "
                             f"'{item.producer}'", "pass --upstream producer:KEY")
        if item.mode == "direct" and not item.dataset:  # a dataset read needs the files
            store = ctx.stores.get(item.datastore)
            if records.read_record(store, key, item.name) is None:
                raise records.UpstreamError(
                    f"upstream output not committed: output '{item.name}' of step "
                    f"'{item.producer}' (key {key[:12]})", "rerun the producing step")
            return ctx.stores.uri(item.datastore, output_location(key, item.name))
        records.fetch(ctx.stores.get(item.datastore), key, item.name, item.producer, local)
    elif item.source == "dataset":
        from kubeline.runtime.datasets import fetch

        local = fetch(item, ctx.stores, ctx.parameters, local)
    else:
        value = P.datapath(item.parameter, ctx.parameters.get(item.parameter, ""))
        if item.mode == "direct":
            return ctx.stores.uri(value.datastore, value.path)
        _fetch_path(ctx.stores.get(value.datastore), value.path, local, item.name)
    if item.path_on_compute:
        target = resolve_on_compute(item.path_on_compute, ctx.cwd)
        _place(local, target, item.overwrite, item.name)
        return str(target)
    return str(local)
