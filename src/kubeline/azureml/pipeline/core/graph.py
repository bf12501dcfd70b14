"""azureml.pipeline.core.graph: Graph-level names AML code imports from here."""

from __future__ import annotations

from kubeline.dsl.data import (
    PipelineData as PipelineData,
)
from kubeline.dsl.data import (
    PipelineParameter as PipelineParameter,
)
from kubeline.dsl.hyperdrive_step import (
    TrainingOutput as TrainingOutput,
)
from kubeline.dsl.module import (
    InputPortDef as InputPortDef,
)
from kubeline.dsl.module import (
    OutputPortDef as OutputPortDef,
)

__all__ = [
    "InputPortDef",
    "OutputPortDef",
    "PipelineData",
    "PipelineParameter",
    "TrainingOutput",
]
