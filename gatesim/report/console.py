"""A readable KPI table in the terminal, from the summary document (never simulation objects)."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table

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
    return mean if lo is None or hi is None else f"{mean} [{lo:,.{digits}f}, {hi:,.{digits}f}]"


def print_summary(
    summary: dict[str, Any], wall_seconds: float, console: Console | None = None
) -> None:
    # Piped output (make run, logs) gets a wide table instead of rich's 80-column default.
    console = console or Console(width=None if sys.stdout.isatty() else 140)
    kpis = summary["kpis"]
    console.print(
        f"[bold]{summary['scenario']}[/bold]: {summary['days']} days "
        f"(warm-up {summary['warmup_days']}), {summary['replications']} replication(s), "
        f"seed {summary['seed']}, {wall_seconds:.1f} s"
    )
    console.print(_headline_table(kpis))
    console.print(_breakdown_table(kpis))
    console.print(_station_table(summary["stations"]))
    c = summary["conservation"]
    console.print(
        f"conservation: arrived {c['arrived']} = cleared {c['cleared']} + lost {c['lost']}"
        f" + in system {c['in_system']}"
    )


def _headline_table(kpis: dict[str, Any]) -> Table:
    table = Table(title="KPIs (mean [95% CI] over replications)")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for key, label in HEADLINE_LABELS.items():
        if key in kpis:
            table.add_row(label, format_ci(kpis[key], 2 if key.endswith("_h") else 1))
    return table


def _breakdown_table(kpis: dict[str, Any]) -> Table:
    table = Table(title="By lane and direction")
    for column in (
        "lane",
        "direction",
        "cleared/day",
        "time in system mean (h)",
        "p95 (h)",
        "backlog at report",
    ):
        table.add_column(column, justify="left" if column in ("lane", "direction") else "right")
    for key in sorted(kpis):
        parts = key.split(".", 1)
        if parts[0] != "throughput_per_day" or len(parts) < 2 or parts[1].count(".") != 1:
            continue
        suffix = parts[1]
        if suffix.startswith(("direction.", "cargo.")):
            continue
        lane, direction = suffix.rsplit(".", 1)
        table.add_row(
            lane,
            direction,
            format_ci(kpis[key]),
            format_ci(kpis.get(f"time_in_system_mean_h.{suffix}"), 2),
            format_ci(kpis.get(f"time_in_system_p95_h.{suffix}"), 2),
            format_ci(kpis.get(f"backlog_at_report_mean.{suffix}")),
        )
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
