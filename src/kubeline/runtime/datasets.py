"""Datasets in the step: fetching dataset inputs, telling the script about them, and what an
OutputFileDatasetConfig does after the script succeeds.

Inputs: a ``dataset`` input's definition comes from the step spec, or from the run's value
of its parameter; its files are fetched into the step's input folder (mount and download
alike; direct mode too, so the dataset object the script gets reads local files). The
shim writes ``input_datasets.json`` beside the metrics file and points
``KUBELINE_DATASETS_FILE`` at it: ``Run.get_context().input_datasets`` reads it (a path for
mount/download, a FileDataset/TabularDataset for direct mode).

Outputs: with a destination, the committed files are copied there (``{run-id}`` and
``{output-name}`` replaced, ``source_globs`` applied); ``register_on_complete`` registers
the files (the destination, else the keyed location) as a new FileDataset version in the
registry of the default datastore.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kubeline.datapaths import safe_path
from kubeline.datasets import registry
from kubeline.datasets.files import download, glob_regex
from kubeline.datasets.spec import DatasetError, DatasetSpec, Source, from_json
from kubeline.graph.model import Step, StepInput, StepOutput
from kubeline.runtime.dataset_view import ENV_DATASETS_FILE
from kubeline.runtime.datastores import Datastores
from kubeline.runtime.layout import output_location

DATASETS_FILE = "input_datasets.json"


def definition(item: StepInput, parameters: Mapping[str, str]) -> DatasetSpec:
    """The definition a dataset input reads in this run (its parameter's value, if any)."""
    what = f"input '{item.name}'"
    if item.parameter and parameters.get(item.parameter):
        return from_json(parameters[item.parameter], f"parameter '{item.parameter}'")
    return from_json(item.dataset, what)


def check_parameters(step: Step, values: Mapping[str, str]) -> None:
    """Refuse a dataset parameter value that is not a definition (or has a path that could
    leave its datastore) before the step records or fetches anything."""
    for item in step.inputs:
        if item.source == "dataset" and item.parameter:
            definition(item, values)


def fetch(item: StepInput, stores: Datastores, parameters: Mapping[str, str], dest: Path
          ) -> Path:
    """A dataset input's files under dest; the path the script is given."""
    spec = definition(item, parameters)
    path, _ = download(spec, stores.get, dest, f"input '{item.name}'")
    return path


def _entry(item: StepInput, path: str, parameters: Mapping[str, str]) -> tuple[str, Any]:
    if item.source == "dataset":
        spec = definition(item, parameters).as_dict()
        name = item.name
    else:  # a pipeline output read as a dataset
        spec = json.loads(item.dataset)
        name = str(spec.pop("input_name", item.name))
    return name, {"mode": item.mode, "path": path, "spec": spec}


def script_view(step: Step, data: dict[str, str], parameters: Mapping[str, str],
                workdir: Path) -> dict[str, str]:
    """Write the datasets file for ``Run.get_context()``; returns the environment to add.
    Direct-mode dataset arguments become the input's name, as the SDK passes an id there."""
    inputs = {}
    for item in step.inputs:
        if item.dataset:
            name, entry = _entry(item, data[item.name], parameters)
            inputs[name] = entry
            if item.mode == "direct":
                data[item.name] = name
    outputs = {o.name: data[o.name] for o in step.outputs if o.dataset or o.is_directory}
    if not inputs and not outputs:
        return {}
    target = workdir / DATASETS_FILE
    target.write_text(json.dumps({"inputs": inputs, "outputs": outputs}, sort_keys=True),
                      encoding="utf-8")
    return {ENV_DATASETS_FILE: str(target)}


def _files(local: Path, globs: list[str]) -> list[tuple[str, Path]]:
    if local.is_file():
        return [(local.name, local)]
    found = sorted((Path(d, n).relative_to(local).as_posix(), Path(d, n))
                   for d, _, names in os.walk(local) for n in names)
    if not globs:
        return found
    patterns = [glob_regex(g.lstrip("/")) for g in globs]
    return [(rel, path) for rel, path in found if any(p.match(rel) for p in patterns)]


def publish_output(output: StepOutput, local: Path, stores: Datastores, run_id: str,
                   key: str) -> None:
    """The destination copy and registration of one output (see the module docstring)."""
    if not output.dataset:
        return
    settings: dict[str, Any] = json.loads(output.dataset)
    what = f"output '{output.name}'"
    destination = settings.get("destination")
    if destination:
        path = str(destination["path"]).replace("{run-id}", run_id).replace(
            "{output-name}", output.name)
        path = safe_path(path, f"{what}: destination", store=destination["datastore"])
        store = stores.get(destination["datastore"])
        overwrite = bool(settings.get("overwrite")) or output.mode == "mount"
        for rel, file in _files(local, list(settings.get("source_globs", []))):
            target = f"{path}/{rel}" if path else rel
            if not store.put_file(file, target, overwrite=overwrite):
                raise DatasetError(f"{what}: {store.name}:{target} exists",
                                   "pass as_upload(overwrite=True) or put {run-id} in the "
                                   "destination path")
        source = Source(datastore=store.name, path=path)
    else:
        source = Source(datastore=output.datastore, path=output_location(key, output.name))
    register = settings.get("register")
    if register:
        spec = DatasetSpec(kind="file", format="files", sources=(source,),
                           partition_format=str(settings.get("partition_format", "")))
        record = registry.register(stores.default, str(register["name"]), spec,
                                   str(register.get("description", "")),
                                   dict(register.get("tags", {})), create_new_version=True)
        print(f"kubeline: {what} registered as dataset '{record['name']}' version "
              f"{record['version']}", file=sys.stderr)


def publish_reused(step: Step, stores: Datastores, run_id: str, key: str) -> None:
    """A reused step's dataset outputs get their destination copy and registration too (the
    destination may name this run): fetched from the reused run's committed files."""
    import tempfile

    from kubeline.runtime import records

    for output in step.outputs:
        if not output.dataset:
            continue
        with tempfile.TemporaryDirectory(prefix="kubeline-output-") as tmp:
            local = Path(tmp) / "data"
            records.fetch(stores.get(output.datastore), key, output.name, step.id, local)
            publish_output(output, local, stores, run_id, key)
