"""Queues over time: the hourly snapshots of every replication as one table.

Each replication observes, at the top of every hour of the run (minute 0, 60, 120, ... from
midnight of the first day, Vietnamese time), how many trucks wait in each station's queue,
how many are at the station (waiting, in service or held) and, for staging yards, how long
the queue on the approach road is (km). These are the values *at* the hour, not means over
it: streaming counters the model keeps anyway, so the table costs nothing with or without
``--records``. Across replications each value gets its mean and a 95 % Student-t interval
(NaN with one replication) whose lower end is cut at 0, as none of these can be negative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from gatesim.core.columns import Column
from gatesim.stats.intervals import t_quantile

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["QUEUE_SERIES", "queue_columns", "queues_over_time"]

#: The snapshot series, in column order (``spillback_km``: staging yards only, else NaN).
QUEUE_SERIES = ("waiting", "at_station", "spillback_km")


def queues_over_time(
    hourly: Sequence[Mapping[str, Mapping[str, Any]]],
    stations: Sequence[str],
    days: int,
    warmup_min: float,
) -> pd.DataFrame:
    """:func:`queue_columns` as a table."""
    import pandas as pd

    return pd.DataFrame(queue_columns(hourly, stations, days, warmup_min))


def queue_columns(
    hourly: Sequence[Mapping[str, Mapping[str, Any]]],
    stations: Sequence[str],
    days: int,
    warmup_min: float,
) -> dict[str, Column]:
    """One row per station and hour of the run: ``station, day, hour, hour_of_run,
    measured`` (the hour starts at or after the warm-up), then ``<series>_mean``, ``_lo``,
    ``_hi`` for each of :data:`QUEUE_SERIES` over the replications in ``hourly`` (one
    :attr:`ReplicationOutcome.hourly_queues` each), as typed columns."""
    hours = days * 24
    hour_of_run = np.tile(np.arange(hours, dtype=np.int64), len(stations))
    table: dict[str, Column] = {
        "station": np.repeat(np.asarray(stations, dtype=object), hours),
        "day": hour_of_run // 24,
        "hour": hour_of_run % 24,
        "hour_of_run": hour_of_run,
        "measured": hour_of_run * 60.0 >= warmup_min,
    }
    for series in QUEUE_SERIES:
        values = np.stack([_series(h.get(series, {}), stations, hours) for h in hourly])
        mean, lo, hi = _t_bounds(values)
        table.update({f"{series}_mean": mean, f"{series}_lo": lo, f"{series}_hi": hi})
    return table


def _series(
    by_station: Mapping[str, Any], stations: Sequence[str], hours: int
) -> npt.NDArray[np.float64]:
    """One replication's snapshots, stations after one another (NaN where not observed)."""
    out = np.full((len(stations), hours), np.nan)
    for row, name in enumerate(stations):
        if name in by_station:
            out[row] = np.asarray(by_station[name], dtype=np.float64).reshape(-1)[:hours]
    return out.reshape(-1)


def _t_bounds(
    values: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Mean and 95 % t-interval over axis 0 (the replications), as t_interval computes them,
    the lower end cut at 0 (the series are non-negative)."""
    count = values.shape[0]
    mean = values.mean(axis=0)
    if count < 2:
        nan = np.full_like(mean, np.nan)
        return mean, nan, nan.copy()
    half = t_quantile(0.95, count - 1) * values.std(axis=0, ddof=1) / np.sqrt(count)
    return mean, np.maximum(mean - half, 0.0), mean + half
