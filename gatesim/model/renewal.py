"""Renewal arrivals: gaps between trucks drawn from any distribution, time-scaled by demand.

A stream with ``interarrival: {dist: ...}`` is a renewal process in *operational time*: gap
``X_n`` between trucks n-1 and n, so truck n arrives at operational time ``S_n = X_1 + … + X_n``
(the first truck one gap after time 0; an ordinary, not an equilibrium, renewal process).
The clock runs faster where demand is higher: the rate multiplier of clock hour h is

    m(h) = demand_scale × day factor (growth × seasons × weekdays × multipliers) × 24 w_h / Σw

(``w``: the stream's hourly profile, flat by default), the same factors that scale a
``per_day`` stream. Truck n arrives at the clock time t with Λ(t) = S_n, where
Λ(t) = ∫₀ᵗ m(s) ds. With every factor 1, t = S_n: the gaps are exactly the distribution's, so
D/M/1, E_k/M/1 and G/G/c are expressed directly; with factors the mean number of arrivals in
an hour is m(h)·60 / E[X], as for a Poisson stream of the same daily volume. Hours with
m(h) = 0 get no trucks (their operational time has length 0).

Gaps are drawn from the stream's own random stream in blocks, so the arrivals of a stream are
the same in every scenario that shares its definition (common random numbers).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from gatesim.core.distributions import Distribution
from gatesim.scenario.demand import day_factors
from gatesim.scenario.schema import ArrivalSpec, Scenario

__all__ = ["expected_renewal_trucks", "hourly_rate_multipliers", "renewal_times"]

MINUTES_PER_HOUR = 60.0
#: Extra gaps drawn per block beyond the expected need (a block rarely falls short).
BLOCK_MARGIN = 1.1
MIN_BLOCK = 64


def hourly_rate_multipliers(scenario: Scenario, arrival: ArrivalSpec) -> npt.NDArray[np.float64]:
    """m(h) for every clock hour of the horizon, shape (days * 24,)."""
    weights = np.asarray(scenario.profile_weights(arrival.profile), dtype=float)
    total = weights.sum()
    if total <= 0:
        return np.zeros(scenario.days * 24)
    day_factor = day_factors(scenario, arrival)
    for multiplier in arrival.multipliers:
        day_factor[multiplier.from_day : multiplier.to_day] *= multiplier.factor
    return np.outer(day_factor, scenario.demand_scale * 24.0 * weights / total).ravel()


def expected_renewal_trucks(scenario: Scenario, arrival: ArrivalSpec) -> float:
    """Λ(horizon) / E[X]: the long-run count of trucks over the horizon."""
    assert arrival.interarrival is not None
    operational = float(hourly_rate_multipliers(scenario, arrival).sum()) * MINUTES_PER_HOUR
    return operational / arrival.interarrival.mean


def renewal_times(
    scenario: Scenario, arrival: ArrivalSpec, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Clock times (minutes, sorted) of the stream's trucks within [0, horizon)."""
    assert arrival.interarrival is not None
    rates = hourly_rate_multipliers(scenario, arrival)
    cumulative = np.concatenate(([0.0], np.cumsum(rates * MINUTES_PER_HOUR)))
    operational = _operational_times(arrival.interarrival, float(cumulative[-1]), rng)
    return _clock_times(operational, rates, cumulative)


def _operational_times(
    gap: Distribution, end: float, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Partial sums S_n of gaps drawn in blocks, those below ``end``."""
    sums: list[npt.NDArray[np.float64]] = []
    reached = 0.0
    while reached < end:
        block = max(int((end - reached) / gap.mean * BLOCK_MARGIN), MIN_BLOCK)
        partial = reached + np.cumsum(gap.sample_many(rng, block))
        sums.append(partial)
        reached = float(partial[-1])
    times = np.concatenate(sums) if sums else np.zeros(0)
    return times[times < end]


def _clock_times(
    operational: npt.NDArray[np.float64],
    rates: npt.NDArray[np.float64],
    cumulative: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """t = Λ⁻¹(S): the hour whose operational interval holds S (side='right' skips the
    zero-length intervals of hours with m = 0), then linearly within it."""
    hour = np.searchsorted(cumulative, operational, side="right") - 1
    hour = np.minimum(hour, len(rates) - 1)
    offset = (operational - cumulative[hour]) / rates[hour]
    return np.minimum(hour * MINUTES_PER_HOUR + offset, (hour + 1) * MINUTES_PER_HOUR)
