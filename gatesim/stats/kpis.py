"""Named KPI functions over one replication's result: flat ``{name: value}`` rows.

Breakdowns use dotted suffixes: ``throughput_per_day.1119-1120.export``,
``throughput_per_day.cargo.fruit``, ``time_in_system_p95_h.1088/2-1089.import``.
Times in system are in hours, station waits in minutes, throughput in trucks per day.
"""

from __future__ import annotations

import math

import numpy as np

from gatesim.core.results import FloatArray, RunResult
from gatesim.stats.groups import stream_groups
from gatesim.stats.process_time import process_time_kpis
from gatesim.stats.sides import side_kpis

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
    """Every KPI of one replication (after the warm-up), as a flat mapping."""
    row: dict[str, float] = {}
    row.update(_throughput(result))
    row.update(_time_in_system(result))
    row.update(process_time_kpis(result, stream_groups(result)))
    row.update(_backlog(result))
    row.update(side_kpis(result))  # VN-side backlog, empty returns (gatesim.stats.sides)
    row.update(_station_kpis(result))
    row.update(_cost_kpis(result))
    row.update(_trade_value_kpis(result))
    row.update(_season_kpis(result))
    return row


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


STATION_KPIS = ("utilization", "wait_mean_min", "queue_mean", "queue_max", "blocking_share")
#: Statistics every station reports; anything else came from a type's ``extra_metrics`` and is
#: promoted to a KPI (so it gets intervals and paired differences like the standard four).
BASE_STATISTICS = frozenset(
    (
        "servers",
        "arrived",
        "served",
        "rejected",
        "waiting_end",
        "in_service_end",
        "in_hold_end",
        "departed",
        "utilization",
        "busy_mean",
        "wait_mean_min",
        "wait_max_min",
        "started",
        "queue_mean",
        "queue_max",
        "open_hours",
        "littles_law_gap",
    )
)


def _station_kpis(result: RunResult) -> dict[str, float]:
    row: dict[str, float] = {}
    for name, stats in result.stations.items():
        for key, value in stats.items():
            if key in STATION_KPIS or key not in BASE_STATISTICS:
                row[f"station.{name}.{key}"] = value
    spill = [v for k, v in row.items() if k.endswith(".spillback_km_max")]
    if spill:
        row["spillback_km_max"] = max(spill)
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
        if result.station_types.get(name) == "transshipment"
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
