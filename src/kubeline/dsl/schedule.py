"""Schedule and ScheduleRecurrence: the SDK's schedules, fired by ``kubeline serve``.

A schedule submits a published pipeline (or a pipeline endpoint's default version) either
on a time recurrence or when the listing of a datastore path changes. Unlike AML, a
data-change schedule starts one run per change however many files changed, works on every
datastore kind, and logs each trigger (when it looked, what it saw, what it started).
On a cluster the same schedules compile to CronWorkflows (kubeline.compiler.argo.events).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.datapaths import safe_path
from kubeline.server.recurrence import (
    RETIRED_ZONES,
    Recurrence,
    ScheduleError,
    enum_name,
    windows_zones,
)
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


def _time_zone_enum() -> type[Enum]:
    members: dict[str, str] = {}
    for windows_name in sorted(windows_zones()) + sorted(RETIRED_ZONES):
        members.setdefault(enum_name(windows_name), windows_name)
    return Enum("TimeZone", members, module=__name__, qualname="TimeZone")  # type: ignore[return-value]


TimeZone = _time_zone_enum()
TimeZone.__doc__ = "The SDK's time zones (Windows names), usable as ScheduleRecurrence time_zone."


@aml_surface(surface("ScheduleRecurrence"))
class ScheduleRecurrence(Recurrence):
    """How often a time schedule fires (AML's ScheduleRecurrence)."""

    def __init__(self, frequency: str, interval: int, start_time: datetime | str | None = None,
                 time_zone: Any = None, hours: list[int] | None = None,
                 minutes: list[int] | None = None, week_days: list[str] | None = None,
                 time_of_day: str | None = None) -> None:
        super().__init__(frequency, interval, start_time, time_zone, hours, minutes,
                         week_days, time_of_day)


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
