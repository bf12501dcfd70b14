"""azureml.pipeline.core.schedule: Schedule, ScheduleRecurrence, TimeZone."""

from __future__ import annotations

from kubeline.dsl.schedule import (
    Schedule as Schedule,
)
from kubeline.dsl.schedule import (
    ScheduleRecurrence as ScheduleRecurrence,
)
from kubeline.dsl.schedule import (
    TimeZone as TimeZone,
)

__all__ = [
    "Schedule",
    "ScheduleRecurrence",
    "TimeZone",
]
