"""Calendars: hand-computed compilations, queries, validation, and properties against an
independent reference implementation of the spec semantics."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta, timezone
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gatesim.core.calendar import Calendar, CalendarSpec, Suspension, utc_offset_minutes

START = date(2025, 1, 1)  # a Wednesday
INF = math.inf


def cn(**kw: Any) -> CalendarSpec:
    return CalendarSpec(timezone="UTC+8", hours=[("08:00", "20:00")], **kw)


# ------------------------------------------------------------------------- compilation
def test_cn_timezone_shift() -> None:
    cal = Calendar.compile(cn(), START, horizon_days=2)
    # 08:00-20:00 at UTC+8 is 07:00-19:00 at UTC+7; coverage is [-1440, 3 * 1440).
    assert cal.intervals == ((-1020, -300), (420, 1140), (1860, 2580), (3300, 4020))
    assert not cal.always_open


@pytest.mark.parametrize("tz", ["UTC+8", "UTC+08:00", "UTC+0800", "Asia/Shanghai"])
def test_timezone_spellings_agree(tz: str) -> None:
    spec = CalendarSpec(timezone=tz, hours=[("08:00", "20:00")])
    assert spec.compile(START, 2) == Calendar.compile(cn(), START, 2)


def test_model_offset_parameter() -> None:
    cal = Calendar.compile(cn(), START, 0, model_utc_offset_min=480)
    assert cal.intervals == ((-960, -240), (480, 1200))


def test_vn_default_timezone() -> None:
    cal = CalendarSpec(hours=[("07:00", "17:00")]).compile(START, 0)
    assert cal.intervals == ((-1020, -420), (420, 1020))


def test_negative_offset_crosses_days() -> None:
    # 09:00-10:00 at UTC-03:30 is 12:30-13:30 UTC = 19:30-20:30 at UTC+7.
    cal = CalendarSpec(timezone="UTC-03:30", hours=[("09:00", "10:00")]).compile(START, 0)
    assert cal.intervals == ((-270, -210), (1170, 1230))


def test_closed_date_removes_local_day() -> None:
    cal = cn(closed_dates=[date(2025, 1, 2)]).compile(START, 2)
    assert cal.intervals == ((-1020, -300), (420, 1140), (3300, 4020))


def test_dated_period_replaces_the_hours_on_its_dates() -> None:
    # CN 08:00-20:00 (07:00-19:00 VN); on 2 Jan only, 08:00-23:00 (07:00-22:00 VN)
    late = {"from": "2025-01-02", "to": "2025-01-02", "hours": [("08:00", "23:00")]}
    cal = cn(periods=[late]).compile(START, 2)
    assert cal.intervals == ((-1020, -300), (420, 1140), (1860, 2760), (3300, 4020))


def test_recurring_period_wraps_the_year_end_and_first_match_wins() -> None:
    spec = CalendarSpec(
        hours=[("07:00", "20:00")],
        periods=[
            {"from": "12-31", "to": "01-01", "hours": [("06:00", "22:00")]},
            {"from": "01-01", "to": "01-31", "hours": [("00:00", "24:00")]},  # shadowed on 1 Jan
        ],
    )
    cal = spec.compile(date(2024, 12, 30), 4)
    assert cal.intervals == (
        (-1020, -240),  # 29 Dec: ordinary hours
        (420, 1200),  # 30 Dec
        (1800, 2760),  # 31 Dec: 06:00-22:00
        (3240, 4200),  # 1 Jan: the first period that covers it
        (4320, 7200),  # 2 and 3 Jan open all day (touching days merge)
    )


def test_period_with_mixed_bounds_is_refused() -> None:
    with pytest.raises(ValidationError, match="both be MM-DD or both"):
        CalendarSpec(periods=[{"from": "05-01", "to": "2025-06-01", "hours": [("07:00", "22:00")]}])


def test_closed_date_in_other_timezone_is_a_local_day() -> None:
    # CN all day, closed on 2025-01-02 CN time = [1440 - 60, 2880 - 60) model.
    spec = CalendarSpec(timezone="UTC+8", closed_dates=[date(2025, 1, 2)])
    assert spec.compile(START, 2).intervals == ((-1440, 1380), (2820, 4320))


def test_suspension_cuts_hole() -> None:
    sus = Suspension(start=datetime(2025, 1, 3, 10), end=datetime(2025, 1, 3, 11, 30))
    cal = cn(suspensions=[sus]).compile(START, 2)
    # Day 2 local 10:00-11:30 = model 2*1440 + 540 .. + 630.
    assert cal.intervals == (
        (-1020, -300),
        (420, 1140),
        (1860, 2580),
        (3300, 3420),
        (3510, 4020),
    )
    assert cal.is_open(3419.999) and not cal.is_open(3420) and not cal.is_open(3509.999)
    assert cal.is_open(3510)
    assert cal.next_open(3420) == 3510
    assert cal.next_close(3300) == 3420
    assert cal.open_minutes(3300, 4020) == 720 - 90


def test_suspension_spanning_days() -> None:
    sus = {"start": "2025-01-01T18:00", "end": "2025-01-02T09:00"}
    cal = cn(suspensions=[sus]).compile(START, 1)
    # Day 0 open until 18:00 local = 1020 model; day 1 reopens 09:00 local = 1920 model.
    assert cal.intervals == ((-1020, -300), (420, 1020), (1920, 2580))


def test_overnight_window_and_closed_date() -> None:
    spec = CalendarSpec(hours=[("22:00", "06:00")])
    cal = spec.compile(START, 1)  # coverage [-1440, 2880)
    assert cal.intervals == ((-1440, -1080), (-120, 360), (1320, 1800), (2760, 2880))
    closed = spec.model_copy(update={"closed_dates": (date(2025, 1, 2),)})
    # The whole local day 2025-01-02 closes, including the tail of 1 January's night shift.
    assert closed.compile(START, 1).intervals == ((-1440, -1080), (-120, 360), (1320, 1440))


def test_overnight_equals_split_windows() -> None:
    a = CalendarSpec(hours=[("22:00", "06:00")]).compile(START, 3)
    b = CalendarSpec(hours=[("00:00", "06:00"), ("22:00", "24:00")]).compile(START, 3)
    assert a == b
    c = CalendarSpec(hours=[("22:00", "00:00")]).compile(START, 3)
    assert c == CalendarSpec(hours=[("22:00", "24:00")]).compile(START, 3)


def test_overnight_window_belongs_to_its_start_day() -> None:
    # Weekdays only: Friday 3 Jan's shift runs into Saturday; nothing starts Sat/Sun.
    spec = CalendarSpec(hours=[("22:00", "06:00")], weekdays=[0, 1, 2, 3, 4])
    cal = spec.compile(START, 5)
    fri, sat, sun, mon = 2 * 1440, 3 * 1440, 4 * 1440, 5 * 1440
    assert cal.is_open(sat + 300)  # 05:00 Saturday: Friday's shift
    assert not cal.is_open(sat + 1380) and not cal.is_open(sun + 300)
    assert not cal.is_open(mon + 300)  # no Sunday-night shift
    assert cal.is_open(mon + 1380)
    # Fri 00:00 to Tue 00:00: Thursday's tail 6 h, Friday's shift 8 h, Monday's first 2 h.
    assert cal.open_minutes(fri, mon + 1440) == 360 + 480 + 120


def test_weekdays() -> None:
    cal = CalendarSpec(hours=[("08:00", "17:00")], weekdays=[0, 1, 2, 3, 4]).compile(START, 6)
    starts = [a for a, _ in cal.intervals]
    # Day 0 = Wed ... day 3 = Sat, day 4 = Sun; day -1 = Tue.
    assert starts == [d * 1440 + 480 for d in (-1, 0, 1, 2, 5, 6)]


def test_overlapping_windows_merge() -> None:
    cal = CalendarSpec(hours=[("08:00", "12:00"), ("11:00", "13:00"), ("13:00", "14:00")]).compile(
        START, 0
    )
    assert cal.intervals == ((-960, -600), (480, 840))


# ------------------------------------------------------------------------- always open
def test_always_open_fast_path() -> None:
    for spec in (CalendarSpec.always_open(), CalendarSpec(timezone="Asia/Shanghai")):
        cal = spec.compile(START, 10)
        assert cal.always_open and cal == Calendar.unrestricted()
        assert cal.is_open(-1e9) and cal.is_open(0) and cal.is_open(1e9)
        assert cal.next_open(5) == 5 and cal.next_close(5) == INF
        assert cal.open_minutes(-10, 100) == 110


def test_closed_date_outside_horizon_keeps_always_open() -> None:
    assert CalendarSpec(closed_dates=[date(2026, 1, 1)]).compile(START, 10).always_open
    assert not CalendarSpec(closed_dates=[date(2025, 1, 5)]).compile(START, 10).always_open


def test_empty_calendar() -> None:
    cal = CalendarSpec(hours=[]).compile(START, 3)
    assert cal.intervals == () and not cal.always_open
    assert not cal.is_open(0) and cal.next_open(0) == INF and cal.next_close(0) == 0
    assert cal.open_minutes(0, 1000) == 0


# ------------------------------------------------------------------------- queries
def test_queries_exact_values() -> None:
    cal = Calendar.compile(cn(), START, 2)
    assert cal.is_open(420) and not cal.is_open(1140)  # half-open [a, b)
    assert not cal.is_open(419.5)
    assert cal.next_open(0) == 420
    assert cal.next_open(500) == 500
    assert cal.next_open(1140) == 1860
    assert cal.next_open(4020) == INF  # past the last interval
    assert cal.next_close(500) == 1140
    assert cal.next_close(1140) == 1140  # closed: t itself
    assert cal.next_close(0) == 0
    assert cal.open_minutes(0, 2000) == 720 + 140
    assert cal.open_minutes(500, 600) == 100
    assert cal.open_minutes(1200, 1800) == 0
    assert cal.open_minutes(-2000, 5000) == 4 * 720
    assert cal.open_minutes(700, 700) == 0
    with pytest.raises(ValueError, match="a <= b"):
        cal.open_minutes(10, 5)
    with pytest.raises(ValueError, match="finite"):
        cal.open_minutes(0, INF)


def test_open_minutes_with_infinite_ends() -> None:
    cal = Calendar([(-INF, 0), (10, 20), (30, INF)])
    assert cal.open_minutes(-100, 100) == 100 + 10 + 70
    assert cal.open_minutes(5, 35) == 10 + 5
    assert cal.next_close(50) == INF and cal.next_open(-1e12) == -1e12


def test_calendar_constructor_normalises() -> None:
    cal = Calendar([(5, 10), (0, 3), (3, 4), (8, 12), (20, 20)])
    assert cal.intervals == ((0, 4), (5, 12))
    assert repr(cal) == "Calendar([(0.0, 4.0), (5.0, 12.0)])"
    with pytest.raises(ValueError):
        Calendar([(5, 1)])
    with pytest.raises(ValueError):
        Calendar([(math.nan, 1)])


def test_datetime_start_date_is_normalised() -> None:
    spec = cn(closed_dates=[date(2025, 1, 2)])
    assert spec.compile(datetime(2025, 1, 1, 15), 2) == spec.compile(START, 2)


def test_negative_horizon_rejected() -> None:
    with pytest.raises(ValueError, match="horizon_days"):
        cn().compile(START, -1)


# ------------------------------------------------------------------------- validation
def test_utc_offset_resolution() -> None:
    assert utc_offset_minutes("UTC", START) == 0
    assert utc_offset_minutes("UTC-03:30", START) == -210
    assert utc_offset_minutes("Asia/Ho_Chi_Minh", START) == 420
    # IANA zones are resolved at the given date (DST).
    assert utc_offset_minutes("Europe/Berlin", date(2025, 1, 1)) == 60
    assert utc_offset_minutes("Europe/Berlin", date(2025, 7, 1)) == 120


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "unknown timezone"),
        ({"timezone": "UTC+15"}, "out of range"),
        ({"timezone": "UTC+08:60"}, "out of range"),
        ({"timezone": "GMT+7"}, "unknown timezone"),
        ({"hours": [("25:00", "26:00")]}, "out of range"),
        ({"hours": [("08:00", "24:30")]}, "out of range"),
        ({"hours": [("24:00", "06:00")]}, "out of range"),
        ({"hours": [("8am", "5pm")]}, "not 'HH:MM'"),
        ({"hours": [("08:00", "08:00")]}, "empty"),
        ({"hours": [("08:00",)]}, "hours"),
        ({"weekdays": [7]}, "weekdays"),
        ({"weekdays": [-1]}, "weekdays"),
        ({"closed_dates": ["2025-02-30"]}, "closed_dates"),
        ({"suspensions": [{"start": "2025-01-01T10:00", "end": "2025-01-01T10:00"}]}, "after"),
        (
            {"suspensions": [{"start": "2025-01-01T10:00+08:00", "end": "2025-01-01T11:00+08:00"}]},
            "naive",
        ),
        ({"holidays": []}, "holidays"),
    ],
)
def test_invalid_spec_rejected(kw: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValidationError) as err:
        CalendarSpec(**kw)
    assert needle in str(err.value)


def test_spec_is_frozen_and_hashable() -> None:
    spec = cn()
    assert hash(spec) == hash(cn())
    with pytest.raises(ValidationError):
        spec.timezone = "UTC"  # type: ignore[misc]


# ------------------------------------------------------------------------- properties
def reference_is_open(spec: CalendarSpec, t: float, model_off: int) -> bool:
    """Direct evaluation of the spec semantics at model time t (no intervals)."""
    cal_off = spec.utc_offset_minutes(START)
    local = datetime.combine(START, time()) + timedelta(minutes=t - model_off + cal_off)
    day, minute = local.date(), local.hour * 60 + local.minute + local.second / 60
    if day in spec.closed_dates or any(s.start <= local < s.end for s in spec.suspensions):
        return False
    today = day.weekday() in spec.weekdays
    yesterday = (day - timedelta(days=1)).weekday() in spec.weekdays
    for s_str, e_str in spec.hours:
        s = int(s_str[:2]) * 60 + int(s_str[3:])
        e = int(e_str[:2]) * 60 + int(e_str[3:])
        if s < e and today and s <= minute < e:
            return True
        if e <= s and ((today and minute >= s) or (yesterday and minute < e)):
            return True
    return False


def hhmm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


@st.composite
def specs(draw: st.DrawFn) -> tuple[CalendarSpec, int, int]:
    off = draw(st.integers(-12 * 4, 14 * 4)) * 15
    sign = "-" if off < 0 else "+"
    windows = []
    for _ in range(draw(st.integers(0, 3))):
        s = draw(st.integers(0, 47)) * 30
        e = draw(st.sampled_from([x for x in range(30, 1441, 30) if x != s]))
        windows.append((hhmm(s), hhmm(e)))
    horizon = draw(st.integers(0, 4))
    dates = st.integers(-2, horizon + 2).map(lambda d: START + timedelta(days=d))
    suspensions = []
    for _ in range(draw(st.integers(0, 3))):
        a = datetime.combine(draw(dates), time()) + timedelta(minutes=draw(st.integers(0, 1439)))
        suspensions.append(
            Suspension(start=a, end=a + timedelta(minutes=draw(st.integers(1, 3000))))
        )
    spec = CalendarSpec(
        timezone=f"UTC{sign}{hhmm(abs(off))}",
        hours=windows,
        weekdays=draw(st.lists(st.integers(0, 6), max_size=7, unique=True)),
        closed_dates=draw(st.lists(dates, max_size=3)),
        suspensions=suspensions,
    )
    return spec, horizon, draw(st.sampled_from([420, 480, 0, -300]))


def walk(cal: Calendar, a: float, b: float) -> tuple[float, float]:
    """(open, closed) minutes in [a, b) by hopping with next_open / next_close."""
    open_, closed, t = 0.0, 0.0, a
    while t < b:
        if cal.is_open(t):
            nxt = min(cal.next_close(t), b)
            open_ += nxt - t
        else:
            nxt = min(cal.next_open(t), b)
            closed += nxt - t
        assert nxt > t  # progress
        t = nxt
    return open_, closed


@settings(max_examples=200, deadline=None)
@given(case=specs(), data=st.data())
def test_properties(case: tuple[CalendarSpec, int, int], data: st.DataObject) -> None:
    spec, horizon, model_off = case
    cal = spec.compile(START, horizon, model_utc_offset_min=model_off)
    lo, hi = -1440, (horizon + 1) * 1440
    ivs = cal.intervals
    # Sorted, non-empty, disjoint and non-adjacent.
    assert all(a < b for a, b in ivs)
    assert all(b1 < a2 for (_, b1), (a2, _) in pairwise(ivs))

    halves = st.integers(2 * lo, 2 * hi - 1).map(lambda k: k / 2)
    for t in data.draw(st.lists(halves, min_size=1, max_size=30)):
        assert cal.is_open(t) == reference_is_open(spec, t, model_off)
        nxt = cal.next_open(t)
        assert nxt >= t
        if math.isfinite(nxt):
            assert cal.is_open(nxt)
            assert cal.open_minutes(t, nxt) == 0
        nc = cal.next_close(t)
        assert nc >= t and (nc > t) == cal.is_open(t)
        if math.isfinite(nc):
            assert not cal.is_open(nc)
            assert cal.open_minutes(t, nc) == nc - t

    a, b = sorted(data.draw(st.lists(halves, min_size=2, max_size=2)))
    open_walk, closed_walk = walk(cal, a, b)
    assert cal.open_minutes(a, b) == pytest.approx(open_walk, abs=1e-9)
    assert cal.open_minutes(a, b) + closed_walk == pytest.approx(b - a, abs=1e-9)
    m = (a + b) / 2
    assert cal.open_minutes(a, b) == pytest.approx(
        cal.open_minutes(a, m) + cal.open_minutes(m, b), abs=1e-9
    )


def test_reference_agrees_on_known_case() -> None:
    spec = cn()
    assert reference_is_open(spec, 420, 420) and not reference_is_open(spec, 1140, 420)


def test_tz_aware_datetime_is_not_naive() -> None:
    aware = datetime(2025, 1, 1, 10, tzinfo=timezone.utc)
    with pytest.raises(ValidationError):
        Suspension(start=aware, end=aware + timedelta(hours=1))
