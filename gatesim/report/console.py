"""A readable KPI table in the terminal, from the summary document (never simulation objects)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from gatesim.report.intervals import BOUNDED_MARK, BOUNDED_NOTE, bounded_kpis, was_bounded
from gatesim.report.platform import platform_keys
from gatesim.report.saturation import (
    GROWS_NOTE,
    grows_with_run_length,
    saturated_groups,
    warning_messages,
)
from gatesim.report.slots import slot_table
from gatesim.report.tables import Printable, print_tables

HEADLINE_LABELS = {
    "throughput_per_day": "Trucks cleared per day",
    "time_in_system_mean_h": "Time in system, mean (h)",
    "time_in_system_p95_h": "Time in system, p95 (h)",
    "backlog_at_report_mean": "Backlog at report time, mean (trucks)",
    "backlog_end": "Trucks in system at the end",
    "spillback_km_max": "Spill-back on approach road, max (km)",
}


def format_ci(stat: dict[str, Any] | None, digits: int = 1) -> str:
    """'812.3 [798.1, 826.5]', or the mean alone when the interval is undefined."""
    if not stat or stat.get("mean") is None:
        return "-"
    lo, hi = stat["ci95"]
    mean = f"{stat['mean']:,.{digits}f}"
    if lo is None or hi is None:
        return mean
    mark = BOUNDED_MARK if was_bounded(stat) else ""
    return f"{mean} [{lo:,.{digits}f}, {hi:,.{digits}f}]{mark}"


def format_percent(stat: dict[str, Any] | None, digits: int = 1) -> str:
    """A share (0-1) as percent: '72.3 [68.0, 76.7]'."""
    if not stat or stat.get("mean") is None:
        return "-"
    ci = [None if v is None else 100 * v for v in stat.get("ci95") or [None, None]]
    return format_ci({**stat, "mean": 100 * stat["mean"], "ci95": ci}, digits)


#: The mark on time-in-system cells of saturated lanes; the table caption explains it.
GROWS_MARK = " †"
GROWS_CAPTION = f"† {GROWS_NOTE} (saturated lane)"


def print_summary(
    summary: dict[str, Any],
    wall_seconds: float,
    console: Console | None = None,
    fmt: str = "table",
) -> None:
    """The run's console: its tables and lines, to ``console`` (aligned text) or in ``fmt``
    (``table``, ``md`` or ``csv``; a pipe gets tables as wide as they need, never cut)."""
    items = summary_items(summary, wall_seconds)
    if console is None:
        print_tables(items, fmt)
        return
    for item in items:
        console.print(Text(item) if isinstance(item, str) else item, soft_wrap=True)


def summary_items(summary: dict[str, Any], wall_seconds: float) -> list[Printable]:
    """The run console's tables and lines of text, in order (intervals bound-respecting)."""
    kpis = bounded_kpis(summary["kpis"])
    saturated = saturated_groups(summary)
    items: list[Printable] = [
        f"{summary['scenario']}: {summary['days']} days (warm-up {summary['warmup_days']}), "
        f"{summary['replications']} replication(s), seed {summary['seed']}, {wall_seconds:.1f} s",
        _headline_table(kpis, saturated),
    ]
    # Two breakdown tables: one would not fit 140 columns with every interval.
    suffixes = lane_direction_suffixes(kpis)
    items += [_flow_table(kpis, suffixes), _time_table(kpis, suffixes, saturated)]
    items.append(_station_table(summary["stations"]))
    platform = platform_keys(kpis)
    optional = [
        _platform_table(kpis, platform) if platform else None,
        slot_table(kpis, format_ci, format_percent),
        extra_kpi_table(summary) if summary.get("extra_kpis") else None,
        impatience_table(kpis, suffixes),
    ]
    items += [table for table in optional if table is not None]
    items.append(_conservation_line(summary["conservation"]))
    if any(was_bounded(stat) for stat in kpis.values() if isinstance(stat, dict)):
        items.append(BOUNDED_NOTE)
    items += [f"warning: {message}" for message in warning_messages(summary)]
    return items


def _conservation_line(c: dict[str, Any]) -> str:
    left = "".join(f" + {key} {c[key]}" for key in ("reneged", "balked") if c.get(key))
    responded = "".join(
        f" + {label} {c[key]}"
        for key, label in (("diverted", "diverted"), ("deferred_owed", "owed at origin"))
        if key in c
    )
    return (
        f"conservation: arrived {c['arrived']} = cleared {c['cleared']} + lost {c['lost']}"
        f"{left} + in system {c['in_system']}{responded}"
    )


#: The impatient-truck KPIs (gatesim.stats.impatience) by lane and direction, with labels.
IMPATIENCE_COLUMNS = {
    "reneged_per_day": "reneged/day",
    "balked_per_day": "balked/day",
    "value_reneged_musd_per_day": "value reneged (M USD/day)",
    "value_balked_musd_per_day": "value balked (M USD/day)",
}


def impatience_table(kpis: dict[str, Any], suffixes: list[str]) -> Table | None:
    """Trucks that reneged or balked, by lane and direction, and the mean waits of served and
    reneged trucks at stations with patience; None when no truck did either."""
    if not any((kpis.get(key) or {}).get("mean") for key in IMPATIENCE_COLUMNS):
        return None
    served = format_ci(kpis.get("wait_served_mean_min"))
    reneged = format_ci(kpis.get("wait_reneged_mean_min"))
    table = Table(
        title="Impatient trucks (mean [95% CI])",
        caption=f"mean wait at stations with patience: served {served} min, reneged {reneged} min",
    )
    columns = [key for key in IMPATIENCE_COLUMNS if key in kpis]
    for column in ("lane", "direction", *(IMPATIENCE_COLUMNS[key] for key in columns)):
        table.add_column(column, justify="left" if column in ("lane", "direction") else "right")
    for suffix in suffixes:
        cells = [
            format_ci(kpis.get(f"{key}.{suffix}"), 2 if "musd" in key else 1) for key in columns
        ]
        table.add_row(*suffix.rsplit(".", 1), *cells)
    return table


def _time_in_system(kpis: dict[str, Any], key: str, saturated: list[str]) -> str:
    """A time-in-system cell, marked when it grows with the run length."""
    text = format_ci(kpis.get(key), 2)
    return text + GROWS_MARK if grows_with_run_length(key, saturated) else text


def _headline_table(kpis: dict[str, Any], saturated: list[str]) -> Table:
    table = Table(
        title="KPIs (mean [95% CI] over replications)",
        caption=GROWS_CAPTION if saturated else None,
    )
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for key, label in HEADLINE_LABELS.items():
        if key in kpis:
            value = (
                _time_in_system(kpis, key, saturated)
                if key.endswith("_h")
                else format_ci(kpis[key], 1)
            )
            table.add_row(label, value)
    return table


def extra_kpi_table(summary: dict[str, Any]) -> Table:
    """The KPIs the scenario listed (``kpis:``), each key with its unit."""
    table = Table(title="Extra KPIs of the scenario (mean [95% CI] over replications)")
    for column in ("KPI", "unit", "value"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for name, entry in summary["extra_kpis"].items():
        for key in entry.get("keys") or [name]:
            table.add_row(key, entry.get("unit", ""), format_ci(summary["kpis"].get(key), 3))
    return table


def lane_direction_suffixes(kpis: dict[str, Any]) -> list[str]:
    """The ``<lane>.<direction>`` breakdown suffixes of a summary's KPIs, sorted."""
    suffixes = []
    for key in kpis:
        base, _, suffix = key.partition(".")
        if base != "throughput_per_day" or suffix.count(".") != 1:
            continue
        if not suffix.startswith(("direction.", "cargo.", "season.")):
            suffixes.append(suffix)
    return sorted(suffixes)


def _flow_table(kpis: dict[str, Any], suffixes: list[str]) -> Table:
    """Offered against cleared per lane and direction: a cleared share below 100 % with a
    growing backlog is a lane short of capacity."""
    table = Table(title="By lane and direction: offered against cleared (mean [95% CI])")
    columns = ("lane", "direction", "offered/day", "cleared/day", "cleared share (%)")
    for column in (*columns, "backlog growth/day"):
        table.add_column(column, justify="left" if column in ("lane", "direction") else "right")
    for suffix in suffixes:
        table.add_row(
            *suffix.rsplit(".", 1),
            format_ci(kpis.get(f"offered_per_day.{suffix}")),
            format_ci(kpis.get(f"throughput_per_day.{suffix}")),
            format_percent(kpis.get(f"cleared_share.{suffix}")),
            format_ci(kpis.get(f"backlog_growth_per_day.{suffix}")),
        )
    return table


def _time_table(kpis: dict[str, Any], suffixes: list[str], saturated: list[str]) -> Table:
    table = Table(
        title="By lane and direction: time in system (mean [95% CI])",
        caption=GROWS_CAPTION if saturated else None,
    )
    columns = ("lane", "direction", "time in system mean (h)", "p95 (h)", "backlog at report")
    for column in columns:
        table.add_column(column, justify="left" if column in ("lane", "direction") else "right")
    for suffix in suffixes:
        table.add_row(
            *suffix.rsplit(".", 1),
            _time_in_system(kpis, f"time_in_system_mean_h.{suffix}", saturated),
            _time_in_system(kpis, f"time_in_system_p95_h.{suffix}", saturated),
            format_ci(kpis.get(f"backlog_at_report_mean.{suffix}")),
        )
    return table


def _platform_table(kpis: dict[str, Any], keys: list[str]) -> Table:
    """The digital platform's KPIs: deferral, diversion, registration, staging yards."""
    title = "Digital platform: deferral, diversion, registration, yards (mean [95% CI])"
    table = Table(title=title)
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for key in keys:
        table.add_row(key, format_ci(kpis.get(key), 2 if "_h" in key or "musd" in key else 1))
    return table


def _station_table(stations: dict[str, dict[str, float]]) -> Table:
    table = Table(title="Stations (means over replications)")
    for column in (
        "station",
        "servers",
        "utilisation",
        "wait mean (min)",
        "queue mean",
        "queue max",
    ):
        table.add_column(column, justify="left" if column == "station" else "right")
    for name, row in stations.items():
        table.add_row(
            name,
            f"{row['servers']:.0f}",
            f"{row['utilization']:.1%}",
            f"{row['wait_mean_min']:.1f}",
            f"{row['queue_mean']:.1f}",
            f"{row['queue_max']:.0f}",
        )
    return table
