"""sprig's date functions, which format with Go reference-time layouts ("2006-01-02").

sprig formats ``time.Time`` values, unix seconds (int) and, for any other value (a string
such as ``workflow.creationTimestamp`` included), the current time: ``date`` documents this
and Argo's ``expression-tag-template-workflow`` example relies on it. Times are Python
``datetime`` objects with a timezone; ``toDate``/``mustToDate`` parse with a layout.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kubeline.local.exprlang import ExprError

# Go layout elements, longest first so "2006" wins over "2" and "January" over "Jan".
_ELEMENTS = [
    "January", "Monday", "2006", "-07:00:00", "Z07:00:00", "-07:00", "Z07:00", "-0700",
    "Z0700", "Jan", "Mon", "MST", "002", "__2", ".000000000", ".000000", ".000",
    ".999999999", ".999999", ".999", "-07", "Z07", "01", "02", "_2", "03", "04", "05", "06",
    "15", "PM", "pm", "1", "2", "3", "4", "5",
]
_LAYOUT = re.compile("|".join(re.escape(e) for e in _ELEMENTS))


def _offset(t: datetime, sep: str, zulu: bool, seconds: bool = False) -> str:
    off = t.utcoffset() or timedelta(0)
    if zulu and off == timedelta(0):
        return "Z"
    total = int(off.total_seconds())
    sign = "-" if total < 0 else "+"
    total = abs(total)
    h, m, s = total // 3600, total % 3600 // 60, total % 60
    text = f"{sign}{h:02d}{sep}{m:02d}"
    return text + (f"{sep}{s:02d}" if seconds else "")


def _zone_name(t: datetime) -> str:
    """The zone's abbreviation; a zone without one shows its offset, as Go does."""
    name = t.tzname() or ""
    return name if (name and not name.startswith("UTC")) or name == "UTC" else _offset(t, "", False)


def _element(e: str, t: datetime) -> str:
    hour12 = t.hour % 12 or 12
    fixed = {
        "January": t.strftime("%B"), "Monday": t.strftime("%A"), "2006": f"{t.year:04d}",
        "Jan": t.strftime("%b"), "Mon": t.strftime("%a"), "MST": _zone_name(t),
        "002": f"{t.timetuple().tm_yday:03d}", "__2": f"{t.timetuple().tm_yday:>3d}",
        "01": f"{t.month:02d}", "02": f"{t.day:02d}", "_2": f"{t.day:>2d}",
        "03": f"{hour12:02d}", "04": f"{t.minute:02d}", "05": f"{t.second:02d}",
        "06": f"{t.year % 100:02d}", "15": f"{t.hour:02d}", "PM": "PM" if t.hour >= 12 else "AM",
        "pm": "pm" if t.hour >= 12 else "am", "1": str(t.month), "2": str(t.day),
        "3": str(hour12), "4": str(t.minute), "5": str(t.second),
        "-0700": _offset(t, "", False), "-07:00": _offset(t, ":", False),
        "-07:00:00": _offset(t, ":", False, True), "Z0700": _offset(t, "", True),
        "Z07:00": _offset(t, ":", True), "Z07:00:00": _offset(t, ":", True, True),
        "-07": _offset(t, "", False)[:3], "Z07": _offset(t, "", True)[:3],
    }
    if e in fixed:
        return fixed[e]
    nanos = f"{t.microsecond * 1000:09d}"
    digits = len(e) - 1
    if e.startswith(".0"):
        return "." + nanos[:digits]
    trimmed = nanos[:digits].rstrip("0")
    return "." + trimmed if trimmed else ""


def go_format(t: datetime, layout: str) -> str:
    """Format t with a Go reference-time layout."""
    return _LAYOUT.sub(lambda m: _element(m.group(), t), layout)


def _zone(name: str) -> tzinfo:
    if name in ("", "UTC"):
        return timezone.utc
    if name == "Local":
        return datetime.now().astimezone().tzinfo or timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc  # sprig falls back to UTC for an unknown zone


def _as_time(value: Any, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(zone)
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, zone)
    return datetime.now(zone)


def date_in_zone(layout: Any, value: Any, zone: Any) -> str:
    return go_format(_as_time(value, _zone(str(zone))), str(layout))


def date(layout: Any, value: Any) -> str:
    return date_in_zone(layout, value, "Local")


def now() -> datetime:
    return datetime.now().astimezone()


def unix_epoch(value: Any) -> str:
    if not isinstance(value, datetime):
        raise ExprError("sprig.unixEpoch: expects a time")
    return str(int(value.timestamp()))


_PARSE = {
    "2006": r"(?P<Y>\d{4})", "01": r"(?P<m>\d{2})", "02": r"(?P<d>\d{2})",
    "15": r"(?P<H>\d{2})", "04": r"(?P<M>\d{2})", "05": r"(?P<S>\d{2})",
    "Z07:00": r"(?P<z>Z|[-+]\d{2}:\d{2})", "-07:00": r"(?P<z>[-+]\d{2}:\d{2})",
    "-0700": r"(?P<z>[-+]\d{4})", "MST": r"(?P<n>[A-Z]{3,4})",
    ".999999999": r"(?:\.(?P<f>\d+))?", ".000": r"\.(?P<f>\d{3})",
}


def to_date(layout: Any, text: Any, must: bool = False) -> datetime:
    """Parse text with a layout made of numeric date/time elements (sprig's toDate)."""
    pattern = ""
    for piece in re.split("(" + "|".join(re.escape(k) for k in _PARSE) + ")", str(layout)):
        pattern += _PARSE.get(piece, re.escape(piece))
    m = re.fullmatch(pattern, str(text))
    if m is None:
        if must:
            raise ExprError(f'sprig.mustToDate: cannot parse "{text}" as "{layout}"')
        return datetime(1, 1, 1, tzinfo=timezone.utc)  # Go's zero time, as sprig returns
    g = m.groupdict()
    tz: tzinfo = datetime.now().astimezone().tzinfo or timezone.utc
    if g.get("z"):
        z = g["z"]
        if z == "Z":
            tz = timezone.utc
        else:
            z = z.replace(":", "")
            sign = -1 if z[0] == "-" else 1
            tz = timezone(sign * timedelta(hours=int(z[1:3]), minutes=int(z[3:5])))
    frac = (g.get("f") or "0")[:6].ljust(6, "0")
    return datetime(int(g.get("Y") or 1), int(g.get("m") or 1), int(g.get("d") or 1),
                    int(g.get("H") or 0), int(g.get("M") or 0), int(g.get("S") or 0),
                    int(frac), tzinfo=tz)


def go_duration(seconds: float) -> str:
    """Go's time.Duration String(): 1h2m3s, 1.5s, 0s."""
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    sec = f"{s:.9f}".rstrip("0").rstrip(".")
    if h:
        return f"{sign}{int(h)}h{int(m)}m{sec}s"
    if m:
        return f"{sign}{int(m)}m{sec}s"
    return f"{sign}{sec}s"


def duration(value: Any) -> str:
    """sprig.duration: seconds (number or numeric string) as a Go duration string."""
    try:
        return go_duration(int(float(str(value))))
    except ValueError:
        return go_duration(0)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "date": date,
    "dateInZone": date_in_zone,
    "date_in_zone": date_in_zone,
    "htmlDate": lambda value: date_in_zone("2006-01-02", value, "Local"),
    "htmlDateInZone": lambda value, zone: date_in_zone("2006-01-02", value, zone),
    "now": now,
    "unixEpoch": unix_epoch,
    "toDate": lambda layout, text: to_date(layout, text),
    "mustToDate": lambda layout, text: to_date(layout, text, must=True),
    "duration": duration,
}
"""sprig's date functions that kubeline provides (dateModify, ago, durationRound are not)."""
