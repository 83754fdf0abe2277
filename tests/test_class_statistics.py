"""Waits and queues by class (``class_statistics:``), from streaming statistics: an exact
timeline, the parts adding up to the station's figures, reneging, the records' answer, and
nothing at all without the field."""

from __future__ import annotations

from typing import Any

import pytest
from builders import det, scenario, trace_stream, trucks_by_id, visit_rows

from gatesim.model.engine import simulate
from gatesim.scenario.schema import Scenario
from gatesim.stats.kpis import compute_kpis

PRIORITY = {"discipline": "priority", "priority": {"by": "cargo", "order": ["hi", "lo"]}}
ROUTE = {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}}


def two_classes(kinds: list[str], **station: Any) -> Scenario:
    return scenario(
        {"s1": {"service": det(2.0), **PRIORITY, **station}},
        ROUTE,
        {
            "lo": trace_stream([0.0, 0.5], cargo="lo"),
            "hi": trace_stream([1.0, 1.5], cargo="hi", channels={"red": 1.0}),
        },
        class_statistics=kinds,
    )


def test_class_waits_and_queues_of_a_hand_timeline() -> None:
    """Service 2, hi before lo. lo0 0-2 (wait 0); hi2 2-4 (wait 1); hi3 4-6 (wait 2.5);
    lo1 6-8 (wait 5.5). lo waits on [0.5, 6): area 5.5; hi on [1, 2) and [1.5, 4): area 3.5."""
    row = simulate(two_classes(["cargo", "channel", "priority"])).stations["s1"]
    assert row["wait_mean_min"] == 9.0 / 4
    assert row["wait_mean_min.cargo.hi"] == 1.75
    assert row["wait_mean_min.cargo.lo"] == 2.75
    assert row["wait_mean_min.priority.hi"] == 1.75
    assert row["wait_mean_min.channel.red"] == 1.75  # the hi trucks
    assert row["wait_mean_min.channel.green"] == 2.75
    assert row["queue_mean.cargo.lo"] == pytest.approx(5.5 / 1440, rel=1e-12)
    assert row["queue_mean.cargo.hi"] == pytest.approx(3.5 / 1440, rel=1e-12)
    assert row["queue_mean"] == pytest.approx(9.0 / 1440, rel=1e-12)


def test_they_become_station_kpis() -> None:
    kpis = compute_kpis(simulate(two_classes(["cargo"])))
    assert kpis["station.s1.wait_mean_min.cargo.hi"] == 1.75
    assert "station.s1.queue_mean.cargo.lo" in kpis
    assert not any(".channel." in key or ".priority." in key for key in kpis)


def test_without_the_field_nothing_is_added_and_nothing_changes() -> None:
    plain, counted = simulate(two_classes([])), simulate(two_classes(["cargo"]))
    base = plain.stations["s1"]
    assert all(counted.stations["s1"][key] == value for key, value in base.items())
    assert not any(".cargo." in key for key in base)
    assert trucks_by_id(plain) == trucks_by_id(counted)


def test_priority_kind_needs_a_priority_station() -> None:
    s = scenario(
        {"s1": {"service": det(2.0)}},
        ROUTE,
        {"a": trace_stream([0.0, 1.0])},
        class_statistics=["priority"],
    )
    assert not any(".priority." in key for key in simulate(s).stations["s1"])


def test_reneging_trucks_leave_their_class_queue() -> None:
    """Patience 1 min: lo1 (arrived 0.5) reneges at 1.5, hi3 (1.5) at 2.5; hi2 starts at 2
    after waiting 1 (its patience ends at 2 too: the service start comes first or not, either
    way the class queues must add up to the queue and end empty)."""
    s = two_classes(["cargo"], patience={"dist": "deterministic", "value": 1.0})
    row = simulate(s).stations["s1"]
    parts = row["queue_mean.cargo.hi"] + row["queue_mean.cargo.lo"]
    assert parts == pytest.approx(row["queue_mean"], rel=1e-12)
    assert row["waiting_end"] == 0.0


def test_class_waits_equal_the_records_of_a_busy_run() -> None:
    """Poisson classes at ρ = 0.8 for 3 days: the streaming class means are the means of the
    visit records' waits, class by class."""
    service = {"dist": "exponential", "mean": 1.0}
    stream = {"lane": "L", "direction": "export", "route": "r", "per_day": 576.0}
    s = scenario(
        {"s1": {"service": service, **PRIORITY}},
        ROUTE,
        {"hi": {**stream, "cargo": "hi"}, "lo": {**stream, "cargo": "lo"}},
        days=3,
        warmup_days=0.5,
        class_statistics=["cargo"],
    )
    result = simulate(s)
    cargo = {truck: row["cargo"] for truck, row in trucks_by_id(result).items()}
    for name in ("hi", "lo"):
        waits = [
            v["start_min"] - v["arrive_min"]
            for v in visit_rows(result)
            if cargo[v["truck"]] == name and v["start_min"] >= s.warmup_min
        ]
        got = result.stations["s1"][f"wait_mean_min.cargo.{name}"]
        assert len(waits) > 500
        assert got == pytest.approx(sum(waits) / len(waits), rel=1e-9)


def test_cobham_class_waits_from_streaming_statistics() -> None:
    """Non-preemptive priority M/M/1 (the validation check ``priority``, ρ = 0.8): each class's
    streaming wait holds Cobham's closed form in its 99 % t-interval over 10 replications.
    (The check's record-based metric counts trucks that *arrived* after the warm-up, the
    streaming one those that *started* after it, as ``wait_mean_min`` does: close, not equal.)"""
    from gatesim.validation import get_check, run_check

    results = {r.name: r for r in run_check(get_check("priority"), 10, 1, 0.99)}
    for cargo in ("hi", "lo"):
        streaming = results[f"priority.s1.wait_mean_min.cargo.{cargo}"]
        assert streaming.passed, (streaming.mean, streaming.ci_pass, streaming.analytic)
