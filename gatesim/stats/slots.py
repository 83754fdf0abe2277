"""KPIs of booked arrival slots, and the peak hour of arrivals that slots are meant to smooth.

``slot_kpis`` (built in; nothing without ``slots:``) reports, over the measured period, for
all booked flows together and by ``.<lane>.<direction>``: how full the slots were, how many
trucks came early, on time, late or not at all, how many rolled to a later day, how long the
booking put them off, and how many bookings lie past the horizon. ``peak_hour_arrivals``
(listed in ``kpis:``, any scenario) is the busiest clock hour's arrivals, averaged over the
measured days, so a scenario with slots can be compared with one without.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gatesim.core.results import SLOT_COUNTS, RunResult
from gatesim.stats.groups import stream_groups

__all__ = ["peak_hour_arrivals", "slot_kpis"]

_COLUMN = {name: i for i, name in enumerate(SLOT_COUNTS)}
_PER_DAY = ("booked", "early", "on_time", "late", "no_show", "rolled")
MINUTES_PER_DAY = 1440.0


def slot_kpis(result: RunResult) -> dict[str, float]:
    """slot_utilization, slot_{booked,early,on_time,late,no_show,rolled}_per_day,
    slot_booking_delay_{mean,p95}_h, slot_pending_end: all booked flows and by lane and
    direction (nothing without slot plans)."""
    plans = result.meta.get("slots")
    if not plans:
        return {}
    groups = _booked_groups(result, plans)
    row: dict[str, float] = {}
    counts = result.slot_counts_by_stream
    days = result.measured_days
    for key, (streams, capacity) in groups.items():
        booked = float(counts[streams, _COLUMN["booked"]].sum())
        row[f"slot_utilization{key}"] = booked / capacity if capacity > 0 else math.nan
        for name in _PER_DAY:
            row[f"slot_{name}_per_day{key}"] = float(counts[streams, _COLUMN[name]].sum()) / days
        hours = result.slot_delay_min[np.isin(result.slot_delay_stream, streams)] / 60.0
        row[f"slot_booking_delay_mean_h{key}"] = float(hours.mean()) if hours.size else math.nan
        row[f"slot_booking_delay_p95_h{key}"] = (
            float(np.quantile(hours, 0.95)) if hours.size else math.nan
        )
        row[f"slot_pending_end{key}"] = float(counts[streams, _COLUMN["pending"]].sum())
    return row


def _booked_groups(
    result: RunResult, plans: dict[str, dict[str, Any]]
) -> dict[str, tuple[list[int], int]]:
    """'' (every booked flow) and '.<lane>.<direction>' of each plan: stream indices and the
    capacity of the measured slots."""
    by_flow = stream_groups(result, by_cargo=False)
    groups: dict[str, tuple[list[int], int]] = {"": ([], 0)}
    for plan in plans.values():
        key = f".{plan['lane']}.{plan['direction']}"
        capacity = int(plan["capacity"])
        groups[key] = (by_flow[key], capacity)
        everything, total = groups[""]
        groups[""] = (everything + by_flow[key], total + capacity)
    return groups


def peak_hour_arrivals(result: RunResult) -> dict[str, float]:
    """Most trucks arriving in one clock hour of a day, averaged over the measured days
    (whole days starting at or after the warm-up): all streams, by lane and by lane and
    direction."""
    first_day = math.ceil(result.warmup_min / MINUTES_PER_DAY - 1e-12)
    hourly = result.arrived_by_hour_stream[first_day * 24 : result.days * 24]
    row: dict[str, float] = {}
    for key, streams in stream_groups(result, by_cargo=False).items():
        if key.startswith(".direction."):
            continue
        per_hour = hourly[:, streams].sum(axis=1).reshape(-1, 24)
        row[f"peak_hour_arrivals{key}"] = (
            float(per_hour.max(axis=1).mean()) if per_hour.size else math.nan
        )
    return row
