"""KPIs by side of the border and of empty returns (like-for-like with the reported counts).

* ``vn_side_backlog_at_report_{mean,max}``: loaded trucks at report time whose station (or the
  station they drive to) is on the Vietnamese side: exports not yet past the VN exit, imports
  entered but not released. The reported 20:00 backlogs count these [s 99]; the whole-network
  ``backlog_at_report_*`` also counts trucks in China.
* ``empties_per_day``: empty return trips that reached home per measured day, by the lane and
  direction of the delivery that caused them; ``empty_time_in_system_mean_h``: delivery to
  home, parking included; ``empties_forced_out_share``: dwell cut short by the exit rule (or,
  waiting for a backhaul load, none came in time); ``empties_avoided_per_day``: empty trips a
  backhaul saved (the waiting truck's, and that of the truck the load would have needed).
* ``away_at_report_mean``: trucks of a stream on the far side of the border from where they
  started, loaded or empty (for exports: Vietnamese trucks in China, row 37's scope);
  ``empties_parked_at_report_mean``: empties parked in the far-side yard.

Empties are never in ``throughput_per_day`` or the time in system of loaded trucks.
"""

from __future__ import annotations

import math

import numpy as np

from gatesim.core.results import IntArray, RunResult
from gatesim.model.returns import EMPTY_AT_REPORT, EMPTY_COUNTS
from gatesim.stats.groups import stream_groups


def _daily(at_report: IntArray, ix: list[int]) -> IntArray:
    """Per measured day, the sum over streams ``ix`` (one zero day when none is measured)."""
    return at_report[:, ix].sum(axis=1) if len(at_report) else np.zeros(1, dtype=np.int64)


def side_kpis(result: RunResult) -> dict[str, float]:
    """The side-of-border and empty-return KPIs of one replication (after the warm-up)."""
    first_day = math.ceil(result.warmup_min / 1440.0)
    vn_side = result.vn_side_at_report[first_day:]
    loaded = result.backlog_at_report[first_day:]
    empties = result.empty_at_report[first_day:]
    inside, on_vn, parked = (empties[:, :, EMPTY_AT_REPORT.index(c)] for c in EMPTY_AT_REPORT)
    export = np.array([info.direction == "export" for info in result.streams])
    # Away from home: an export's home is Vietnam, an import's China.
    loaded_away = np.where(export, loaded - vn_side, vn_side)
    empty_away = np.where(export, inside - on_vn, on_vn)
    counts = result.empty_by_stream
    column = EMPTY_COUNTS.index
    row: dict[str, float] = {}
    for key, ix in stream_groups(result, by_cargo=False).items():
        daily = _daily(vn_side, ix)
        row[f"vn_side_backlog_at_report_mean{key}"] = float(daily.mean())
        row[f"vn_side_backlog_at_report_max{key}"] = float(daily.max())
        row[f"away_at_report_mean{key}"] = float(
            (_daily(loaded_away, ix) + _daily(empty_away, ix)).mean()
        )
        row[f"empties_parked_at_report_mean{key}"] = float(_daily(parked, ix).mean())
        home = float(counts[ix, column("cleared_measured")].sum())
        row[f"empties_per_day{key}"] = home / result.measured_days
        timed = float(counts[ix, column("timed")].sum())
        total_min = math.fsum(result.empty_tis_sum_min[ix].tolist())
        row[f"empty_time_in_system_mean_h{key}"] = total_min / timed / 60 if timed else math.nan
        created = float(counts[ix, column("created")].sum())
        forced = float(counts[ix, column("forced_out")].sum())
        row[f"empties_forced_out_share{key}"] = forced / created if created else math.nan
        avoided = float(counts[ix, column("avoided_measured")].sum())
        row[f"empties_avoided_per_day{key}"] = avoided / result.measured_days
    return row
