"""Gate process time = time in system - waiting for opening: an exact, hand-computed timeline.

Two stations in a row, A open 08:00-10:00 (480-600) and B open 09:00-10:00 (540-600), 30 min of
service each, one server each, no travel (abstract network); trucks arrive at 420, 425 and 580.
"""

from __future__ import annotations

import math
from datetime import date

import pytest
from builders import assert_results_identical, det, scenario, timeline, trace_stream

from gatesim.core.calendar import Calendar, CalendarSpec
from gatesim.model.engine import simulate
from gatesim.scenario.loader import read_scenario
from gatesim.stations.base import Station
from gatesim.stations.opening_wait import closed_minutes
from gatesim.stats.kpis import replication_kpis

CALENDARS = {"a": {"hours": [["08:00", "10:00"]]}, "b": {"hours": [["09:00", "10:00"]]}}


def two_closing_stations() -> object:
    return scenario(
        {
            "A": {"service": det(30), "calendar": "a"},
            "B": {"service": det(30), "calendar": "b"},
        },
        {"r": {"origin": "src", "steps": ["A", "B"], "destination": "out"}},
        {"t": trace_stream([420, 425, 580])},
        days=2,
        calendars=CALENDARS,
    )


def test_waiting_for_opening_timeline() -> None:
    result = simulate(two_closing_stations())  # type: ignore[arg-type]
    # truck 0: A closed 420-480 (60 closed), served 480-510; B closed 510-540 (30 closed),
    #          served 540-570. In system 150, waiting for opening 90, process 60.
    # truck 1: A closed 425-480 (55 closed), then queues behind truck 0 while A is open
    #          (480-510: process), served 510-540; B open but busy with truck 0 540-570
    #          (process), served 570-600. In system 175, waiting for opening 55, process 120.
    # truck 2: A free at 580, served 580-610 (past closing); B closed from 600 until 09:00
    #          the next day (1980): 610-1980 = 1370 closed, served 1980-2010.
    #          In system 1430, waiting for opening 1370, process 60.
    assert sorted(timeline(result)) == [
        (0, "A", 420.0, 480.0, 510.0),
        (0, "B", 510.0, 540.0, 570.0),
        (1, "A", 425.0, 510.0, 540.0),
        (1, "B", 540.0, 570.0, 600.0),
        (2, "A", 580.0, 580.0, 610.0),
        (2, "B", 610.0, 1980.0, 2010.0),
    ]
    assert result.time_in_system_min.tolist() == [150.0, 175.0, 1430.0]
    assert result.waiting_for_opening_min.tolist() == [90.0, 55.0, 1370.0]
    k = replication_kpis(result)
    assert k["gate_process_time_mean_h"] == pytest.approx((60 + 120 + 60) / 3 / 60, rel=1e-12)
    assert k["gate_process_time_max_h"] == 2.0
    assert k["waiting_for_opening_mean_h"] == pytest.approx(1515 / 3 / 60, rel=1e-12)
    assert k["time_in_system_mean_h"] == pytest.approx(1755 / 3 / 60, rel=1e-12)
    assert k["gate_process_time_mean_h.L.export"] == k["gate_process_time_mean_h"]


def test_no_calendar_no_waiting_for_opening() -> None:
    s = scenario(
        {"A": {"service": det(30)}},
        {"r": {"origin": "src", "steps": ["A"], "destination": "out"}},
        {"t": trace_stream([0, 10, 20])},
    )
    result = simulate(s)
    assert result.waiting_for_opening_min.tolist() == [0.0, 0.0, 0.0]
    k = replication_kpis(result)
    assert k["gate_process_time_mean_h"] == k["time_in_system_mean_h"]


def test_closed_minutes_spans_open_and_closed_parts() -> None:
    spec = CalendarSpec.model_validate({"hours": [["08:00", "10:00"]]})
    calendar = spec.compile(date(2025, 5, 1), 2)
    assert closed_minutes(calendar, 420.0, 540.0) == 60.0  # 07:00-09:00: one closed hour
    assert closed_minutes(calendar, 500.0, 560.0) == 0.0  # all open
    assert closed_minutes(calendar, 590.0, 1450.0) == 850.0  # 09:50 to 00:10 next day
    assert closed_minutes(calendar, 600.0, 600.0) == 0.0
    assert closed_minutes(Calendar.unrestricted(), 0.0, 1000.0) == 0.0


def test_always_open_is_the_one_unbounded_interval() -> None:
    assert Calendar.unrestricted().always_open
    assert Calendar([(-math.inf, 0.0), (0.0, math.inf)]).always_open  # merged into one
    assert not Calendar([(0.0, 10.0)]).always_open
    assert not Calendar([(-math.inf, 0.0), (1.0, math.inf)]).always_open
    assert not Calendar().always_open


def test_a_wait_within_one_open_stretch_is_not_booked_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stations skip booking a wait that lies in their cached open stretch (it would add exactly
    0.0): the baseline's results, including every waiting-for-opening sample, are the same
    field for field as when every wait is booked."""
    s = read_scenario("scenarios/baseline.yaml", {"days": 4, "warmup_days": 1})
    skipped = []
    waited_open = Station._waited_open

    def counted(self: Station, since: float, now: float) -> bool:
        found = waited_open(self, since, now)
        skipped.append(found)
        return found

    monkeypatch.setattr(Station, "_waited_open", counted)
    fast = simulate(s)
    monkeypatch.setattr(Station, "_waited_open", lambda self, since, now: False)
    booked = simulate(s)
    assert_results_identical(fast, booked)
    assert any(skipped) and not all(skipped)  # both paths were taken
    assert (fast.waiting_for_opening_min > 0).any()
