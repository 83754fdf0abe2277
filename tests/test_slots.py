"""Booked arrival slots (``slots:``): exact timelines, the closed form of a saturated plan,
properties of booking, and bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from builders import assert_results_identical, det, scenario, trace_stream, trucks_by_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bad_input import GOOD, Case, _materialise, check_one_line_error, run_in_process

from gatesim.core.randomness import stream
from gatesim.core.results import SLOT_COUNTS
from gatesim.model.arrivals import StreamArrivals
from gatesim.model.engine import simulate
from gatesim.model.slots import book_slots, earliest_with_room
from gatesim.report.slots import slot_keys, slot_table
from gatesim.scenario.slots import slot_capacity
from gatesim.stats.kpis import replication_kpis

ON_TIME_AT_5 = {"compliance": {"on_time": 1.0}, "on_time_min": det(5)}


def _slotted(times: list[float], plan: dict[str, Any], *, days: int = 1, **fields: Any) -> Any:
    """src -> s1 (1 min, 100 servers: never a queue) -> out, a trace, one slot plan on L export."""
    return scenario(
        {"s1": {"service": det(1), "servers": 100}},
        {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
        {"a": trace_stream(times)},
        days=days,
        slots={"p": {"lane": "L", "direction": "export", **plan}},
        **fields,
    )


def _arrivals(result: Any) -> list[tuple[int, float]]:
    return [(t, row["created_min"]) for t, row in sorted(trucks_by_id(result).items())]


def _counts(result: Any) -> dict[str, int]:
    return dict(zip(SLOT_COUNTS, result.slot_counts_by_stream.sum(axis=0).tolist(), strict=True))


# --------------------------------------------------------------------------- exact timelines
def test_earliest_slot_with_room_on_time() -> None:
    # Hourly slots of 2; wishes 10, 20 -> slot 0 (0-60); 30 finds slot 0 full -> slot 1;
    # 70 -> slot 1 (its second place); 200 -> slot 3. On time = slot start + 5.
    result = simulate(_slotted([10, 20, 30, 70, 200], {"per_slot": 2, **ON_TIME_AT_5}))
    assert _arrivals(result) == [(0, 5.0), (1, 5.0), (2, 65.0), (3, 65.0), (4, 185.0)]
    counts = _counts(result)
    assert (counts["demand"], counts["booked"], counts["on_time"], counts["pending"]) == (
        5,
        5,
        5,
        0,
    )
    kpis = replication_kpis(result)
    # delays: 0, 0, 60 - 30, 0, 0 minutes -> mean 6 min; utilisation 5 of 24 * 2 places
    assert kpis["slot_booking_delay_mean_h"] == pytest.approx(0.1)
    assert kpis["slot_utilization.L.export"] == pytest.approx(5 / 48)
    assert kpis["slot_rolled_per_day"] == 0


def test_early_late_and_no_show_offsets() -> None:
    # One slot per hour. Early by 30 min: slot 0 -> max(0 - 30, 0) = 0, slot 1 -> 30.
    early = {"per_slot": 1, "compliance": {"early": 1.0, "on_time": 0.0}, "early_min": det(30)}
    assert _arrivals(simulate(_slotted([10, 20], early))) == [(0, 0.0), (1, 30.0)]
    # Late by 15 min after the slot's end: slot 0 -> 75, slot 1 -> 135.
    late = {"per_slot": 1, "compliance": {"late": 1.0, "on_time": 0.0}, "late_min": det(15)}
    assert _arrivals(simulate(_slotted([10, 20], late))) == [(0, 75.0), (1, 135.0)]
    # No-shows never arrive; they are counted and conservation still holds.
    gone = simulate(
        _slotted([10, 20], {"per_slot": 1, "compliance": {"no_show": 1.0, "on_time": 0.0}})
    )
    assert gone.conservation()["arrived"] == 0
    assert _counts(gone)["no_show_all"] == 2 and _counts(gone)["no_show"] == 2
    assert replication_kpis(gone)["slot_no_show_per_day"] == 2.0


def test_trucks_without_room_roll_to_the_next_day_or_stay_owed() -> None:
    # Slots only 08:00-10:00 (calendar), one truck each: 2 places a day over 2 days.
    # Five wishes on day 0: 480, 540 (day 0), 1920, 1980 (day 1, rolled); the fifth has no
    # slot before the horizon and stays owed (pending), never dropped.
    plan = {"per_slot": 1, "calendar": "h", "compliance": {"on_time": 1.0}, "on_time_min": det(0)}
    result = simulate(
        _slotted([0, 1, 2, 3, 4], plan, days=2, calendars={"h": {"hours": [["08:00", "10:00"]]}})
    )
    assert [t for _, t in _arrivals(result)] == [480.0, 540.0, 1920.0, 1980.0]
    counts = _counts(result)
    assert (counts["pending"], counts["rolled"], counts["booked"]) == (1, 3, 4)
    kpis = replication_kpis(result)
    assert kpis["slot_utilization"] == 1.0
    assert kpis["slot_pending_end.L.export"] == 1
    assert kpis["slot_booking_delay_p95_h"] == pytest.approx(
        np.quantile(np.array([480, 539, 1918, 1977]) / 60, 0.95)
    )


# --------------------------------------------------------------------------- closed form
@pytest.mark.parametrize("days", [1, 2, 3])
def test_saturated_plan_fills_every_slot_and_owes_the_excess(days: int) -> None:
    # Demand 30 an hour (720 a day), full compliance, c = 20 per 60-min slot: every slot takes
    # exactly c, and the bookings owed grow by demand - 24 * c per day (240).
    times = [h * 60.0 + i * 2.0 for h in range(24 * days) for i in range(30)]
    result = simulate(_slotted(times, {"per_slot": 20}, days=days, records=False))
    assert (result.arrived_by_hour_stream[:, 0] == 20).all()
    assert replication_kpis(result)["slot_pending_end"] == (720 - 24 * 20) * days


def test_peak_hour_arrivals_is_the_busiest_hour_averaged_over_days() -> None:
    times = [30.0] * 5 + [90.0] * 2 + [1440 + 30.0] * 3  # day 0: 5 at 00:xx; day 1: 3
    s = scenario(
        {"s1": {"service": det(1), "servers": 100}},
        {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
        {"a": trace_stream(times)},
        days=2,
        kpis=["peak_hour_arrivals"],
    )
    kpis = replication_kpis(simulate(s))
    assert kpis["peak_hour_arrivals"] == 4.0 and kpis["peak_hour_arrivals.L.export"] == 4.0
    assert not any(k.startswith("slot_") for k in kpis)  # no plan, no slot KPIs


# --------------------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    wished=st.lists(st.integers(0, 60), min_size=0, max_size=80).map(sorted),
    capacity=st.lists(st.integers(0, 3), min_size=1, max_size=70),
)
def test_greedy_booking_never_overfills_and_takes_the_earliest_room(
    wished: list[int], capacity: list[int]
) -> None:
    cap = np.asarray(capacity, dtype=np.int64)
    slot = earliest_with_room(np.asarray(wished, dtype=np.int64), cap)
    booked = slot[slot >= 0]
    assert (np.bincount(booked, minlength=len(cap)) <= cap).all()
    left = cap - np.bincount(booked, minlength=len(cap))
    for wish, got in zip(wished, slot.tolist(), strict=True):
        if got >= 0:
            assert got >= wish and (left[wish:got] == 0).all()  # every earlier slot is full
        else:
            assert (left[wish:] == 0).all()  # no room anywhere from its wish on


_SHARES = st.lists(st.integers(0, 10), min_size=4, max_size=4).filter(lambda s: sum(s) > 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    times=st.lists(st.floats(0, 2 * 1440 - 1e-6), min_size=1, max_size=120),
    per_hour=st.lists(st.integers(0, 4), min_size=24, max_size=24).filter(any),
    weights=_SHARES,
    early_high=st.floats(1, 300),
    late_high=st.floats(1, 300),
    seed=st.integers(0, 2**32),
)
def test_booked_arrivals_keep_their_slots_and_conservation(
    times: list[float],
    per_hour: list[int],
    weights: list[int],
    early_high: float,
    late_high: float,
    seed: int,
) -> None:
    shares = [w / sum(weights) for w in weights]
    shares[-1] = 1.0 - sum(shares[:-1])
    plan = {
        "per_slot": per_hour,
        "compliance": dict(zip(("early", "on_time", "late", "no_show"), shares, strict=True)),
        "early_min": {"dist": "uniform", "low": 0, "high": early_high},
        "late_min": {"dist": "triangular", "low": 0, "mode": 0, "high": late_high},
    }
    s = _slotted(sorted(times), plan, days=2, seed=seed)
    wished = np.sort(np.asarray(times))
    truck_id = {"id": {str(i): 1.0 / len(wished) for i in range(len(wished))}}
    arrivals = StreamArrivals(
        times=wished,
        channels=np.zeros(len(wished), dtype=np.int64),
        channel_names=("green",),
        attributes={"id": (tuple(truck_id["id"]), np.arange(len(wished)))},
    )
    (kept,), bookings = book_slots(s, [arrivals], lambda name: stream(seed, 0, name))
    who = kept.attributes["id"][1]
    assert len(set(who.tolist())) == len(who)  # every truck arrives at most once
    slot = earliest_with_room((wished // 60).astype(np.int64), slot_capacity(s, s.slots["p"]))
    start = slot[who] * 60.0  # each kept truck's booked slot (one stream: booking order)
    assert (slot[who] >= 0).all() and (start >= np.floor(wished[who] / 60) * 60).all()
    assert (kept.times >= start - early_high - 1e-9).all()  # never before slot - max early
    assert (kept.times <= start + 60 + late_high + 1e-9).all() and (kept.times < 2880).all()
    assert (np.diff(kept.times) >= 0).all()
    counts = dict(zip(SLOT_COUNTS, bookings.counts[0].tolist(), strict=True))
    assert len(who) + counts["no_show_all"] + counts["pending"] == counts["demand"] == len(times)
    hours = np.bincount((kept.times // 60).astype(int), minlength=48)
    assert hours.sum() == len(who)
    result = simulate(s)  # conservation is checked inside (ConservationError otherwise)
    assert result.conservation()["arrived"] == len(who)
    assert (result.slot_counts_by_stream[:, 3] <= 2 * sum(per_hour)).all()  # booked <= capacity


def test_slots_leave_other_streams_and_parts_alone() -> None:
    """A plan on one lane leaves the other lane's trucks identical, and the scenario split
    into lanes (parts) merges to the whole run bit for bit."""
    from gatesim.experiment.parts import independent_parts, merge_parts, simulate_part

    def two_lanes(slots: dict[str, Any]) -> Any:
        stream = {"direction": "export", "cargo": "c", "per_day": 300}
        return scenario(
            {"s1": {"service": det(1), "servers": 9}, "s2": {"service": det(1), "servers": 9}},
            {
                "r1": {"origin": "src", "steps": ["s1"], "destination": "out"},
                "r2": {"origin": "src", "steps": ["s2"], "destination": "out"},
            },
            {
                "a": {"lane": "A", "route": "r1", **stream},
                "b": {"lane": "B", "route": "r2", **stream},
            },
            days=2,
            warmup_days=0.5,
            slots=slots,
            kpis=["peak_hour_arrivals"],
        )

    plan = {
        "lane": "A",
        "direction": "export",
        "per_slot": 10,
        "compliance": {"early": 0.2, "on_time": 0.6, "late": 0.1, "no_show": 0.1},
    }
    with_slots, without = simulate(two_lanes({"p": plan})), simulate(two_lanes({}))
    b_rows = [r for r in with_slots.trucks or [] if r[1] == "b"]
    assert [r[6] for r in b_rows] == [r[6] for r in without.trucks or [] if r[1] == "b"]
    s = two_lanes({"p": plan})
    assert len(independent_parts(s)) == 2
    merged = merge_parts(s, [simulate_part(s, 0, index) for index in range(2)])
    assert_results_identical(merged, with_slots)


# --------------------------------------------------------------------------- bad input
PLAN = "slots: {p: {lane: L, direction: export, per_slot: 5}}\n"
BAD = {
    "no_capacity": ("per_slot: 5", "per_slot: 0", "slots.p.per_slot", "0"),
    "no_capacity_by_hour": (
        "per_slot: 5",
        "per_slot: [" + ", ".join(["0"] * 24) + "]",
        "slots.p.per_slot",
        "[0, 0",
    ),
    "negative_capacity": ("per_slot: 5", "per_slot: -3", "slots.p.per_slot", "-3"),
    "shares_not_summing_to_one": (
        "per_slot: 5",
        "per_slot: 5, compliance: {early: 0.2, on_time: 0.7}",
        "slots.p.compliance",
        "not 0.9",
    ),
    "share_outside_0_1": (
        "per_slot: 5",
        "per_slot: 5, compliance: {early: 1.5, on_time: -0.5}",
        "slots.p.compliance.early",
        "1.5",
    ),
    "slot_length_zero": ("per_slot: 5", "per_slot: 5, slot_min: 0", "slots.p.slot_min", "0"),
    "slot_length_negative": (
        "per_slot: 5",
        "per_slot: 5, slot_min: -30",
        "slots.p.slot_min",
        "-30",
    ),
    "unknown_flow": ("lane: L", "lane: M", "slots.p.lane", "'M'"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_slot_plan_is_one_line_exit_2(name: str, tmp_path: Path) -> None:
    old, new, field, value = BAD[name]
    folder = tmp_path / "case"
    files: dict[str, str | bytes] = {"s.yaml": GOOD + PLAN.replace(old, new)}
    c = Case(files, ["run", "{d}/s.yaml", "--out", "{d}/out", "-q"], "s.yaml", [field, value])
    check_one_line_error(folder, c, run_in_process(_materialise(folder, c)))


def test_capacity_is_measured_without_the_plan() -> None:
    from gatesim.experiment.capacity import capacity_scenario

    s = _slotted([10.0], {"per_slot": 1})
    assert s.slots and capacity_scenario(s).slots == {}


def test_report_shows_slots_only_when_present() -> None:
    from gatesim.report.console import format_ci, format_percent

    stat = {"mean": 0.5, "ci95": [0.4, 0.6]}
    kpis = {
        "throughput_per_day": stat,
        "slot_utilization": stat,
        "slot_utilization.L.export": stat,
        "slot_booked_per_day.L.export": stat,
    }
    assert slot_keys(kpis) == [
        "slot_utilization",
        "slot_utilization.L.export",
        "slot_booked_per_day.L.export",
    ]
    table = slot_table(kpis, format_ci, format_percent)
    assert table is not None and table.row_count == 2
    assert slot_table({"throughput_per_day": stat}, format_ci, format_percent) is None
