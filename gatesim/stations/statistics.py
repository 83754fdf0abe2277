"""What a station's statistics row holds, declared once: name, unit, meaning, KPI or not.

``BASE_STATISTICS`` is the row every station reports (``Station.statistics``), in row order;
a station whose trucks may renege or balk adds ``IMPATIENCE_STATISTICS`` after it, and every
station of a scenario with a ``when_full: block`` station adds ``BLOCKING_STATISTICS``.
A figure marked ``kpi`` also becomes a column ``station.<name>.<figure>`` of the KPI table
(intervals in ``summary.json``, paired differences in ``compare``); the others are the
conservation ledger and diagnostics, in ``stations.csv`` and ``summary.json["stations"]`` only.
docs/extending.md's table of the base row is checked against this declaration by the tests.

A station type declares its own ``extra_metrics`` figures in the class attribute ``metrics``
(a tuple of :class:`Metric`); a figure it does not declare is a KPI with no unit. A declared
figure with ``gate="max"`` is also a gate-wide KPI of the same name: the maximum over the
stations that report it (the staging yard's ``spillback_km_max``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BASE_STATISTICS",
    "BLOCKING_STATISTICS",
    "IMPATIENCE_STATISTICS",
    "Metric",
    "declared_metrics",
    "transships",
    "with_extra_metrics",
]


@dataclass(frozen=True)
class Metric:
    """One figure of a station's statistics row."""

    name: str
    unit: str
    doc: str
    #: True: a KPI column ``station.<name>.<figure>``; False: the row only (ledger, diagnostic).
    kpi: bool = True
    #: "max": also the gate-wide KPI ``<figure>``, the maximum over the stations reporting it.
    gate: Literal["", "max"] = ""


BASE_STATISTICS: tuple[Metric, ...] = (
    Metric("servers", "servers", "servers of the station", kpi=False),
    Metric("arrived", "trucks", "trucks that arrived, whole run (ledger)", kpi=False),
    Metric("served", "trucks", "services completed, whole run (ledger)", kpi=False),
    Metric("rejected", "trucks", "trucks turned away by `admit`, whole run (ledger)", kpi=False),
    Metric("arrived_measured", "trucks", "trucks that arrived after the warm-up"),
    Metric("blocking_share", "share", "share of the trucks arrived after the warm-up turned away"),
    Metric("waiting_end", "trucks", "trucks waiting at the end (ledger)", kpi=False),
    Metric("in_service_end", "trucks", "trucks in service at the end (ledger)", kpi=False),
    Metric("in_hold_end", "trucks", "trucks held after service at the end (ledger)", kpi=False),
    Metric("departed", "trucks", "trucks handed on, whole run (ledger)", kpi=False),
    Metric("utilization", "share", "busy server time in opening hours / server opening time"),
    Metric("overtime_hours", "h", "busy server hours outside opening hours"),
    Metric("busy_mean", "servers", "time-average busy servers", kpi=False),
    Metric("wait_mean_min", "min", "mean wait before service of the trucks started"),
    Metric("wait_max_min", "min", "longest wait before service", kpi=False),
    Metric("started", "trucks", "services started after the warm-up", kpi=False),
    Metric("queue_mean", "trucks", "time-average trucks waiting"),
    Metric("queue_max", "trucks", "most trucks waiting at once"),
    Metric("open_hours", "h", "opening hours after the warm-up", kpi=False),
    Metric("littles_law_gap", "share", "relative gap between L and λW (a check)", kpi=False),
)
#: Added after the base row of a station with ``patience``/``patience_by_cargo``/``balk_at``
#: (:mod:`gatesim.stations.impatience`); other stations' rows do not have them.
IMPATIENCE_STATISTICS: tuple[Metric, ...] = (
    Metric("reneged", "trucks", "trucks that left the queue impatient, whole run (ledger)", False),
    Metric("balked", "trucks", "trucks that would not join the queue, whole run (ledger)", False),
    Metric("reneged_per_day", "trucks/day", "trucks that reneged after the warm-up, per day"),
    Metric("balked_per_day", "trucks/day", "trucks that balked after the warm-up, per day"),
    Metric("reneged_share", "share", "share of the trucks arrived after the warm-up that reneged"),
    Metric("balked_share", "share", "share of the trucks arrived after the warm-up that balked"),
    Metric("wait_reneged_mean_min", "min", "mean wait of the trucks that reneged (their patience)"),
    Metric("reneged_measured", "trucks", "trucks that reneged after the warm-up", kpi=False),
)
#: Added after those of every station in a scenario with a ``when_full: block`` station
#: (:mod:`gatesim.stations.blocking`); ``approach_*`` only at the blocking stations.
BLOCKING_STATISTICS: tuple[Metric, ...] = (
    Metric("blocked_share", "share", "time-average share of the servers holding a blocked truck"),
    Metric("blocked_end", "trucks", "trucks blocked on a server at the end (ledger)", kpi=False),
    Metric("approach_mean", "trucks", "time-average trucks held back on the approach road"),
    Metric("approach_end", "trucks", "trucks on the approach road at the end", kpi=False),
)
_BASE_NAMES = tuple(m.name for m in BASE_STATISTICS)
_IMPATIENT_NAMES = tuple(m.name for m in IMPATIENCE_STATISTICS)
_BLOCKED_NAMES = tuple(m.name for m in BLOCKING_STATISTICS[:2])
_APPROACH_NAMES = tuple(m.name for m in BLOCKING_STATISTICS[2:])
_ROWS = {
    _BASE_NAMES + impatient + blocked
    for impatient in ((), _IMPATIENT_NAMES)
    for blocked in ((), _BLOCKED_NAMES, _BLOCKED_NAMES + _APPROACH_NAMES)
}


def with_extra_metrics(
    row: Mapping[str, float], extra: Mapping[str, float], type_name: str
) -> dict[str, float]:
    """The base ``row`` in declared order, then the type's ``extra`` figures. The base row must
    hold exactly the declared figures (the declaration cannot drift from the code), and an extra
    figure may not reuse a base name."""
    if tuple(row) not in _ROWS:
        raise RuntimeError(f"station row {list(row)} differs from BASE_STATISTICS {_BASE_NAMES}")
    clash = sorted(set(extra) & set(row))
    if clash:
        raise ValueError(f"{type_name}.extra_metrics overrides base statistics {clash}")
    return {**row, **extra}


def declared_metrics(station_type: type) -> dict[str, Metric]:
    """The ``extra_metrics`` figures a station type declares in its ``metrics`` attribute."""
    return {m.name: m for m in getattr(station_type, "metrics", ())}


def transships(station_type: type) -> bool:
    """True when every truck served by this type is unloaded and reloaded (its ``transships``
    attribute): the cost KPIs charge ``costs.transshipment_cny_per_truck`` per truck started."""
    return bool(getattr(station_type, "transships", False))
