"""azureml.pipeline.core: Pipelines, their data, runs, publishing and schedules."""

from __future__ import annotations

from kubeline import __version__ as VERSION
from kubeline.dsl.data import (
    PipelineData as PipelineData,
)
from kubeline.dsl.data import (
    PipelineParameter as PipelineParameter,
)
from kubeline.dsl.draft import (
    PipelineDraft as PipelineDraft,
)
from kubeline.dsl.hyperdrive_step import (
    TrainingOutput as TrainingOutput,
)
from kubeline.dsl.module import (
    InputPortDef as InputPortDef,
)
from kubeline.dsl.module import (
    Module as Module,
)
from kubeline.dsl.module import (
    ModuleVersion as ModuleVersion,
)
from kubeline.dsl.module import (
    OutputPortDef as OutputPortDef,
)
from kubeline.dsl.pipeline import (
    Pipeline as Pipeline,
)
from kubeline.dsl.pipeline_run import (
    PipelineRun as PipelineRun,
)
from kubeline.dsl.pipeline_run import (
    PortDataReference as PortDataReference,
)
from kubeline.dsl.pipeline_run import (
    StepRun as StepRun,
)
from kubeline.dsl.pipeline_run import (
    StepRunOutput as StepRunOutput,
)
from kubeline.dsl.publish import (
    PipelineEndpoint as PipelineEndpoint,
)
from kubeline.dsl.publish import (
    PublishedPipeline as PublishedPipeline,
)
from kubeline.dsl.schedule import (
    Schedule as Schedule,
)
from kubeline.dsl.schedule import (
    ScheduleRecurrence as ScheduleRecurrence,
)
from kubeline.dsl.schedule import (
    TimeZone as TimeZone,
)
from kubeline.dsl.sequence import (
    StepSequence as StepSequence,
)
from kubeline.dsl.steps import (
    PipelineStep as PipelineStep,
)

__all__ = [
    "VERSION",
    "InputPortDef",
    "Module",
    "ModuleVersion",
    "OutputPortDef",
    "Pipeline",
    "PipelineData",
    "PipelineDraft",
    "PipelineEndpoint",
    "PipelineParameter",
    "PipelineRun",
    "PipelineStep",
    "PortDataReference",
    "PublishedPipeline",
    "Schedule",
    "ScheduleRecurrence",
    "StepRun",
    "StepRunOutput",
    "StepSequence",
    "TimeZone",
    "TrainingOutput",
]
