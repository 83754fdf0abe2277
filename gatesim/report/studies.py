"""Terminal tables for compare and sweep (from their documents, never simulation objects)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from gatesim.report.console import HEADLINE_LABELS, format_ci
from gatesim.stats.kpis import HEADLINE


def _digits(kpi: str) -> int:
    return 2 if kpi.endswith("_h") else 1


def comparison_table(document: list[dict[str, Any]]) -> Table:
    first = document[0]["scenario"]
    table = Table(title=f"Headline KPIs (mean [95% CI]); differences vs {first}, paired by seed")
    for column in ("KPI", "scenario", "value", "paired diff vs first", "Welch CI (unpaired)"):
        table.add_column(column, justify="left" if column in ("KPI", "scenario") else "right")
    for kpi in HEADLINE:
        for i, entry in enumerate(document):
            if kpi not in entry["kpis"]:
                continue
            diff = entry.get("diff_vs_first", {}).get(kpi)
            welch = entry.get("diff_vs_first_unpaired", {}).get(kpi)
            table.add_row(
                HEADLINE_LABELS.get(kpi, kpi) if i == 0 else "",
                entry["folder"],
                format_ci(entry["kpis"][kpi], _digits(kpi)),
                format_ci(diff, _digits(kpi)) if diff else "",
                _ci_only(welch, _digits(kpi)),
                end_section=i == len(document) - 1,
            )
    return table


def _ci_only(stat: dict[str, Any] | None, digits: int) -> str:
    if not stat or None in stat["ci95"]:
        return ""
    lo, hi = stat["ci95"]
    return f"[{lo:,.{digits}f}, {hi:,.{digits}f}]"


def sweep_table(table: pd.DataFrame, parameters: Sequence[str]) -> Table:
    shown = ("throughput_per_day", "time_in_system_mean_h", "backlog_at_report_mean")
    out = Table(title="Sweep (mean [95% CI] over replications)")
    for column in ("point", *parameters, *(HEADLINE_LABELS[k] for k in shown)):
        out.add_column(str(column), justify="right")
    for row in table.to_dict("records"):
        cells = [str(row["point"]), *(str(row[p]) for p in parameters)]
        for kpi in shown:
            stat = {"mean": row[f"{kpi}_mean"], "ci95": [row[f"{kpi}_lo"], row[f"{kpi}_hi"]]}
            cells.append(format_ci(_none_for_nan(stat), _digits(kpi)))
        out.add_row(*cells)
    return out


def _none_for_nan(stat: dict[str, Any]) -> dict[str, Any]:
    def clean(x: Any) -> Any:
        return None if x is None or x != x else x

    return {"mean": clean(stat["mean"]), "ci95": [clean(v) for v in stat["ci95"]]}


def design_lines(summary: dict[str, Any]) -> list[str]:
    """One line each for an automatic warm-up and an automatic replication count."""
    lines = []
    warmup = summary.get("warmup", {})
    if warmup.get("method") == "mser5" and "note" in warmup:
        lines.append(f"warm-up: {warmup['days']:g} days ({warmup['note']})")
    elif warmup.get("method") == "mser5":
        limit = " (at the search limit: consider more days)" if warmup["at_search_limit"] else ""
        lines.append(
            f"warm-up: MSER-5 on daily cleared trucks chose {warmup['days']:g} days "
            f"(this scenario alone: {warmup['mser5_days']:g}){limit}"
        )
    control = summary.get("replication_control")
    if control:
        achieved = control["achieved_rel"]
        shown = "undefined" if achieved is None else f"{achieved:.2%}"
        verdict = "cap reached before the target" if control["cap_hit"] else "target reached"
        lines.append(
            f"replications: {summary['replications']} ({control['target_kpi']} relative "
            f"half-width {shown}, target {control['target_rel']:.2%}; {verdict})"
        )
    return lines


def print_lines(lines: Sequence[str], console: Console | None = None) -> None:
    console = console or Console()
    for line in lines:
        console.print(line, highlight=False)
