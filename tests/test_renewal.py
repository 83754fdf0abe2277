"""Renewal arrivals (``interarrival: {dist: ...}``): exact gaps, time-scaling by the demand
factors, common random numbers, and the closed-form GI/M/1 wait."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from builders import det, scenario, truck_rows

from gatesim.core.errors import ScenarioError
from gatesim.experiment.capacity import CapacityOptions, check_measurable
from gatesim.model.arrivals import generate
from gatesim.model.engine import simulate
from gatesim.model.renewal import expected_renewal_trucks
from gatesim.scenario.schema import Scenario
from gatesim.stats.queueing import gim1_sigma, gim1_wait, mm1_wait
from gatesim.validation import get_check, run_check

ROUTE = {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}}
STATION = {"s1": {"service": det(1.0)}}


def renewal(gap: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"lane": "L", "direction": "export", "cargo": "c", "route": "r",
            "interarrival": gap, **fields}  # fmt: skip


def times_of(s: Scenario, stream: str = "a", seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    return generate(s, s.arrivals[stream], rng).times.tolist()


def test_deterministic_gaps_are_exact() -> None:
    """Factor 1: a truck every 90 minutes, the first one gap after time 0, none at 1440."""
    s = scenario(STATION, ROUTE, {"a": renewal(det(90.0))})
    assert times_of(s) == pytest.approx([90.0 * k for k in range(1, 16)], abs=1e-9)


def test_a_day_at_double_demand_halves_the_gaps() -> None:
    """Multiplier 2 on day 1: operational time runs twice as fast, so the 60-minute gaps of
    day 0 become 30-minute gaps on day 1 (S = 1440 + 60k lands at 1440 + 30k)."""
    spec = renewal(det(60.0), multipliers=[{"from_day": 1, "to_day": 2, "factor": 2.0}])
    s = scenario(STATION, ROUTE, {"a": spec}, days=2)
    day0 = [60.0 * k for k in range(1, 25)]  # 60 … 1440 (S = 1440 is clock 1440)
    day1 = [1440.0 + 30.0 * k for k in range(1, 48)]  # 1470 … 2850
    assert times_of(s) == pytest.approx(day0 + day1, abs=1e-9)


def test_hours_of_zero_weight_get_no_trucks() -> None:
    """A profile open 08:00-10:00 only, at weight 1: m = 12 there, so operational minutes
    pass 12 times faster and 720-minute gaps land every 60 clock minutes from 08:00."""
    profile = [0.0] * 8 + [1.0, 1.0] + [0.0] * 14
    s = scenario(STATION, ROUTE, {"a": renewal(det(720.0), profile=profile)})
    assert times_of(s) == pytest.approx([540.0], abs=1e-9)
    assert expected_renewal_trucks(s, s.arrivals["a"]) == pytest.approx(2.0)


def test_the_count_follows_the_demand_scale() -> None:
    """Exponential gaps of mean 2 min over 20 days at demand_scale 1.5: Λ/E[X] = 21,600
    trucks; the count's sd is about √21,600 ≈ 147, so 5 sd is 735."""
    spec = renewal({"dist": "exponential", "mean": 2.0})
    s = scenario(STATION, ROUTE, {"a": spec}, days=20, demand_scale=1.5)
    assert abs(len(times_of(s)) - 21_600) < 735


def test_common_random_numbers_hold() -> None:
    """Adding a stream changes none of the first stream's trucks (each stream its own rng)."""
    one = scenario(STATION, ROUTE, {"a": renewal({"dist": "erlang", "k": 2, "mean": 5.0})})
    two = scenario(STATION, ROUTE, {"a": one.arrivals["a"].model_dump(), "b": renewal(det(7.0))})

    def arrivals_of_a(s: Scenario) -> list[tuple[float, str]]:
        rows = truck_rows(simulate(s))
        return [(row["created_min"], row["channel"]) for row in rows if row["stream"] == "a"]

    assert arrivals_of_a(one) == arrivals_of_a(two)
    assert len(arrivals_of_a(one)) > 250


def test_capacity_refuses_renewal_streams() -> None:
    s = scenario(STATION, ROUTE, {"a": renewal(det(9.0))}, days=10)
    with pytest.raises(ScenarioError, match=r"arrivals\.a\.interarrival: capacity measures"):
        check_measurable(s, CapacityOptions())


def test_gim1_with_exponential_gaps_is_mm1() -> None:
    """A*(z) = λ/(λ + z) gives σ = ρ, and the GI/M/1 wait is the M/M/1 wait."""
    lam, mu = 0.7, 1.0
    assert gim1_sigma(lambda z: lam / (lam + z), mu) == pytest.approx(lam / mu, rel=1e-10)
    assert gim1_wait(lambda z: lam / (lam + z), mu) == pytest.approx(mm1_wait(lam, mu), rel=1e-9)


def test_gim1_refuses_an_unstable_queue() -> None:
    with pytest.raises(ValueError, match="unstable"):
        gim1_sigma(lambda z: float(np.exp(-0.9 * z)), 1.0)  # D/M/1 at ρ = 1/0.9


@pytest.mark.parametrize("name", ["dm1", "ekm1"])
def test_gim1_waits_match_the_closed_form(name: str) -> None:
    """The analytic wait lies in the 99 % t-interval of 10 replications of 30 days."""
    (result,) = run_check(get_check(name), replications=10, jobs=1, confidence=0.99)
    assert result.passed, (result.mean, result.ci_pass, result.analytic)
