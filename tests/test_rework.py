"""Rework loops (``{rework: {to, p, max}}``): exact timelines, the cap, common random numbers,
conservation with trucks lost inside a loop, and the expected flows."""

from __future__ import annotations

from typing import Any

import pytest
from builders import assert_results_identical, det, scenario, timeline, trace_stream, visit_rows

from gatesim.model.engine import simulate
from gatesim.model.flows import expected_visits
from gatesim.scenario.schema import Scenario

STATIONS = {"a": {"service": det(1.0)}, "b": {"service": det(2.0)}, "c": {"service": det(3.0)}}


def looped(times: list[float], rework: dict[str, Any], **station: Any) -> Scenario:
    steps = ["a", "b", {"rework": rework}, "c"]
    stations = {name: {**spec, **station} for name, spec in STATIONS.items()}
    return scenario(
        stations,
        {"r": {"origin": "src", "steps": steps, "destination": "out"}},
        {"s": trace_stream(times)},
    )


def test_a_sure_loop_repeats_its_steps_max_times() -> None:
    """p = 1, max = 2: a → b three times, then c. One truck at 0:
    a 0-1, b 1-3, a 3-4, b 4-6, a 6-7, b 7-9, c 9-12; it clears at 12."""
    result = simulate(looped([0.0], {"to": "a", "p": 1.0, "max": 2}))
    assert timeline(result) == [
        (0, "a", 0.0, 0.0, 1.0),
        (0, "b", 1.0, 1.0, 3.0),
        (0, "a", 3.0, 3.0, 4.0),
        (0, "b", 4.0, 4.0, 6.0),
        (0, "a", 6.0, 6.0, 7.0),
        (0, "b", 7.0, 7.0, 9.0),
        (0, "c", 9.0, 9.0, 12.0),
    ]
    assert result.time_in_system_min.tolist() == [12.0]
    assert result.stations["a"]["arrived"] == 3.0
    assert result.stations["b"]["served"] == 3.0
    assert result.conservation() == {"arrived": 1, "cleared": 1, "lost": 0, "in_system": 0}


def test_a_returning_truck_queues_behind_the_others() -> None:
    """Trucks at 0 and 0.5, p = 1, max = 1. a: truck 0 0-1, truck 1 1-2. b: truck 0 1-3,
    truck 1 3-5. Truck 0 is back at a at 3 (3-4), b 5-7 (b busy with truck 1 until 5);
    truck 1 back at a at 5 (5-6), waits for b until 7 (7-9). c: truck 0 7-10, truck 1 10-13."""
    result = simulate(looped([0.0, 0.5], {"to": "a", "p": 1.0, "max": 1}))
    assert timeline(result, "b") == [
        (0, "b", 1.0, 1.0, 3.0),
        (1, "b", 2.0, 3.0, 5.0),
        (0, "b", 4.0, 5.0, 7.0),
        (1, "b", 6.0, 7.0, 9.0),
    ]
    assert sorted(result.time_in_system_min.tolist()) == [10.0, 12.5]


def test_probability_zero_changes_nothing() -> None:
    """p = 0: no truck loops, and the results equal the route without the rework step."""
    times = [0.0, 0.4, 3.0, 3.1, 7.0]
    plain = scenario(
        STATIONS,
        {"r": {"origin": "src", "steps": ["a", "b", "c"], "destination": "out"}},
        {"s": trace_stream(times)},
    )
    never = simulate(looped(times, {"to": "a", "p": 0.0, "max": 5}))
    assert_results_identical(simulate(plain), never)


def test_the_share_looping_follows_p() -> None:
    """p = 0.3, max = 1, 2,000 trucks: returns ~ Binomial(2000, 0.3) = 600 ± 20.5 (sd); the
    bound at 5 sd cannot fail by luck."""
    times = [10.0 * k for k in range(2000)]
    s = looped(times, {"to": "b", "p": 0.3, "max": 1})
    s = s.model_copy(update={"days": 14})
    visits_b = sum(1 for v in visit_rows(simulate(s)) if v["station"] == "b")
    assert abs(visits_b - 2000 - 600) < 5 * 20.5


def test_trucks_lost_inside_a_loop_are_conserved() -> None:
    """b holds no queue: returning trucks that find it busy are lost; every truck is
    counted once (arrived = cleared + lost + in system), whatever its loops."""
    times = [0.5 * k for k in range(300)]
    s = looped(times, {"to": "a", "p": 0.5, "max": 3}, queue_capacity=0)
    result = simulate(s)
    counts = result.conservation()
    assert counts["lost"] > 0
    assert counts["arrived"] == 300 == counts["cleared"] + counts["lost"] + counts["in_system"]


def test_expected_flows_count_every_pass() -> None:
    """Visits to a and b over the loop: mass × (1 + p + p²) with max = 2; c once."""
    spec = {"lane": "L", "direction": "export", "cargo": "c", "route": "r", "per_day": 100.0}
    s = scenario(
        STATIONS,
        {
            "r": {
                "origin": "src",
                "steps": ["a", "b", {"rework": {"to": "a", "p": 0.5, "max": 2}}, "c"],
                "destination": "out",
            }
        },
        {"s": spec},
        days=2,
    )
    visits = expected_visits(s, ("s",)).visits
    assert visits["a"] == pytest.approx(200.0 * 1.75)
    assert visits["b"] == pytest.approx(200.0 * 1.75)
    assert visits["c"] == pytest.approx(200.0)


def test_feedback_matches_jackson() -> None:
    """M/M/1 with Bernoulli feedback p = 0.25 at ρ = 0.8: T = 1/(μ(1 − p) − λ) and visits
    (1 − p^61)/(1 − p) inside the 99 % t-intervals of 10 replications of 30 days."""
    from gatesim.validation import get_check, run_check

    for result in run_check(get_check("feedback"), replications=10, jobs=1, confidence=0.99):
        assert result.passed, (result.name, result.mean, result.ci_pass, result.analytic)


def test_new_features_are_identical_serial_and_on_two_processes() -> None:
    """A renewal stream (Erlang gaps), a rework loop and class statistics in one scenario:
    the KPI table of 2 replications is the same serial and with jobs=2."""
    from gatesim.experiment.runner import run_experiment

    s = scenario(
        {"a": {"service": {"dist": "exponential", "mean": 1.0}}, "b": {"service": det(0.5)}},
        {
            "r": {
                "origin": "src",
                "steps": ["a", "b", {"rework": {"to": "a", "p": 0.2, "max": 3}}],
                "destination": "out",
            }
        },
        {
            "s": {
                "lane": "L",
                "direction": "export",
                "cargo": "c",
                "route": "r",
                "interarrival": {"dist": "erlang", "k": 2, "mean": 2.0},
            },
        },
        days=2,
        records=False,
        class_statistics=["cargo", "channel"],
    )
    serial = run_experiment(s, replications=2).kpi_table()
    pooled = run_experiment(s, replications=2, jobs=2).kpi_table()
    assert "station.a.wait_mean_min.cargo.c" in serial.columns
    assert serial.equals(pooled)
