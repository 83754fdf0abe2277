"""Gate process time: time in system minus the time spent waiting for a closed station to open.

A truck that arrives at 22:00 and clears at 09:00 the next morning has 11 h in the system; if
it waited 9 h of that at a closed yard, its process time is 2 h. Opening hours are a bilateral
decision, the gate's processes are each side's own: reporting the two apart says which one a
long time in system comes from. Exact per truck (see :mod:`gatesim.stations.opening_wait`).

KPIs (hours, same breakdowns as time in system): ``gate_process_time_{mean,p50,p90,p95,max}_h``
and ``waiting_for_opening_{mean,p95}_h``, each with ``.<lane>``, ``.<lane>.<direction>``,
``.direction.<d>`` and ``.cargo.<c>`` suffixes.
"""

from __future__ import annotations

import math

import numpy as np

from gatesim.core.results import FloatArray, RunResult

__all__ = ["process_time_kpis"]

QUANTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95}


def process_time_kpis(result: RunResult, groups: dict[str, list[int]]) -> dict[str, float]:
    """Process-time and waiting-for-opening KPIs over the time-in-system samples, by group
    (suffix -> stream indices, '' = all trucks)."""
    closed = result.waiting_for_opening_min
    process = (result.time_in_system_min - closed) / 60.0
    waiting = closed / 60.0
    row: dict[str, float] = {}
    for key, ix in groups.items():
        inside = np.isin(result.time_in_system_stream, ix) if key else slice(None)
        row.update(_stats("gate_process_time", key, process[inside], QUANTILES))
        row.update(_stats("waiting_for_opening", key, waiting[inside], {"p95": 0.95}))
    return row


def _stats(
    prefix: str, key: str, sample: FloatArray, quantiles: dict[str, float]
) -> dict[str, float]:
    names = ("mean", *quantiles, "max") if len(quantiles) > 1 else ("mean", *quantiles)
    if sample.size == 0:
        return {f"{prefix}_{stat}_h{key}": math.nan for stat in names}
    values = {"mean": float(sample.mean())}
    values.update({name: float(np.quantile(sample, q)) for name, q in quantiles.items()})
    if "max" in names:
        values["max"] = float(sample.max())
    return {f"{prefix}_{stat}_h{key}": value for stat, value in values.items()}
