"""Truck arrivals: non-homogeneous Poisson by hourly profile × daily volume, a renewal
stream (``interarrival``, :mod:`gatesim.model.renewal`), or a replayed trace.

The daily volume is scaled day by day by the demand calendar (growth to the planning year,
seasons and weekday factors by date, ``gatesim.scenario.demand``) and the stream's multipliers.

The rate is piecewise constant per clock hour (model time), so the exact method is used: the
count in each hour is Poisson with that hour's mean and the times are uniform within the hour
(order-statistics property). Short, intense windows are sampled exactly, never skipped.
Channels are drawn from the same stream, after the times, so a stream's trucks (times and
channels) are identical in every scenario that shares its definition (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from gatesim.model.renewal import renewal_times
from gatesim.scenario.demand import day_factors
from gatesim.scenario.schema import ArrivalSpec, Scenario

MINUTES_PER_HOUR = 60.0


@dataclass(frozen=True)
class StreamArrivals:
    """Arrival times (sorted, minutes) and channel indices of one stream over the horizon."""

    times: npt.NDArray[np.float64]
    channels: npt.NDArray[np.int64]
    channel_names: tuple[str, ...]
    #: attribute name -> (value names, value index per truck)
    attributes: dict[str, tuple[tuple[str, ...], npt.NDArray[np.int64]]] = field(
        default_factory=dict
    )


def hourly_means(scenario: Scenario, arrival: ArrivalSpec) -> npt.NDArray[np.float64]:
    """Expected arrivals in each clock hour of the horizon, shape (days * 24,)."""
    weights = np.asarray(scenario.profile_weights(arrival.profile), dtype=float)
    total = weights.sum()
    if total <= 0 or arrival.per_day == 0:
        return np.zeros(scenario.days * 24)
    per_hour = arrival.per_day * scenario.demand_scale * weights / total
    day_factor = day_factors(scenario, arrival)  # growth x seasons x weekdays, by date
    for multiplier in arrival.multipliers:
        day_factor[multiplier.from_day : multiplier.to_day] *= multiplier.factor
    return np.outer(day_factor, per_hour).ravel()


def generate(
    scenario: Scenario,
    arrival: ArrivalSpec,
    rng: np.random.Generator,
    attribute_rng: Callable[[str], np.random.Generator] | None = None,
) -> StreamArrivals:
    """All arrivals of one stream within [0, horizon).

    Extra attributes draw from their own streams (``attribute_rng(name)``), so declaring one
    never changes the times or channels of the trucks.
    """
    if arrival.trace is not None:
        times = np.sort(np.asarray(arrival.trace.times, dtype=float))
        times = times[times < scenario.horizon_min]
    elif arrival.interarrival is not None:
        times = renewal_times(scenario, arrival, rng)
    else:
        times = _nhpp_times(hourly_means(scenario, arrival), rng)
    names = tuple(arrival.channels)
    channels = _categorical(rng, arrival.channels, len(times))
    attributes = {}
    for name, shares in arrival.attributes.items():
        attr_rng = attribute_rng(name) if attribute_rng else rng
        attributes[name] = (tuple(shares), _categorical(attr_rng, shares, len(times)))
    return StreamArrivals(
        times=times, channels=channels, channel_names=names, attributes=attributes
    )


def _categorical(
    rng: np.random.Generator, shares: dict[str, float], n: int
) -> npt.NDArray[np.int64]:
    probabilities = np.asarray(list(shares.values()), dtype=float)
    return rng.choice(len(shares), size=n, p=probabilities / probabilities.sum())


def _nhpp_times(
    means: npt.NDArray[np.float64], rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    counts = rng.poisson(means)
    starts = np.repeat(np.arange(len(means)) * MINUTES_PER_HOUR, counts)
    times = starts + rng.random(len(starts)) * MINUTES_PER_HOUR
    return np.sort(times)
