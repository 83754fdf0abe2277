"""What there is to name: ``stations SCENARIO`` (a scenario's stations) and ``kpis`` (the KPI
registry and the per-station figures), each with its description, and the one-line answer to a
mistyped command."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

from rich.table import Table

from gatesim.report.tables import print_tables


def unknown_command(word: str, commands: Sequence[str]) -> str:
    """'unknown command 'comapre' (did you mean 'compare'?)', or the list of commands."""
    close = difflib.get_close_matches(word, list(commands), n=1, cutoff=0.6)
    if close:
        return f"unknown command '{word}' (did you mean '{close[0]}'?)"
    return (
        f"unknown command '{word}' (commands: {', '.join(commands)}; a scenario file ends "
        "in .yaml or .yml)"
    )


def stations_table(path: Path) -> Table:
    """The stations of a scenario file: name, side, type, servers and label."""
    from gatesim.model.loading import load_scenario

    scenario = load_scenario(path)
    table = Table(title=f"{scenario.name}: {len(scenario.stations)} stations ({path})")
    for header in ("station", "side", "type", "servers", "label", "vi", "zh"):
        table.add_column(header, justify="right" if header == "servers" else "left")
    for name, spec in scenario.stations.items():
        english = spec.labels.get("en", spec.label)
        row = (name, spec.side, spec.type, str(spec.servers), english)
        table.add_row(*row, spec.labels.get("vi", ""), spec.labels.get("zh", ""))
    table.caption = (
        "hn_: the Huu Nghi - Youyiguan lane (1119-1120), tt_: the Tan Thanh - Po Chai lane "
        "(1088/2-1089); use a name as --set stations.NAME.servers=3 or in a KPI "
        "station.NAME.wait_mean_min"
    )
    return table


def kpi_tables() -> list[Table]:
    """The registered KPI families (name, unit, what they hold), then the figures each station
    reports as ``station.<name>.<figure>``."""
    import gatesim.stats.kpis  # noqa: F401  (registers the built-in families)
    from gatesim.stations.statistics import BASE_STATISTICS, IMPATIENCE_STATISTICS
    from gatesim.stats.registry import registered_kpis

    families = Table(title="KPI families (summary.json 'kpis'; the built-ins always computed)")
    for header in ("family", "unit", "KPIs and meaning"):
        families.add_column(header)
    for name, kpi in registered_kpis().items():
        families.add_row(name, kpi.unit, kpi.doc + ("" if kpi.always else " (when listed)"))
    figures = Table(title="Station figures: KPI station.<name>.<figure>")
    for header in ("figure", "unit", "meaning"):
        figures.add_column(header)
    for metric in (*BASE_STATISTICS, *IMPATIENCE_STATISTICS):
        if metric.kpi:
            figures.add_row(metric.name, metric.unit, metric.doc)
    return [families, figures]


def list_stations(path: Path, fmt: str) -> int:
    print_tables([stations_table(path)], fmt)
    return 0


def list_kpis(fmt: str) -> int:
    print_tables(kpi_tables(), fmt)
    return 0
