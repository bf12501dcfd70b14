"""When a time schedule fires: the SDK's recurrence rules (frequency, interval, start time,
time zone, hours, minutes, week days) as data, their next fire time (``kubeline serve``'s
scheduler) and their cron form (a cluster's CronWorkflow). The user API's
ScheduleRecurrence is this class with the SDK's signature checks."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kubeline.exceptions import KubelineError

FREQUENCIES = ("Minute", "Hour", "Day", "Week", "Month")
WEEK_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_UNIT = {"Minute": timedelta(minutes=1), "Hour": timedelta(hours=1), "Day": timedelta(days=1),
         "Week": timedelta(weeks=1)}


R = TypeVar("R", bound="Recurrence")


class ScheduleError(KubelineError):
    """A schedule or recurrence that cannot work as given."""


def windows_zones() -> dict[str, str]:
    """Windows time zone names (the SDK's TimeZone values) -> IANA names (CLDR's table)."""
    from tzlocal.windows_tz import win_tz

    return {**dict(win_tz), **RETIRED_ZONES}


# Windows zones the SDK still lists that CLDR's table has dropped
RETIRED_ZONES = {"Mid-Atlantic Standard Time": "Etc/GMT+2",
                 "Kamchatka Standard Time": "Asia/Kamchatka"}


def enum_name(windows_name: str) -> str:
    """A Windows zone name as a Python identifier (the SDK's TimeZone member name)."""
    return re.sub(r"[^A-Za-z0-9]", "", windows_name)


def as_zone(name: Any) -> ZoneInfo:
    """An IANA name, a Windows name or a TimeZone member, as a ZoneInfo."""
    if isinstance(name, Enum):
        name = name.value
    text = str(name or "UTC")
    text = windows_zones().get(text, text)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"ScheduleRecurrence: time_zone {name!r} is not a time zone",
                            "use an IANA name ('Europe/Berlin'), a Windows name or a TimeZone "
                            "member (TimeZone.PacificStandardTime)") from None


class Recurrence:
    """How often a time schedule fires: AML's ScheduleRecurrence as data and arithmetic
    (kubeline.dsl.schedule.ScheduleRecurrence is the class users hold)."""

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
        as_zone(self.time_zone)
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
        zone = as_zone(self.time_zone)
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
        return str(as_zone(self.time_zone).key)

    def to_json(self) -> dict[str, Any]:
        start = self.start()
        return {"frequency": self.frequency, "interval": self.interval,
                "start_time": None if start is None else start.isoformat(),
                "time_zone": self.time_zone or "UTC", "hours": self.hours,
                "minutes": self.minutes, "week_days": self.week_days}

    @classmethod
    def from_json(cls: type[R], data: Mapping[str, Any]) -> R:
        return cls(frequency=data["frequency"], interval=data["interval"],
                   start_time=data.get("start_time"), time_zone=data.get("time_zone"),
                   hours=data.get("hours"), minutes=data.get("minutes"),
                   week_days=data.get("week_days"))

    # --- when it fires -----------------------------------------------------------------

    def next_after(self, after: datetime, created: datetime) -> datetime:
        """The first fire time strictly after ``after`` (aware datetimes)."""
        zone = as_zone(self.time_zone)
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
