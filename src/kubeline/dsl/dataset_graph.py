"""Datasets in the pipeline graph: what a step's dataset inputs and outputs become.

* ``ds.as_named_input('x')[.as_mount()/.as_download()]`` becomes a ``dataset`` input whose
  ``dataset`` field is the definition's canonical JSON (registered name and version
  included), so the step's reuse key changes with the dataset version; the shim fetches the
  files (mount and download alike, as for DataReference inputs).
* A PipelineParameter whose default is a dataset becomes a string parameter holding the
  definition's JSON; the input names the parameter, so a run can pass another dataset.
* ``output.as_input()`` / ``output.read_delimited_files().as_input()`` are PipelineData
  inputs (ordered after the producer, keyed by its key) that also carry the read format.
* As in the SDK, datasets and outputs given only in ``arguments`` are inputs and outputs of
  the step (``implicit_data``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kubeline.datasets.objects import AbstractDataset, DatasetConsumptionConfig
from kubeline.dsl.data import PipelineData, PipelineParameter
from kubeline.graph.model import StepInput


def implicit_data(arguments: list[Any], inputs: list[Any], outputs: list[Any]
                  ) -> tuple[list[Any], list[Any], list[Any]]:
    """(arguments, inputs, outputs) with the datasets and dataset outputs that appear only in
    arguments added; a bare dataset argument becomes a direct-mode named input."""
    from kubeline.dsl.output_dataset import OutputFileDatasetConfig

    args: list[Any] = []
    inputs, outputs = list(inputs), list(outputs)
    input_names = {_input_name(i) for i in inputs}
    output_ids = {id(o) for o in outputs}
    for value in arguments:
        if isinstance(value, AbstractDataset):
            value = value.as_named_input(value._auto_name())
        if isinstance(value, DatasetConsumptionConfig) and value.name not in input_names:
            inputs.append(value)
            input_names.add(value.name)
        elif isinstance(value, OutputFileDatasetConfig) and id(value) not in output_ids:
            outputs.append(value)
            output_ids.add(id(value))
        args.append(value)
    inputs = [i.as_named_input(i._auto_name()) if isinstance(i, AbstractDataset) else i
              for i in inputs]
    return args, inputs, outputs


def _input_name(item: Any) -> str | None:
    return item.name if isinstance(item, DatasetConsumptionConfig) else None


def dataset_parameter(value: Any) -> PipelineParameter | None:
    """The PipelineParameter of a consumption whose dataset is a parameter, else None."""
    if isinstance(value, DatasetConsumptionConfig) and isinstance(value.dataset,
                                                                   PipelineParameter):
        return value.dataset
    return None


def output_of(config: DatasetConsumptionConfig) -> PipelineData | None:
    """The pipeline output a consumption reads, if it reads one."""
    output = getattr(config.dataset, "_output", None)
    return output if isinstance(output, PipelineData) else None


def consumption_input(config: DatasetConsumptionConfig, default_datastore: str,
                      datastore: Callable[[str], str], producer: Callable[[PipelineData], str]
                      ) -> StepInput:
    """The graph input of a dataset consumption (see the module docstring)."""
    output = output_of(config)
    mode: Any = config.mode
    if output is not None:
        read = config.dataset._dataset_read.as_dict()
        read["input_name"] = config.name
        return StepInput(name=output.name, source="pipeline_data",
                         datastore=datastore(output.datastore.name if output.datastore
                                             else default_datastore),
                         mode=mode, path_on_compute=config.path_on_compute or "",
                         producer=producer(output._origin),
                         dataset=json.dumps(read, sort_keys=True, separators=(",", ":")))
    param = dataset_parameter(config)
    dataset = param.default_value if param is not None else config.dataset
    spec = dataset.spec
    for name in spec.datastores:
        datastore(name)
    first = spec.datastores[0] if spec.datastores else default_datastore
    return StepInput(name=config.name, source="dataset", datastore=first, mode=mode,
                     parameter=param.name if param is not None else "",
                     path_on_compute=config.path_on_compute or "", dataset=spec.to_json())


def output_settings(output: PipelineData) -> str:
    settings = getattr(output, "settings", None)
    return str(settings()) if callable(settings) else ""


def input_datastores(item: StepInput) -> tuple[str, ...]:
    """Every datastore a dataset input reads (the pipeline spec must carry them all)."""
    if item.source != "dataset" or not item.dataset:
        return ()
    from kubeline.datasets.spec import from_json

    return from_json(item.dataset).datastores
