"""Schedule and ScheduleRecurrence: the SDK's schedules, fired by ``kubeline serve``.

A schedule submits a published pipeline (or a pipeline endpoint's default version) either
on a time recurrence or when the listing of a datastore path changes. Unlike AML, a
data-change schedule starts one run per change however many files changed, works on every
datastore kind, and logs each trigger (when it looked, what it saw, what it started).
On a cluster the same schedules compile to CronWorkflows (kubeline.compiler.argo.events).
"""

from __future__ import annotations

import builtins
import calendar
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.datapaths import safe_path
from kubeline.exceptions import KubelineError
from kubeline.server.registry import (
    ACTIVE,
    DISABLED,
    Registry,
    ScheduleRecord,
    TriggerRecord,
    utc_now,
)

if TYPE_CHECKING:
    from kubeline.dsl.datastore import Datastore
    from kubeline.dsl.pipeline_run import PipelineRun
    from kubeline.dsl.workspace import Workspace

FREQUENCIES = ("Minute", "Hour", "Day", "Week", "Month")
WEEK_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_UNIT = {"Minute": timedelta(minutes=1), "Hour": timedelta(hours=1), "Day": timedelta(days=1),
         "Week": timedelta(weeks=1)}


class ScheduleError(KubelineError):
    """A schedule or recurrence that cannot work as given."""


def _windows_zones() -> dict[str, str]:
    """Windows time zone names (the SDK's TimeZone values) -> IANA names (CLDR's table)."""
    from tzlocal.windows_tz import win_tz

    return {**dict(win_tz), **_RETIRED_ZONES}


# Windows zones the SDK still lists that CLDR's table has dropped
_RETIRED_ZONES = {"Mid-Atlantic Standard Time": "Etc/GMT+2",
                  "Kamchatka Standard Time": "Asia/Kamchatka"}


def _member(windows_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", windows_name)


def _time_zone_enum() -> type[Enum]:
    members: dict[str, str] = {}
    for windows_name in sorted(_windows_zones()) + sorted(_RETIRED_ZONES):
        members.setdefault(_member(windows_name), windows_name)
    return Enum("TimeZone", members, module=__name__, qualname="TimeZone")  # type: ignore[return-value]


TimeZone = _time_zone_enum()
TimeZone.__doc__ = "The SDK's time zones (Windows names), usable as ScheduleRecurrence time_zone."


def _zone(name: Any) -> ZoneInfo:
    """An IANA name, a Windows name or a TimeZone member, as a ZoneInfo."""
    if isinstance(name, Enum):
        name = name.value
    text = str(name or "UTC")
    text = _windows_zones().get(text, text)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"ScheduleRecurrence: time_zone {name!r} is not a time zone",
                            "use an IANA name ('Europe/Berlin'), a Windows name or a TimeZone "
                            "member (TimeZone.PacificStandardTime)") from None


@aml_surface(surface("ScheduleRecurrence"))
class ScheduleRecurrence:
    """How often a time schedule fires (AML's ScheduleRecurrence)."""

    def __init__(self, frequency: str, interval: int, start_time: datetime | str | None = None,
                 time_zone: Any = None, hours: list[int] | None = None,
                 minutes: list[int] | None = None, week_days: list[str] | None = None,
                 time_of_day: str | None = None) -> None:
        self.frequency = frequency
        self.interval = interval
        self.start_time = start_time
        self.time_zone = time_zone.value if isinstance(time_zone, Enum) else time_zone
        self.hours = list(hours) if hours is not None else None
        self.minutes = list(minutes) if minutes is not None else None
        self.week_days = list(week_days) if week_days is not None else None
        self.time_of_day = time_of_day
        if time_of_day is not None and hours is None and minutes is None:
            h, _, m = str(time_of_day).partition(":")
            self.hours, self.minutes = [int(h)], [int(m or 0)]
        self.validate()

    def validate(self) -> None:
        """Every mistake as one line naming the field (AML's rules)."""
        if self.frequency not in FREQUENCIES:
            raise ScheduleError(f"ScheduleRecurrence: frequency {self.frequency!r} is not valid",
                                f"use one of {', '.join(FREQUENCIES)}")
        if isinstance(self.interval, bool) or not isinstance(self.interval, int) \
                or self.interval < 1:
            raise ScheduleError(f"ScheduleRecurrence: interval {self.interval!r} must be an "
                                "integer of at least 1")
        _zone(self.time_zone)
        self.start()
        if (self.hours is not None or self.minutes is not None) and \
                self.frequency not in ("Day", "Week"):
            raise ScheduleError("ScheduleRecurrence: hours and minutes need frequency 'Day' or "
                                f"'Week', not {self.frequency!r}")
        if self.week_days is not None:
            if self.frequency != "Week":
                raise ScheduleError("ScheduleRecurrence: week_days needs frequency 'Week'")
            bad = [d for d in self.week_days if d not in WEEK_DAYS]
            if bad or not self.week_days:
                raise ScheduleError(f"ScheduleRecurrence: week_days {bad or '[]'} not valid",
                                    f"use names from {', '.join(WEEK_DAYS)}")
        for name, values, top in (("hours", self.hours, 23), ("minutes", self.minutes, 59)):
            if values is not None and (not values or any(
                    isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= top
                    for v in values)):
                raise ScheduleError(f"ScheduleRecurrence: {name} {values!r} must be integers "
                                    f"from 0 to {top}")

    def start(self) -> datetime | None:
        """start_time as an aware datetime in the schedule's time zone (None: now)."""
        if self.start_time is None:
            return None
        zone = _zone(self.time_zone)
        value = self.start_time
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise ScheduleError(f"ScheduleRecurrence: start_time {self.start_time!r} is not "
                                    "ISO 8601", "use 'YYYY-MM-DDThh:mm:ss'") from None
        if not isinstance(value, datetime):
            raise ScheduleError("ScheduleRecurrence: start_time must be a datetime or a string")
        return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)

    @property
    def iana_time_zone(self) -> str:
        """The time zone as an IANA name (what Argo's CronWorkflow takes)."""
        return str(_zone(self.time_zone).key)

    def to_json(self) -> dict[str, Any]:
        start = self.start()
        return {"frequency": self.frequency, "interval": self.interval,
                "start_time": None if start is None else start.isoformat(),
                "time_zone": self.time_zone or "UTC", "hours": self.hours,
                "minutes": self.minutes, "week_days": self.week_days}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScheduleRecurrence:
        return cls(frequency=data["frequency"], interval=data["interval"],
                   start_time=data.get("start_time"), time_zone=data.get("time_zone"),
                   hours=data.get("hours"), minutes=data.get("minutes"),
                   week_days=data.get("week_days"))

    # --- when it fires -----------------------------------------------------------------

    def next_after(self, after: datetime, created: datetime) -> datetime:
        """The first fire time strictly after ``after`` (aware datetimes)."""
        zone = _zone(self.time_zone)
        anchor = (self.start() or created.astimezone(zone)).astimezone(zone)
        local = after.astimezone(zone)
        if self.hours is None and self.minutes is None and self.week_days is None:
            return self._plain_next(anchor, local)
        return self._clock_next(anchor, local)

    def _plain_next(self, anchor: datetime, after: datetime) -> datetime:
        if after < anchor:
            return anchor
        if self.frequency == "Month":
            months = (after.year - anchor.year) * 12 + after.month - anchor.month
            k = max(0, months // self.interval)
            while True:
                candidate = _add_months(anchor, k * self.interval)
                if candidate > after:
                    return candidate
                k += 1
        step = _UNIT[self.frequency] * self.interval
        k = int((after - anchor) / step) + 1
        return anchor + k * step

    def _clock_next(self, anchor: datetime, after: datetime) -> datetime:
        hours = self.hours if self.hours is not None else [anchor.hour]
        minutes = self.minutes if self.minutes is not None else [anchor.minute]
        days = {WEEK_DAYS.index(d) for d in (self.week_days or [])}
        day = max(after, anchor).replace(hour=0, minute=0, second=0, microsecond=0)
        for _ in range(366 * 8 * self.interval):
            if self._day_matches(anchor, day, days):
                for h in sorted(hours):
                    for m in sorted(minutes):
                        candidate = day.replace(hour=h, minute=m)
                        if candidate > after and candidate >= anchor:
                            return candidate
            day = (day + timedelta(days=1)).replace(hour=0, minute=0)
        raise ScheduleError("ScheduleRecurrence: no fire time within eight years")

    def _day_matches(self, anchor: datetime, day: datetime, days: set[int]) -> bool:
        elapsed = (day.date() - anchor.date()).days
        if self.frequency == "Day":
            return elapsed % self.interval == 0
        week = (elapsed + anchor.weekday()) // 7
        return week % self.interval == 0 and (not days or day.weekday() in days)

    # --- cron, for CronWorkflow ---------------------------------------------------------

    def cron(self) -> str:
        """The standard 5-field cron expression (Argo's robfig/cron); raises when cron cannot
        say it (every 2+ weeks)."""
        start = self.start()
        minute0 = start.minute if start else 0
        hour0 = start.hour if start else 0
        n = self.interval
        mins = ",".join(str(m) for m in sorted(self.minutes or [minute0]))
        hrs = ",".join(str(h) for h in sorted(self.hours or [hour0]))
        if self.frequency == "Minute":
            return "* * * * *" if n == 1 else f"{minute0 % n}/{n} * * * *"
        if self.frequency == "Hour":
            return f"{minute0} * * * *" if n == 1 else f"{minute0} {hour0 % n}/{n} * * *"
        if self.frequency == "Day":
            return f"{mins} {hrs} * * *" if n == 1 else f"{mins} {hrs} */{n} * *"
        if self.frequency == "Week":
            if n != 1:
                raise ScheduleError(f"ScheduleRecurrence: every {n} weeks has no cron form for "
                                    "a CronWorkflow", "use interval 1 with week_days")
            dows = ",".join(str((WEEK_DAYS.index(d) + 1) % 7)
                            for d in (self.week_days or [WEEK_DAYS[start.weekday()
                                                                    if start else 0]]))
            return f"{mins} {hrs} * * {dows}"
        day = start.day if start else 1
        return f"{minute0} {hour0} {day} * *" if n == 1 else \
            f"{minute0} {hour0} {day} */{n} *"

    def __repr__(self) -> str:
        return f"ScheduleRecurrence({self.to_json()})"


def _add_months(value: datetime, months: int) -> datetime:
    total = value.month - 1 + months
    year, month = value.year + total // 12, total % 12 + 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


@aml_surface(surface("Schedule"))
class Schedule:
    """A time or data-change schedule of a published pipeline (AML's Schedule)."""

    def __init__(self, workspace: Workspace, record: ScheduleRecord) -> None:
        self.workspace = workspace
        self._record = record

    def _registry(self) -> Registry:
        return Registry(self.workspace.state_dir)

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def description(self) -> str:
        return self._record.description

    @property
    def pipeline_id(self) -> str | None:
        return self._record.published_id or None

    @property
    def pipeline_endpoint_id(self) -> str | None:
        return self._record.endpoint or None

    @property
    def status(self) -> str:
        return self._registry().get_schedule(self.id).status

    @property
    def recurrence(self) -> ScheduleRecurrence | None:
        if self._record.kind != "time":
            return None
        return ScheduleRecurrence.from_json(self._record.recurrence)

    @property
    def datastore_name(self) -> str | None:
        return self._record.datastore or None

    @property
    def path_on_datastore(self) -> str | None:
        return self._record.path_on_datastore or None

    @property
    def polling_interval(self) -> float:
        return self._record.polling_interval / 60.0

    @property
    def continue_on_step_failure(self) -> bool | None:
        return self._record.continue_on_step_failure

    @property
    def data_path_parameter_name(self) -> str | None:
        return self._record.data_path_parameter_name or None

    @property
    def triggers(self) -> builtins.list[TriggerRecord]:
        """What the schedule saw and started, newest first."""
        return self._registry().triggers(self.id)

    @classmethod
    def create(cls, workspace: Workspace, name: str, pipeline_id: str | None,
               experiment_name: str, recurrence: ScheduleRecurrence | None = None,
               description: str | None = None,
               pipeline_parameters: Mapping[str, Any] | None = None,
               wait_for_provisioning: bool = False, wait_timeout: int = 3600,
               datastore: Datastore | None = None, polling_interval: float = 5,
               data_path_parameter_name: str | None = None,
               continue_on_step_failure: bool | None = None,
               path_on_datastore: str | None = None, *, _endpoint: str = "",
               **_aml_only: Any) -> Schedule:
        """A time schedule (recurrence) or a data-change schedule (datastore, minutes)."""
        from kubeline.dsl.experiment import Experiment
        from kubeline.dsl.publish import PipelineEndpoint, PublishedPipeline

        Experiment(workspace, experiment_name)  # validates the name
        if _endpoint:
            target = PipelineEndpoint.get(workspace, id=_endpoint) \
                if not _is_name(workspace, _endpoint) else \
                PipelineEndpoint.get(workspace, name=_endpoint)
            published = target.get_pipeline()
            endpoint_name, published_id = target.name, ""
        else:
            if not pipeline_id:
                raise ScheduleError("Schedule.create: pipeline_id is missing",
                                    "pass a PublishedPipeline's id")
            published = PublishedPipeline.get(workspace, pipeline_id)
            endpoint_name, published_id = "", published.id
        if (recurrence is None) == (datastore is None):
            raise ScheduleError("Schedule.create: give either recurrence (a time schedule) or "
                                "datastore (a data-change schedule)")
        params = dict(pipeline_parameters or {})
        known = {p.name for p in published._record.parameters}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ScheduleError(f"Schedule.create: pipeline_parameters {', '.join(unknown)} "
                                f"not in published pipeline '{published.name}'",
                                f"its parameters are: {', '.join(sorted(known)) or 'none'}")
        kind = "time" if recurrence is not None else "data"
        store, path, seconds = "", "", 0
        if datastore is not None:
            store = getattr(datastore, "name", str(datastore))
            if store not in workspace.config.datastores:
                raise ScheduleError(f"Schedule.create: datastore '{store}' is not in the "
                                    "workspace", "see kubeline.yaml datastores")
            path = safe_path(path_on_datastore, "Schedule.create: path_on_datastore",
                             store=store)
            if isinstance(polling_interval, bool) or not isinstance(polling_interval,
                                                                    (int, float)) \
                    or polling_interval <= 0:
                raise ScheduleError(f"Schedule.create: polling_interval {polling_interval!r} "
                                    "must be a positive number of minutes")
            seconds = max(1, round(float(polling_interval) * 60))
            if data_path_parameter_name is not None and data_path_parameter_name not in {
                    p.name for p in published._record.parameters if p.type == "datapath"}:
                raise ScheduleError(f"Schedule.create: data_path_parameter_name "
                                    f"'{data_path_parameter_name}' is not a DataPath "
                                    f"parameter of '{published.name}'")
        record = ScheduleRecord(
            id=str(uuid.uuid4()), name=name, description=description or "", status=ACTIVE,
            published_id=published_id, endpoint=endpoint_name, experiment=experiment_name,
            kind=kind, recurrence={} if recurrence is None else recurrence.to_json(),
            datastore=store, path_on_datastore=path, polling_interval=seconds,
            data_path_parameter_name=data_path_parameter_name or "",
            parameters={k: v if isinstance(v, (str, int, float, bool)) else str(v)
                        for k, v in params.items()},
            continue_on_step_failure=continue_on_step_failure, created_at=utc_now())
        Registry(workspace.state_dir).add_schedule(record)
        return cls(workspace, record)

    @classmethod
    def create_for_pipeline_endpoint(
            cls, workspace: Workspace, name: str, pipeline_endpoint_id: str,
            experiment_name: str, recurrence: ScheduleRecurrence | None = None,
            description: str | None = None,
            pipeline_parameters: Mapping[str, Any] | None = None,
            wait_for_provisioning: bool = False, wait_timeout: int = 3600,
            datastore: Datastore | None = None, polling_interval: float = 5,
            data_path_parameter_name: str | None = None,
            continue_on_step_failure: bool | None = None,
            path_on_datastore: str | None = None) -> Schedule:
        """Like create, submitting the endpoint's default version at each fire."""
        return cls.create(workspace, name, None, experiment_name, recurrence=recurrence,
                          description=description, pipeline_parameters=pipeline_parameters,
                          datastore=datastore, polling_interval=polling_interval,
                          data_path_parameter_name=data_path_parameter_name,
                          continue_on_step_failure=continue_on_step_failure,
                          path_on_datastore=path_on_datastore, _endpoint=pipeline_endpoint_id)

    @classmethod
    def get(cls, workspace: Workspace, id: str, **_aml_only: Any) -> Schedule:
        return cls(workspace, Registry(workspace.state_dir).get_schedule(id))

    @classmethod
    def list(cls, workspace: Workspace, active_only: bool = True,
             pipeline_id: str | None = None, pipeline_endpoint_id: str | None = None,
             **_aml_only: Any) -> builtins.list[Schedule]:
        found = Registry(workspace.state_dir).list_schedules(active_only)
        return [cls(workspace, r) for r in found
                if pipeline_id in (None, r.published_id)
                and pipeline_endpoint_id in (None, r.endpoint)]

    @classmethod
    def get_schedules_for_pipeline_id(cls, workspace: Workspace, pipeline_id: str
                                      ) -> builtins.list[Schedule]:
        return cls.list(workspace, pipeline_id=pipeline_id)

    @classmethod
    def get_schedules_for_pipeline_endpoint_id(cls, workspace: Workspace,
                                               pipeline_endpoint_id: str,
                                               _workflow_provider: Any = None,
                                               _service_endpoint: Any = None
                                               ) -> builtins.list[Schedule]:
        """Schedules of a pipeline endpoint, given its id (or its name)."""
        from kubeline.dsl.publish import PipelineEndpoint

        endpoint = PipelineEndpoint.get(workspace, id=pipeline_endpoint_id) \
            if not _is_name(workspace, pipeline_endpoint_id) else \
            PipelineEndpoint.get(workspace, name=pipeline_endpoint_id)
        return cls.list(workspace, pipeline_endpoint_id=endpoint.name)

    def update(self, name: str | None = None, description: str | None = None,
               recurrence: ScheduleRecurrence | None = None,
               pipeline_parameters: Mapping[str, Any] | None = None,
               status: str | None = None, wait_for_provisioning: bool = False,
               wait_timeout: int = 3600, datastore: Datastore | None = None,
               polling_interval: float | None = None,
               data_path_parameter_name: str | None = None,
               continue_on_step_failure: bool | None = None,
               path_on_datastore: str | None = None) -> None:
        """Change what is given, checked as Schedule.create checks it; the scheduler of
        ``kubeline serve`` picks the change up at its next look."""
        record = self._registry().get_schedule(self.id)
        if status is not None and status not in (ACTIVE, DISABLED):
            raise ScheduleError(f"Schedule.update: status {status!r} is not valid",
                                f"use '{ACTIVE}' or '{DISABLED}'")
        if recurrence is not None and record.kind != "time":
            raise ScheduleError("Schedule.update: a data-change schedule cannot take a "
                                "recurrence", "create a time schedule instead")
        if datastore is not None and record.kind != "data":
            raise ScheduleError("Schedule.update: a time schedule cannot take a datastore",
                                "create a data-change schedule instead")
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if description is not None:
            changes["description"] = description
        if recurrence is not None:
            if not isinstance(recurrence, ScheduleRecurrence):
                raise ScheduleError("Schedule.update: recurrence must be a ScheduleRecurrence")
            changes["recurrence"] = recurrence.to_json()
        if pipeline_parameters is not None:
            changes["parameters"] = {k: v if isinstance(v, (str, int, float, bool)) else str(v)
                                     for k, v in pipeline_parameters.items()}
        if datastore is not None:
            store = getattr(datastore, "name", str(datastore))
            if store not in self.workspace.config.datastores:
                raise ScheduleError(f"Schedule.update: datastore '{store}' is not in the "
                                    "workspace", "see kubeline.yaml datastores")
            changes["datastore"] = store
        if polling_interval is not None:
            if isinstance(polling_interval, bool) or not isinstance(polling_interval,
                                                                    (int, float)) \
                    or polling_interval <= 0:
                raise ScheduleError(f"Schedule.update: polling_interval {polling_interval!r} "
                                    "must be a positive number of minutes")
            changes["polling_interval"] = max(1, round(float(polling_interval) * 60))
        if data_path_parameter_name is not None:
            changes["data_path_parameter_name"] = data_path_parameter_name
        if continue_on_step_failure is not None:
            changes["continue_on_step_failure"] = continue_on_step_failure
        if path_on_datastore is not None:
            changes["path_on_datastore"] = path_on_datastore.strip("/")
        if changes:
            self._registry().update_schedule(self.id, changes)
        if status is not None:
            self._registry().set_schedule_status(self.id, status)
        self._record = self._registry().get_schedule(self.id)

    def disable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        self._registry().set_schedule_status(self.id, DISABLED)

    def enable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        self._registry().set_schedule_status(self.id, ACTIVE)

    def get_pipeline_runs(self) -> builtins.list[PipelineRun]:
        """The runs this schedule started, newest first."""
        from kubeline.dsl.experiment import Experiment
        from kubeline.dsl.pipeline_run import PipelineRun

        experiment = Experiment(self.workspace, self._record.experiment)
        return [PipelineRun(experiment, t.run_id) for t in self.triggers if t.run_id]

    def get_last_pipeline_run(self) -> PipelineRun | None:
        runs = self.get_pipeline_runs()
        return runs[0] if runs else None

    def __repr__(self) -> str:
        return f"Schedule(Name: {self.name}, Id: {self.id}, Status: {self.status})"


def _is_name(workspace: Workspace, value: str) -> bool:
    return Registry(workspace.state_dir).find_endpoint(name=value) is not None


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
