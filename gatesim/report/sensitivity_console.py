"""The sensitivity ranking in the terminal, from ``sensitivity.json`` (never simulation objects)."""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

CONSOLE_ROWS = 12  # factors per KPI on screen; every factor is in sensitivity.csv
OTHERS = "other assumptions"


def _number(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}g}"


def _with_ci(value: Any, ci: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f} ± {ci:.{digits}f}" if ci is not None else f"{value:.{digits}f}"


def ranking_rows(document: Mapping[str, Any], kpi: str) -> list[dict[str, Any]]:
    """One KPI's factors merged across stages, most influential first (ST, then μ*)."""
    sobol = {r["factor"]: r for r in document.get("sobol") or [] if r["kpi"] == kpi}
    rows = [{**r, **sobol.get(r["factor"], {})} for r in document["morris"] if r["kpi"] == kpi]
    rows.sort(key=_influence)
    if OTHERS in sobol:
        rows.append({"factor": OTHERS, **sobol[OTHERS]})
    return rows


def _influence(row: Mapping[str, Any]) -> tuple[float, float]:
    total = row.get("ST")
    return (-(float(total) if total is not None else -1.0), -float(row["mu_star"]))


def ranking_table(document: Mapping[str, Any], kpi: str) -> Table:
    rows = ranking_rows(document, kpi)
    table = Table(title=f"{kpi}: most influential assumptions first", title_justify="left")
    for column in ("assumption", "μ* ± CI", "σ", "S1 ± CI", "ST ± CI"):
        table.add_column(column, justify="left" if column == "assumption" else "right")
    shown = [r for r in rows if r["factor"] != OTHERS][:CONSOLE_ROWS]
    shown += [r for r in rows if r["factor"] == OTHERS]
    for r in shown:
        table.add_row(
            r["factor"],
            f"{_number(r.get('mu_star'))} ± {_number(r.get('mu_star_ci'), 2)}"
            if "mu_star" in r
            else "-",
            _number(r.get("sigma")),
            _with_ci(r.get("S1"), r.get("S1_ci")),
            _with_ci(r.get("ST"), r.get("ST_ci")),
        )
    hidden = len(rows) - len(shown)
    if hidden:
        table.caption = f"{hidden} more in sensitivity.csv"
    return table


def print_sensitivity(document: Mapping[str, Any], console: Console | None = None) -> None:
    """The ranking table and the reading of every analysed KPI."""
    console = console or Console(width=None if sys.stdout.isatty() else 140)
    design = document["design"]
    console.print(
        f"[bold]{document['scenario']}[/bold]: {len(document['factors'])} uncertain values, "
        f"{design.get('replications_per_point', '-')} replication(s) per design point, "
        f"{design.get('tasks_run', 0)} runs ({design.get('tasks_reused', 0)} reused), "
        f"{_number(design.get('wall_seconds'))} s"
    )
    for kpi in document["kpis"]:
        console.print(ranking_table(document, kpi))
        console.print(Text(document["reading"][kpi]), soft_wrap=False)
