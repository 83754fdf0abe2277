"""KPIs of impatient trucks (:mod:`gatesim.stations.impatience`): trucks that reneged or balked
per measured day, the trade value they took with them, and the mean wait of served and reneged
trucks at the stations with patience.

A run whose stations have neither patience nor balking yields no columns, so the outputs of
scenarios without them are unchanged. Counts are of the trucks that left at or after the
warm-up; breakdowns are the usual suffixes (``.<lane>``, ``.<lane>.<direction>``,
``.direction.<d>``, ``.cargo.<c>``).
"""

from __future__ import annotations

import numpy as np

from gatesim.core.results import RunResult
from gatesim.stats.groups import stream_groups

__all__ = ["impatience_kpis"]


def impatience_kpis(result: RunResult) -> dict[str, float]:
    """``reneged_per_day``, ``balked_per_day`` (by lane and direction), their trade value
    (``value_reneged_musd_per_day``, ``value_balked_musd_per_day``, with ``trade_value:``),
    and ``wait_served_mean_min`` / ``wait_reneged_mean_min`` over the stations with patience."""
    impatient = [row for row in result.stations.values() if "reneged" in row]
    if not impatient:
        return {}
    days = result.measured_days
    reneged = result.reneged_after_warmup_by_stream.astype(float)
    balked = result.balked_after_warmup_by_stream.astype(float)
    groups = stream_groups(result)
    row: dict[str, float] = {}
    for key, ix in groups.items():
        row[f"reneged_per_day{key}"] = float(reneged[ix].sum()) / days
        row[f"balked_per_day{key}"] = float(balked[ix].sum()) / days
    trade = result.meta.get("trade_value")
    if trade:
        value = np.asarray([trade["per_truck"].get(s.cargo, 0.0) for s in result.streams])
        for name, counts in (("reneged", reneged), ("balked", balked)):
            musd = counts * value / 1e6
            for key, ix in groups.items():
                row[f"value_{name}_musd_per_day{key}"] = float(musd[ix].sum()) / days
    row.update(_waits([r for r in impatient if r["reneged_measured"] or r["started"]]))
    return row


def _waits(stations: list[dict[str, float]]) -> dict[str, float]:
    """Mean wait before service of the trucks served, and before leaving of those that reneged,
    pooled over the given station rows (each weighted by its trucks); NaN without trucks."""
    started = sum(r["started"] for r in stations)
    left = sum(r["reneged_measured"] for r in stations)
    served_sum = sum(r["wait_mean_min"] * r["started"] for r in stations)
    reneged_sum = sum(r["wait_reneged_mean_min"] * r["reneged_measured"] for r in stations)
    return {
        "wait_served_mean_min": served_sum / started if started else float("nan"),
        "wait_reneged_mean_min": reneged_sum / left if left else float("nan"),
    }
