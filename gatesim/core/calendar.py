"""Opening-hours calendars, compiled once into model time.

Model time is minutes since local midnight of the scenario's ``start_date`` in the model's
own time zone (Vietnam, UTC+7, by default). A ``CalendarSpec`` states opening hours in its
own zone; ``Calendar.compile`` turns it into sorted, disjoint, non-adjacent half-open
intervals ``[a, b)`` of model minutes, queried in O(log n) with ``bisect``.

Semantics of a spec (all in the calendar's own local time):

* ``hours`` windows open on each ``weekdays`` day; an overnight window such as
  ``("22:00", "06:00")`` belongs to the day it starts on and runs into the next day;
* ``periods`` replace ``hours`` on the dates they cover (the first period that covers a date
  wins), e.g. the peak-season extension to 22:00; ``MM-DD`` spans recur every year;
* ``closed_dates`` remove the whole local day ``[00:00, 24:00)``, including the morning tail
  of an overnight window started the day before;
* ``suspensions`` remove ``[start, end)``.

The UTC offset of an IANA zone is resolved once, at ``start_date`` (VN and CN have no DST).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, NaiveDatetime, field_validator, model_validator
from typing_extensions import Self

from gatesim.core.dates import DateSpan

DAY = 1440  # minutes
VN_UTC_OFFSET_MIN = 420

Interval = tuple[float, float]

_FIXED_TZ = re.compile(r"UTC(?:([+-])(\d{1,2})(?::?(\d{2}))?)?")
_HHMM = re.compile(r"(\d{1,2}):(\d{2})")


# ----------------------------------------------------------------------------- parsing
def fixed_utc_offset(tz: str) -> int | None:
    """Minutes east of UTC for 'UTC', 'UTC+8', 'UTC+08:00', 'UTC-03:30'; None otherwise."""
    m = _FIXED_TZ.fullmatch(tz.strip())
    if m is None:
        return None
    sign, hh, mm = m.group(1) or "+", int(m.group(2) or 0), int(m.group(3) or 0)
    if mm >= 60 or hh * 60 + mm > 14 * 60:
        raise ValueError(f"UTC offset out of range in {tz!r} (at most ±14:00, minutes < 60)")
    return (hh * 60 + mm) * (-1 if sign == "-" else 1)


def utc_offset_minutes(tz: str, on: date) -> float:
    """UTC offset of ``tz`` (fixed 'UTC±HH:MM' or IANA name) at noon of ``on``, in minutes."""
    fixed = fixed_utc_offset(tz)
    if fixed is not None:
        return float(fixed)
    try:
        zone = ZoneInfo(tz.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: 'Asia' is a tzdata folder
        raise ValueError(
            f"unknown timezone {tz!r}: use 'UTC+HH:MM' or an IANA name like 'Asia/Shanghai'"
        ) from None
    offset = datetime.combine(on, time(12), tzinfo=zone).utcoffset()
    assert offset is not None  # ZoneInfo always yields an offset
    return offset.total_seconds() / 60


def check_timezone(tz: str) -> str:
    """``tz`` if it is a known time zone; ValueError naming it otherwise (for validators)."""
    utc_offset_minutes(tz, date(2000, 1, 1))
    return tz


def parse_hhmm(s: str, *, allow_24: bool) -> int:
    """'HH:MM' -> minutes after midnight; '24:00' only if ``allow_24``."""
    m = _HHMM.fullmatch(s.strip())
    if m is None:
        raise ValueError(f"time {s!r} is not 'HH:MM'")
    hh, mm = int(m.group(1)), int(m.group(2))
    if mm >= 60 or hh > 24 or (hh == 24 and (mm or not allow_24)):
        limit = "24:00" if allow_24 else "23:59"
        raise ValueError(f"time {s!r} out of range 00:00..{limit}")
    return hh * 60 + mm


# ----------------------------------------------------------------------------- spec
class Suspension(BaseModel):
    """A closure ``[start, end)`` in the calendar's own local time (naive datetimes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: NaiveDatetime
    end: NaiveDatetime

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        if self.end <= self.start:
            raise ValueError(f"suspension end {self.end} must be after start {self.start}")
        return self


def _check_windows(hours: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    for start, end in hours:
        if parse_hhmm(start, allow_24=False) == parse_hhmm(end, allow_24=True):
            raise ValueError(
                f"window ({start!r}, {end!r}) is empty; use ('00:00', '24:00') for a full day"
            )
    return hours


class HoursPeriod(DateSpan):
    """Opening hours that replace the calendar's ``hours`` on the dates from ``from`` to ``to``
    (both included; ``MM-DD`` recurs every year)."""

    hours: tuple[tuple[str, str], ...] = Field(min_length=1)

    @field_validator("hours")
    @classmethod
    def _check_hours(cls, hours: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        return _check_windows(hours)


class CalendarSpec(BaseModel):
    """Opening hours as written in a scenario file (see module docstring for semantics)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = "UTC+07:00"
    hours: tuple[tuple[str, str], ...] = (("00:00", "24:00"),)
    weekdays: tuple[Annotated[int, Field(ge=0, le=6)], ...] = (0, 1, 2, 3, 4, 5, 6)
    closed_dates: tuple[date, ...] = ()
    suspensions: tuple[Suspension, ...] = ()
    periods: tuple[HoursPeriod, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, tz: str) -> str:
        return check_timezone(tz)

    @field_validator("hours")
    @classmethod
    def _check_hours(cls, hours: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        return _check_windows(hours)

    @classmethod
    def always_open(cls) -> CalendarSpec:
        """Open around the clock, every day."""
        return cls()

    def utc_offset_minutes(self, on: date) -> float:
        """This calendar's UTC offset (minutes east) as resolved on ``on``."""
        return utc_offset_minutes(self.timezone, on)

    def compile(
        self,
        start_date: date,
        horizon_days: float,
        model_utc_offset_min: float = VN_UTC_OFFSET_MIN,
    ) -> Calendar:
        """Shorthand for ``Calendar.compile(self, ...)``."""
        return Calendar.compile(self, start_date, horizon_days, model_utc_offset_min)


# ----------------------------------------------------------------------------- intervals
def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort, drop empty, and merge overlapping or touching intervals."""
    out: list[Interval] = []
    for a, b in sorted(iv for iv in intervals if iv[0] < iv[1]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _subtract(opens: Sequence[Interval], holes: Sequence[Interval]) -> list[Interval]:
    """``opens`` minus ``holes``; both sorted and merged."""
    out: list[Interval] = []
    j = 0
    for a, b in opens:
        while j < len(holes) and holes[j][1] <= a:
            j += 1  # holes ending before this (and so every later) open interval
        cur, k = a, j
        while k < len(holes) and holes[k][0] < b:
            if holes[k][0] > cur:
                out.append((cur, holes[k][0]))
            cur = max(cur, holes[k][1])
            k += 1
        if cur < b:
            out.append((cur, b))
    return out


def _daily_windows(spec: CalendarSpec, start_date: date, days: range) -> list[Interval]:
    """Open windows of local days ``days`` (offsets from start_date), in local minutes."""
    default = _parsed_windows(spec.hours)
    periods = [(period, _parsed_windows(period.hours)) for period in spec.periods]
    weekdays = set(spec.weekdays)
    out: list[Interval] = []
    for d in days:
        today = start_date + timedelta(days=d)
        if today.weekday() not in weekdays:
            continue
        base = d * DAY
        windows = next((w for period, w in periods if period.covers(today)), default)
        for s, e in windows:
            out.append((base + s, base + e if e > s else base + DAY + e))  # e <= s: overnight
    return out


def _parsed_windows(hours: Iterable[tuple[str, str]]) -> list[Interval]:
    return [(parse_hhmm(s, allow_24=False), parse_hhmm(e, allow_24=True)) for s, e in hours]


def _holes(spec: CalendarSpec, start_date: date) -> list[Interval]:
    """Closed dates and suspensions, in local minutes."""
    midnight = datetime.combine(start_date, time())
    days = [(c - start_date).days for c in spec.closed_dates]
    holes: list[Interval] = [(d * DAY, d * DAY + DAY) for d in days]
    holes += [
        ((s.start - midnight) / timedelta(minutes=1), (s.end - midnight) / timedelta(minutes=1))
        for s in spec.suspensions
    ]
    return holes


# ----------------------------------------------------------------------------- calendar
class Calendar:
    """Compiled open intervals in model minutes; half-open ``[a, b)``, sorted, disjoint,
    non-adjacent. ``[(-inf, inf)]`` means always open."""

    __slots__ = ("_always_open", "_cum", "_ends", "_starts")

    def __init__(self, intervals: Iterable[Interval] = ()) -> None:
        ivs = [(float(a), float(b)) for a, b in intervals]
        for a, b in ivs:
            if math.isnan(a) or math.isnan(b) or b < a:
                raise ValueError(f"invalid interval ({a}, {b}): need a <= b, no NaN")
        merged = _merge(ivs)
        self._starts = [a for a, _ in merged]
        self._ends = [b for _, b in merged]
        # _cum[i] = total finite length of intervals < i; an infinite length can only be the
        # first or last interval, which open_minutes never sums through _cum.
        lengths = (b - a if math.isfinite(b - a) else 0.0 for a, b in merged)
        self._cum = list(accumulate(lengths, initial=0.0))
        # fixed with the intervals: stations ask at every service start that waited
        self._always_open = merged == [(-math.inf, math.inf)]

    @classmethod
    def unrestricted(cls) -> Calendar:
        """Open at every model time."""
        return cls([(-math.inf, math.inf)])

    @classmethod
    def compile(
        cls,
        spec: CalendarSpec,
        start_date: date,
        horizon_days: float,
        model_utc_offset_min: float = VN_UTC_OFFSET_MIN,
    ) -> Calendar:
        """Compile ``spec`` over the coverage ``[-1440, (horizon_days + 1) * 1440)``.

        Outside the coverage the calendar is closed, except that a calendar open throughout
        the coverage becomes ``unrestricted()`` (so ``always_open`` is True).
        """
        if horizon_days < 0:
            raise ValueError(f"horizon_days must be >= 0, got {horizon_days}")
        if isinstance(start_date, datetime):
            start_date = start_date.date()  # a datetime never equals a date in closed_dates
        delta = model_utc_offset_min - spec.utc_offset_minutes(start_date)  # model = local + delta
        lo, hi = -DAY, (horizon_days + 1) * DAY
        # Local days touching [lo - delta, hi - delta), plus the day before (overnight windows).
        days = range(math.floor((lo - delta) / DAY) - 1, math.ceil((hi - delta) / DAY) + 1)
        opens = _merge(_daily_windows(spec, start_date, days))
        local = _subtract(opens, _merge(_holes(spec, start_date)))
        model = [(max(a + delta, lo), min(b + delta, hi)) for a, b in local]
        cal = cls(iv for iv in model if iv[0] < iv[1])
        return cls.unrestricted() if cal.intervals == ((lo, hi),) else cal

    # --------------------------------------------------------------- queries, O(log n)
    @property
    def intervals(self) -> tuple[Interval, ...]:
        return tuple(zip(self._starts, self._ends, strict=True))

    @property
    def always_open(self) -> bool:
        """True iff open at every time (the engine's fast path)."""
        return self._always_open

    def _index(self, t: float) -> int:
        """Index of the last interval starting at or before ``t`` (-1 if none)."""
        return bisect_right(self._starts, t) - 1

    def is_open(self, t: float) -> bool:
        i = self._index(t)
        return i >= 0 and t < self._ends[i]

    def next_open(self, t: float) -> float:
        """Earliest time >= t at which the calendar is open: t if open now, else the next
        interval's start, or inf if it never opens again."""
        i = self._index(t)
        if i >= 0 and t < self._ends[i]:
            return t
        return self._starts[i + 1] if i + 1 < len(self._starts) else math.inf

    def next_close(self, t: float) -> float:
        """Earliest time >= t at which the calendar is closed: the end of the current
        interval if open now (inf if it never closes), else t itself."""
        i = self._index(t)
        return self._ends[i] if i >= 0 and t < self._ends[i] else t

    def stretch(self, t: float) -> tuple[float, float, bool]:
        """The maximal stretch ``[lo, hi)`` around ``t`` that is all open or all closed, and
        whether it is open. Closed: ``hi`` is ``next_open(t)``; open: ``hi`` is
        ``next_close(t)``. Lets a caller answer later queries inside it without a search."""
        i = self._index(t)
        if i >= 0 and t < self._ends[i]:
            return self._starts[i], self._ends[i], True
        lo = self._ends[i] if i >= 0 else -math.inf
        hi = self._starts[i + 1] if i + 1 < len(self._starts) else math.inf
        return lo, hi, False

    def open_minutes(self, a: float, b: float) -> float:
        """Total open time within ``[a, b)``; needs finite ``a <= b``."""
        if not (math.isfinite(a) and math.isfinite(b)) or b < a:
            raise ValueError(f"open_minutes needs finite a <= b, got a={a} b={b}")
        k = bisect_right(self._ends, a)  # first interval ending after a
        j = bisect_left(self._starts, b) - 1  # last interval starting before b
        if k > j:
            return 0.0
        if k == j:
            return min(b, self._ends[k]) - max(a, self._starts[k])
        first = self._ends[k] - max(a, self._starts[k])
        last = min(b, self._ends[j]) - self._starts[j]
        return first + (self._cum[j] - self._cum[k + 1]) + last

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Calendar) and self.intervals == other.intervals

    def __hash__(self) -> int:
        return hash(self.intervals)

    def __repr__(self) -> str:
        return f"Calendar({list(self.intervals)!r})"
