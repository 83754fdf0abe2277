"""KPIs of the digital border-gate platform: deferral, diversion, registration, staging yards.

Nothing is yielded for a scenario without ``platform:`` (its outputs keep their columns).
Breakdowns use the usual suffixes (``.<lane>``, ``.<lane>.<direction>``, ``.direction.<d>``,
``.cargo.<c>``), over the streams a platform manages only (the overall figure too), and only
for groups holding such a stream; per measured day means events at or after the warm-up ÷
measured days.

* ``deferred_per_day``: deferral decisions (a truck deferred twice counts twice);
  ``deferral_added_delay_mean_h``: from a deferred truck's first arrival to its joining the
  platform, over the trucks that joined after the warm-up; ``deferred_owed_at_report_mean``
  and ``deferred_owed_end``: trucks waiting at origin (demand still owed).
* ``diverted_per_day``, ``diverted_per_day.to.<gate>`` (then the suffix), and with
  ``trade_value:`` ``value_diverted_musd_per_day``.
* ``platform_held_at_report_mean``: trucks in the platform's yards (or on its road) at report
  time; ``vn_side_backlog_at_report_unregistered_mean``: of the Vietnamese-side backlog at
  report time, the trucks not yet registered; ``..._registered_mean``: the rest.
* ``staging_occupancy_{mean,max}.<platform>.<yard>`` (``approach_road`` for the spill-back),
  ``staging_occupancy_by_hour.<platform>.<yard>.hHH`` (time-weighted mean in each clock hour),
  ``staging_spillback_km_{mean,max}.<platform>``.
"""

from __future__ import annotations

import math

import numpy as np

from gatesim.core.results import (
    PLATFORM_AT_REPORT,
    PLATFORM_COUNTS,
    IntArray,
    PlatformResult,
    RunResult,
)
from gatesim.stats.groups import stream_groups

__all__ = ["platform_kpis"]


def platform_kpis(result: RunResult) -> dict[str, float]:
    """The platform's KPIs of one replication ({} without a platform)."""
    platform = result.platform
    if platform is None:
        return {}
    groups = _managed_groups(result, platform)
    row = _deferral(result, platform, groups)
    row.update(_diversion(result, platform, groups))
    row.update(_registration(result, platform, groups))
    row.update(_yards(platform))
    return row


def _managed_groups(result: RunResult, platform: PlatformResult) -> dict[str, list[int]]:
    """The breakdown groups, each cut to its managed streams (groups without one left out)."""
    managed = set(platform.managed)
    groups = {}
    for key, ix in stream_groups(result).items():
        kept = [k for k in ix if k in managed]
        if kept:
            groups[key] = kept
    return groups


def _deferral(
    result: RunResult, platform: PlatformResult, groups: dict[str, list[int]]
) -> dict[str, float]:
    days, counts = result.measured_days, platform.by_stream
    deferrals = counts[:, PLATFORM_COUNTS.index("deferrals_measured")]
    rejoined = counts[:, PLATFORM_COUNTS.index("joined_after_deferral_measured")]
    owed = counts[:, PLATFORM_COUNTS.index("owed")]
    at_report = _measured(result, platform.at_report[:, :, PLATFORM_AT_REPORT.index("owed")])
    row: dict[str, float] = {}
    for key, ix in groups.items():
        row[f"deferred_per_day{key}"] = float(deferrals[ix].sum()) / days
        joined = float(rejoined[ix].sum())
        delay = math.fsum(platform.added_delay_sum_min[ix].tolist())
        row[f"deferral_added_delay_mean_h{key}"] = delay / joined / 60.0 if joined else math.nan
        row[f"deferred_owed_at_report_mean{key}"] = float(at_report[:, ix].sum(axis=1).mean())
        row[f"deferred_owed_end{key}"] = float(owed[ix].sum())
    return row


def _diversion(
    result: RunResult, platform: PlatformResult, groups: dict[str, list[int]]
) -> dict[str, float]:
    days, diverted = result.measured_days, platform.diverted_measured
    trade = result.meta.get("trade_value")
    value = np.asarray(
        [trade["per_truck"].get(info.cargo, 0.0) if trade else 0.0 for info in result.streams]
    )
    row: dict[str, float] = {}
    for key, ix in groups.items():
        row[f"diverted_per_day{key}"] = float(diverted[ix].sum()) / days
        for d, gate in enumerate(platform.destinations):
            row[f"diverted_per_day.to.{gate}{key}"] = float(diverted[ix, d].sum()) / days
        if trade:
            by_stream = diverted[ix].sum(axis=1) * value[ix]
            row[f"value_diverted_musd_per_day{key}"] = float(by_stream.sum()) / 1e6 / days
    return row


def _registration(
    result: RunResult, platform: PlatformResult, groups: dict[str, list[int]]
) -> dict[str, float]:
    held = _measured(result, platform.at_report[:, :, PLATFORM_AT_REPORT.index("held")])
    unregistered = _measured(
        result, platform.at_report[:, :, PLATFORM_AT_REPORT.index("unregistered_vn")]
    )
    vn_side = _measured(result, result.vn_side_at_report)
    row: dict[str, float] = {}
    for key, ix in groups.items():
        row[f"platform_held_at_report_mean{key}"] = float(held[:, ix].sum(axis=1).mean())
        unreg = unregistered[:, ix].sum(axis=1)
        row[f"vn_side_backlog_at_report_unregistered_mean{key}"] = float(unreg.mean())
        registered = vn_side[:, ix].sum(axis=1) - unreg
        row[f"vn_side_backlog_at_report_registered_mean{key}"] = float(registered.mean())
    return row


def _yards(platform: PlatformResult) -> dict[str, float]:
    row: dict[str, float] = {}
    for place, figures in platform.yards.items():
        row[f"staging_occupancy_mean.{place}"] = figures["mean"]
        row[f"staging_occupancy_max.{place}"] = figures["max"]
        if "km_max" in figures:
            name = place.rsplit(".", 1)[0]
            row[f"staging_spillback_km_mean.{name}"] = figures["km_mean"]
            row[f"staging_spillback_km_max.{name}"] = figures["km_max"]
    for place, figures in platform.yards.items():
        for hour in range(24):
            row[f"staging_occupancy_by_hour.{place}.h{hour:02d}"] = figures[f"h{hour:02d}"]
    return row


def _measured(result: RunResult, by_day: IntArray) -> IntArray:
    """The measured days of a (days, streams) report-time array (one zero day if none)."""
    first_day = math.ceil(result.warmup_min / 1440.0)
    rows = by_day[first_day:]
    return rows if len(rows) else np.zeros((1, by_day.shape[1]), dtype=by_day.dtype)
