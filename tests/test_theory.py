"""Stations against queueing theory: M/M/1, M/M/c, M/D/1, M/M/c/K and two-class priority.

Each check runs several independent replications of a long horizon (after a warm-up) with fixed
seeds. A simulated mean passes only if it is within 4 standard errors of theory (a CI over the
replications) AND within a relative bound; the standard error itself must be small enough that
the 4-SE bound is tighter than the relative one, so a biased engine cannot pass by chance.
With fixed seeds the outcome is deterministic (no flakiness).

Arrivals with a flat profile are an exact Poisson process (piecewise-constant NHPP sampled by
counts per hour and uniform times within the hour), so the M/M/c formulas apply directly.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
import pytest
from builders import trucks_by_id, visit_rows
from scipy.stats import t as t_dist

from gatesim.core.results import RunResult
from gatesim.model.engine import simulate
from gatesim.scenario.schema import Scenario
from gatesim.stats.queueing import (
    cobham_priority_waits,
    md1_wait,
    mm1_wait,
    mmc_wait,
    mmck_blocking,
    mmck_wait,
)

pytestmark = pytest.mark.validation

SEED = 4242
MINUTES_PER_DAY = 1440.0


def queue_doc(
    servers: int,
    lam: float,
    days: int,
    warmup_days: float,
    service: dict[str, Any] | None = None,
    records: bool = False,
    **station: Any,
) -> dict[str, Any]:
    """Poisson(lam per minute) arrivals into one station (exponential mean-1 service default)."""
    return {
        "name": "theory",
        "days": days,
        "warmup_days": warmup_days,
        "seed": SEED,
        "nodes": {"src": {"kind": "source"}, "out": {"kind": "sink"}},
        "stations": {
            "s": {
                "servers": servers,
                "service": service or {"dist": "exponential", "mean": 1.0},
                **station,
            }
        },
        "routes": {"r": {"origin": "src", "steps": ["s"], "destination": "out"}},
        "arrivals": {"a": poisson_stream(lam)},
        "records": {"trucks": records, "visits": records},
    }


def poisson_stream(lam: float, cargo: str = "c") -> dict[str, Any]:
    return {
        "lane": "L",
        "direction": "export",
        "cargo": cargo,
        "route": "r",
        "per_day": lam * MINUTES_PER_DAY,
    }


def queue_scenario(*args: Any, **kwargs: Any) -> Scenario:
    return Scenario.model_validate(queue_doc(*args, **kwargs))


def run(scenario: Scenario, replications: int) -> list[RunResult]:
    return [simulate(scenario, r) for r in range(replications)]


def station_values(results: list[RunResult], key: str) -> np.ndarray:
    return np.array([r.stations["s"][key] for r in results])


def assert_matches_theory(values: np.ndarray | list[float], theory: float, rel: float) -> None:
    """Within 4 standard errors (CI over replications) and within ``rel`` of theory.

    Each ``rel`` is set to about 3.5 times the standard error the check's design gives, so a
    correct engine fails it with probability < 0.1 % whatever the seeds, and a bias larger than
    ``rel`` always fails. The run must also have produced that precision (SE at most ``rel/2``,
    allowing for the noise of an SE estimated from a few replications).
    """
    max_rel_se = rel / 2.0
    x = np.asarray(values, dtype=float)
    assert x.size >= 8, "need at least 8 replications for a usable standard error"
    mean = float(x.mean())
    se = float(x.std(ddof=1)) / math.sqrt(x.size)
    # 4 SE, or more when few replications make the SE itself uncertain (t quantile, 1e-4 a side)
    k = max(4.0, float(t_dist.ppf(1.0 - 1e-4, x.size - 1)))
    detail = f"sim {mean:.5g} (se {se:.3g}, n={x.size}) vs theory {theory:.5g}"
    assert se <= max_rel_se * theory, f"too little simulated data to decide: {detail}"
    assert abs(mean - theory) <= k * se, f"outside {k:.1f} standard errors: {detail}"
    assert abs(mean - theory) <= rel * theory, f"outside {rel:.0%} of theory: {detail}"


# --------------------------------------------------------------------------- M/M/1 and M/M/c
# rho = 0.75 keeps the autocorrelation of waits moderate (relaxation time about an hour, so a
# 6-hour warm-up removes the empty start). Twelve replications (about 150,000 and 230,000
# customers) give a standard error of about 2.3 % (M/M/1) and 2.8 % (M/M/3) of Wq.
MM1 = {"servers": 1, "lam": 0.75, "days": 13, "warmup_days": 0.25}
MM3 = {"servers": 3, "lam": 2.25, "days": 7, "warmup_days": 0.25}
REPS = 12


@cache
def mm1_results() -> list[RunResult]:
    return run(queue_scenario(**MM1), REPS)


@cache
def mm3_results() -> list[RunResult]:
    return run(queue_scenario(**MM3), REPS)


# name: (results, parameters, theoretical Wq, relative bound)
CASES: dict[str, tuple[Any, dict[str, Any], float, float]] = {
    "M/M/1": (mm1_results, MM1, mm1_wait(0.75, 1.0), 0.08),  # rho / (mu - lam) = 3.0
    "M/M/3": (mm3_results, MM3, mmc_wait(3, 2.25, 1.0), 0.10),  # C(3, a) / (c mu - lam)
}


@pytest.mark.parametrize("case", list(CASES))
def test_mean_wait_in_queue(case: str) -> None:
    results, _, theory, rel = CASES[case]
    assert_matches_theory(station_values(results(), "wait_mean_min"), theory, rel)


@pytest.mark.parametrize("case", list(CASES))
def test_utilisation_is_rho(case: str) -> None:
    results, params, *_ = CASES[case]
    rho = params["lam"] / params["servers"]
    assert_matches_theory(station_values(results(), "utilization"), rho, 0.015)


@pytest.mark.parametrize("case", list(CASES))
def test_mean_queue_length_is_lam_times_wait(case: str) -> None:
    # Lq = lam * Wq in theory ...
    results, params, theory, rel = CASES[case]
    lq = params["lam"] * theory
    assert_matches_theory(station_values(results(), "queue_mean"), lq, rel)


@pytest.mark.parametrize("case", list(CASES))
def test_littles_law_on_each_sample_path(case: str) -> None:
    # ... and on every sample path, up to edge effects at the warm-up and the horizon:
    # time-average queue length = observed start rate x mean wait of those starts.
    results, *_ = CASES[case]
    for result in results():
        st = result.stations["s"]
        span = result.horizon_min - result.warmup_min
        rate = st["started"] / span
        assert st["queue_mean"] == pytest.approx(rate * st["wait_mean_min"], rel=5e-3)


# --------------------------------------------------------------------------- M/D/1
def test_md1_wait() -> None:
    # Deterministic 1-minute service, rho = 0.6: Wq = lam d^2 / (2 (1 - rho)) = 0.75, half the
    # M/M/1 wait at the same load (Pollaczek-Khinchine with zero service variance).
    s = queue_scenario(1, 0.6, 7, 0.25, service={"dist": "deterministic", "value": 1.0})
    results = run(s, 10)
    assert md1_wait(0.6, 1.0) == pytest.approx(0.75)
    assert_matches_theory(station_values(results, "wait_mean_min"), 0.75, 0.08)


# --------------------------------------------------------------------------- M/M/c/K
def test_mmck_blocking_and_wait() -> None:
    # 2 servers, 3 waiting places (K = 5), lam = 2, mu = 1 (a = 2): p_n is proportional to
    # 1, 2, 2, 2, 2, 2 for n = 0..5, so p_K = 2/11 (the lost share, by PASTA);
    # Lq = (1 + 2 + 3) * 2/11 = 12/11 and admitted rate 2 * 9/11, so Wq = 2/3.
    assert mmck_blocking(2, 5, 2.0, 1.0) == pytest.approx(2 / 11)
    assert mmck_wait(2, 5, 2.0, 1.0) == pytest.approx(2 / 3)
    s = queue_scenario(2, 2.0, 4, 0.25, queue_capacity=3)
    results = run(s, 10)
    blocked = [r.stations["s"]["rejected"] / r.stations["s"]["arrived"] for r in results]
    assert_matches_theory(blocked, 2 / 11, 0.09)
    assert_matches_theory(station_values(results, "wait_mean_min"), 2 / 3, 0.04)
    for r in results:
        assert r.lost_by_stream.sum() == r.stations["s"]["rejected"]
        assert r.stations["s"]["queue_max"] == 3.0


# --------------------------------------------------------------------------- priority
def test_two_class_priority_waits_cobham() -> None:
    # Non-preemptive priority, exponential mean-1 service (E[S^2] = 2), lam = 0.2 for fruit
    # (served first) and 0.4 for other: W0 = (0.2 * 2 + 0.4 * 2) / 2 = 0.6,
    # W_fruit = 0.6 / (1 - 0.2) = 0.75, W_other = 0.6 / ((1 - 0.2)(1 - 0.6)) = 1.875.
    # Kleinrock's conservation law: the load-weighted mean wait is the FIFO M/M/1 one,
    # (0.2 * 0.75 + 0.4 * 1.875) / 0.6 = 1.5 = 0.6 / (1 - 0.6).
    doc = queue_doc(
        1,
        0.0,
        8,
        0.25,
        records=True,
        discipline="priority",
        priority={"by": "cargo", "order": ["fruit", "other"]},
    )
    doc["arrivals"] = {"fruit": poisson_stream(0.2, "fruit"), "other": poisson_stream(0.4, "other")}
    results = run(Scenario.model_validate(doc), 10)
    theory = cobham_priority_waits([0.2, 0.4], [1.0, 1.0], [2.0, 2.0])
    assert theory == pytest.approx([0.75, 1.875])
    per_class: dict[str, list[float]] = {"fruit": [], "other": []}
    for result in results:
        cargo = {i: t["cargo"] for i, t in trucks_by_id(result).items()}
        waits: dict[str, list[float]] = {"fruit": [], "other": []}
        for v in visit_rows(result):
            if v["start_min"] >= result.warmup_min:
                waits[cargo[v["truck"]]].append(v["start_min"] - v["arrive_min"])
        for name, sample in waits.items():
            per_class[name].append(float(np.mean(sample)))
    assert_matches_theory(per_class["fruit"], theory[0], 0.08)
    assert_matches_theory(per_class["other"], theory[1], 0.12)
    overall = station_values(results, "wait_mean_min")
    assert_matches_theory(overall, mm1_wait(0.6, 1.0), 0.10)
