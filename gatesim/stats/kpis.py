"""The built-in KPI families over one replication's result: flat ``{name: value}`` rows.

Each family is a registered KPI (:mod:`gatesim.stats.registry`, ``always=True``); the order of
registration below is the column order of every output. Breakdowns use dotted suffixes:
``throughput_per_day.1119-1120.export``, ``throughput_per_day.cargo.fruit``,
``time_in_system_p95_h.1088/2-1089.import``. Times in system are in hours, station waits in
minutes, throughput in trucks per day.
"""

from __future__ import annotations

import math

import numpy as np

from gatesim.core.results import FloatArray, RunResult
from gatesim.stations.registry import resolve_station_type
from gatesim.stations.statistics import (
    BASE_STATISTICS,
    BLOCKING_STATISTICS,
    IMPATIENCE_STATISTICS,
    declared_metrics,
    transships,
)
from gatesim.stats.groups import stream_groups
from gatesim.stats.impatience import impatience_kpis
from gatesim.stats.platform_kpis import platform_kpis
from gatesim.stats.process_time import process_time_kpis
from gatesim.stats.registry import KpiFunction, compute_kpis, register_kpi
from gatesim.stats.sides import side_kpis
from gatesim.stats.slots import peak_hour_arrivals, slot_kpis

#: The headline KPIs every summary carries, in display order.
HEADLINE = (
    "throughput_per_day",
    "time_in_system_mean_h",
    "time_in_system_p95_h",
    "backlog_end",
    "backlog_at_report_mean",
)
QUANTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95}


def replication_kpis(result: RunResult) -> dict[str, float]:
    """Every KPI of one replication (after the warm-up), as a flat mapping: the built-in
    families, then the registered KPIs the scenario lists (``kpis:``, via ``result.meta``)."""
    return compute_kpis(result, result.meta.get("kpis", ()))


def _throughput(result: RunResult) -> dict[str, float]:
    """Cleared and offered per measured day, and the share of the offered that cleared
    (below 1 when trucks are lost or the backlog grows; above 1 when a warm-up backlog clears)."""
    days = result.measured_days
    cleared = result.cleared_after_warmup_by_stream
    offered = result.arrived_after_warmup_by_stream
    row: dict[str, float] = {}
    for key, ix in stream_groups(result).items():
        out, came = float(cleared[ix].sum()), float(offered[ix].sum())
        row[f"throughput_per_day{key}"] = out / days
        row[f"offered_per_day{key}"] = came / days
        row[f"cleared_share{key}"] = out / came if came > 0 else math.nan
    return row


def growth_slope(daily: FloatArray) -> float:
    """Least-squares slope (per day) of a daily series; NaN with fewer than 3 days."""
    if daily.size < 3:
        return math.nan
    days = np.arange(daily.size, dtype=float)
    return float(np.polyfit(days, daily.astype(float), 1)[0])


def _time_in_system(result: RunResult) -> dict[str, float]:
    row: dict[str, float] = {}
    hours = result.time_in_system_min / 60.0
    for key, ix in stream_groups(result).items():
        sample = hours[np.isin(result.time_in_system_stream, ix)] if key else hours
        row.update(_distribution_kpis("time_in_system", key, sample))
    return row


def _distribution_kpis(prefix: str, key: str, sample: FloatArray) -> dict[str, float]:
    if sample.size == 0:
        values = dict.fromkeys(("mean", *QUANTILES, "max"), math.nan)
    else:
        values = {"mean": float(sample.mean()), "max": float(sample.max())}
        values.update({name: float(np.quantile(sample, q)) for name, q in QUANTILES.items()})
    return {f"{prefix}_{stat}_h{key}": value for stat, value in values.items()}


def _backlog(result: RunResult) -> dict[str, float]:
    first_day = math.ceil(result.warmup_min / 1440.0)
    at_report = result.backlog_at_report[first_day:]
    row = {
        "backlog_end": float(result.in_system_by_stream.sum()),
        "arrived": float(result.arrived_by_stream.sum()),
        "cleared": float(result.cleared_by_stream.sum()),
        "lost": float(result.lost_by_stream.sum()),
    }
    for key, ix in stream_groups(result).items():
        daily = at_report[:, ix].sum(axis=1) if len(at_report) else np.zeros(1)
        row[f"backlog_at_report_mean{key}"] = float(daily.mean())
        row[f"backlog_at_report_max{key}"] = float(daily.max())
        # The trend of the report-time backlog over the measured days: the saturation test
        # (gatesim.stats.saturation) and the capacity ramp judge its interval across
        # replications.
        row[f"backlog_growth_per_day{key}"] = growth_slope(daily) if len(at_report) else math.nan
    return row


#: The base statistics by name: the declaration says which are KPIs. A type's
#: ``extra_metrics`` figures are KPIs unless its ``metrics`` declares them otherwise.
_BASE = {m.name: m for m in (*BASE_STATISTICS, *IMPATIENCE_STATISTICS, *BLOCKING_STATISTICS)}


def _station_kpis(result: RunResult) -> dict[str, float]:
    """``station.<name>.<figure>`` for every KPI figure of every station's row, then the
    gate-wide figures station types declare (``gate="max"``: the maximum over stations)."""
    row: dict[str, float] = {}
    gate: dict[str, list[float]] = {}
    for name, stats in result.stations.items():
        declared = declared_metrics(resolve_station_type(result.station_types[name]))
        for key, value in stats.items():
            metric = _BASE.get(key) or declared.get(key)
            if metric is None or metric.kpi:
                row[f"station.{name}.{key}"] = value
            if metric is not None and key not in _BASE and metric.gate == "max":
                gate.setdefault(key, []).append(value)
    row.update({key: max(values) for key, values in gate.items()})
    return row


def _cost_kpis(result: RunResult) -> dict[str, float]:
    """Queued truck-hours, idle fuel and CO2, transshipment cost, per measured day."""
    costs = result.meta.get("costs")
    if not costs:
        return {}
    days = result.measured_days
    queued_h = sum(st["wait_mean_min"] * st["started"] for st in result.stations.values()) / 60.0
    transshipped = sum(
        st["started"]
        for name, st in result.stations.items()
        if transships(resolve_station_type(result.station_types[name]))
    )
    fuel_l = queued_h * costs["idling_share"] * costs["idle_fuel_l_per_truck_h"]
    return {
        "truck_hours_queued_per_day": queued_h / days,
        "idle_fuel_l_per_day": fuel_l / days,
        "co2_t_per_day": fuel_l * costs["co2_kg_per_l"] / 1000.0 / days,
        "transshipment_cny_per_day": transshipped * costs["transshipment_cny_per_truck"] / days,
    }


def _trade_value_kpis(result: RunResult) -> dict[str, float]:
    """Value of the goods cleared per measured day, and value × hours in system per day
    (million USD and million USD-hours), from ``trade_value.per_truck`` by cargo class."""
    trade = result.meta.get("trade_value")
    if not trade:
        return {}
    days = result.measured_days
    value = np.asarray(
        [trade["per_truck"].get(info.cargo, 0.0) for info in result.streams], dtype=float
    )
    cleared = result.cleared_after_warmup_by_stream * value
    delayed = np.zeros(len(result.streams))
    np.add.at(delayed, result.time_in_system_stream, result.time_in_system_min / 60.0)
    delayed *= value
    row: dict[str, float] = {}
    for key, ix in stream_groups(result).items():
        row[f"value_cleared_musd_per_day{key}"] = float(cleared[ix].sum()) / 1e6 / days
    for key, ix in stream_groups(result).items():
        row[f"value_delayed_musd_h_per_day{key}"] = float(delayed[ix].sum()) / 1e6 / days
    return row


def _season_kpis(result: RunResult) -> dict[str, float]:
    """Time in system of trucks that arrived in each named season, and the season's throughput
    (cleared on measured season days / measured season days). NaN without measured days."""
    seasons = result.meta.get("seasons") or {}
    row: dict[str, float] = {}
    created = result.time_in_system_created_min
    hours = result.time_in_system_min / 60.0
    by_day = result.cleared_by_day_stream
    for name, intervals in seasons.items():
        inside = np.zeros(created.size, dtype=bool)
        days: list[int] = []
        for start, end in intervals:
            inside |= (created >= start) & (created < end)
            days.extend(range(round(start / 1440.0), round(end / 1440.0)))
        row.update(_distribution_kpis("time_in_system", f".season.{name}", hours[inside]))
        cleared = float(by_day[days].sum()) if days else 0.0
        row[f"throughput_per_day.season.{name}"] = cleared / len(days) if days else math.nan
    return row


def _process_time(result: RunResult) -> dict[str, float]:
    return process_time_kpis(result, stream_groups(result))


#: The built-in families in output order (registration order is column order): name, function,
#: unit, and what it yields.
BUILT_IN: tuple[tuple[str, KpiFunction, str, str], ...] = (
    (
        "throughput",
        _throughput,
        "trucks/day; share",
        "throughput_per_day, offered_per_day, cleared_share: cleared and offered per measured "
        "day, and the share cleared",
    ),
    (
        "time_in_system",
        _time_in_system,
        "h",
        "time_in_system_{mean,p50,p90,p95,max}_h of the trucks that arrived after the warm-up",
    ),
    (
        "process_time",
        _process_time,
        "h",
        "gate_process_time_*_h, waiting_for_opening_*_h: time in system apart from, and spent, "
        "waiting for a closed station (gatesim.stats.process_time)",
    ),
    (
        "backlog",
        _backlog,
        "trucks; trucks/day",
        "backlog_end, arrived, cleared, lost, backlog_at_report_{mean,max}, "
        "backlog_growth_per_day (the saturation test's input, gatesim.stats.saturation)",
    ),
    (
        "sides",
        side_kpis,
        "trucks; trucks/day; h; share",
        "VN-side backlog, trucks away from home, empty returns (gatesim.stats.sides)",
    ),
    (
        "stations",
        _station_kpis,
        "as declared",
        "station.<name>.<figure>: the KPI figures of each station's row "
        "(gatesim.stations.statistics), with class_statistics: also "
        "{wait_mean_min,queue_mean}.<cargo|channel|priority>.<class> "
        "(gatesim.stations.class_statistics), then gate-wide maxima such as spillback_km_max",
    ),
    (
        "costs",
        _cost_kpis,
        "per day",
        "truck_hours_queued_per_day, idle_fuel_l_per_day, co2_t_per_day, transshipment_cny_per_day",
    ),
    (
        "trade_value",
        _trade_value_kpis,
        "million USD/day",
        "value_cleared_musd_per_day, value_delayed_musd_h_per_day (scenarios with trade_value:)",
    ),
    (
        "seasons",
        _season_kpis,
        "h; trucks/day",
        "time in system and throughput of each named season (.season.<name>)",
    ),
    (
        "impatience",
        impatience_kpis,
        "trucks/day; million USD/day; min",
        "reneged_per_day, balked_per_day, value_{reneged,balked}_musd_per_day, "
        "wait_{served,reneged}_mean_min (stations with patience or balk_at only; "
        "gatesim.stats.impatience)",
    ),
    (
        "platform",
        platform_kpis,
        "trucks/day; h; trucks; million USD/day; km",
        "deferred_per_day, deferral_added_delay_mean_h, diverted_per_day(.to.<gate>), "
        "value_diverted_musd_per_day, registered/unregistered 20:00 backlog, staging-yard "
        "occupancy by hour (scenarios with platform:; gatesim.stats.platform_kpis)",
    ),
    (
        "slots",
        slot_kpis,
        "share; trucks/day; h; trucks",
        "slot_utilization, slot_*_per_day, slot_booking_delay_{mean,p95}_h, slot_pending_end "
        "(scenarios with slots:; gatesim.stats.slots)",
    ),
)


def _register_built_ins() -> None:
    for name, fn, unit, doc in BUILT_IN:
        register_kpi(name, fn, unit, doc, always=True)
    register_kpi("peak_hour_arrivals", peak_hour_arrivals, "trucks/h")  # listed in kpis:


_register_built_ins()
