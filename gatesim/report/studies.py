"""Terminal tables of the studies: compare, sweep, plan and capacity (from their documents,
never simulation objects)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from gatesim.report.console import HEADLINE_LABELS, format_ci, lane_direction_suffixes
from gatesim.report.intervals import BOUNDED_NOTE, bounded_kpis, was_bounded
from gatesim.report.tables import print_tables
from gatesim.stats.kpis import HEADLINE

if TYPE_CHECKING:  # the run prints design_lines: it imports no pandas
    import pandas as pd


def _digits(kpi: str) -> int:
    return 2 if kpi.endswith("_h") else 1


def comparison_table(document: list[dict[str, Any]], grouped: bool = True) -> Table:
    """Headline KPIs; ``grouped`` names each KPI once (on its first row), for the eye; without
    it on every row, for Markdown and CSV."""
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
                HEADLINE_LABELS.get(kpi, kpi) if i == 0 or not grouped else "",
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


def signed_ci(stat: Mapping[str, Any] | None, digits: int = 1) -> str:
    """A difference with its sign: '+3.1 [+1.2, +5.0]' (the mean alone without bounds)."""
    if not stat or stat.get("mean") is None:
        return "-"
    form = f"+,.{digits}f"
    lo, hi = stat["ci95"]
    mean = format(stat["mean"], form)
    return mean if lo is None or hi is None else f"{mean} [{format(lo, form)}, {format(hi, form)}]"


#: The lane table's KPIs: (key prefix, column label, digits).
LANE_KPIS = (
    ("throughput_per_day", "cleared/day", 1),
    ("time_in_system_mean_h", "time in system mean (h)", 2),
    ("time_in_system_p95_h", "p95 (h)", 2),
)


def lane_comparison_table(document: Sequence[Mapping[str, Any]]) -> Table:
    """Per lane and direction, each scenario's cleared trucks per day, capacity (when
    measured), mean and p95 time in system, each with its paired difference against the first
    scenario (mean [95% CI] of member - first over common replications)."""
    first = document[0]["folder"]
    table = Table(title=f"By lane and direction (mean [95% CI]); Δ: paired difference vs {first}")
    measured = "capacity" in document[0]
    columns = ["lane", "direction", "scenario", "cleared/day", "Δ cleared/day"]
    if measured:
        columns += ["capacity/day", "Δ capacity/day"]
    for _, label, _ in LANE_KPIS[1:]:
        columns += [label, f"Δ {label}"]
    for column in columns:
        table.add_column(column, justify="left" if column in columns[:3] else "right")
    suffixes = sorted({s for entry in document for s in lane_direction_suffixes(entry["kpis"])})
    for suffix in suffixes:
        for i, entry in enumerate(document):
            table.add_row(
                *suffix.rsplit(".", 1),
                entry["folder"],
                *_lane_cells(entry, suffix, measured),
                end_section=i == len(document) - 1,
            )
    return table


def _lane_cells(entry: Mapping[str, Any], suffix: str, measured: bool) -> list[str]:
    diffs = entry.get("diff_vs_first")
    cells = []
    for key, _, digits in LANE_KPIS:
        name = f"{key}.{suffix}"
        cells += [format_ci(entry["kpis"].get(name), digits)]
        cells += [signed_ci(diffs.get(name), digits) if diffs is not None else ""]
        if measured and key == "throughput_per_day":
            capacity = entry["capacity"].get(suffix)
            diff = entry.get("capacity_diff_vs_first", {}).get(suffix)
            cells += [capacity_cell(capacity), _ci(diff, signed=True) if diffs is not None else ""]
    return cells


def print_comparison(
    document: list[dict[str, Any]], summary: dict[str, Any], fmt: str = "table"
) -> None:
    """The compare console: headline KPIs and the lanes with paired differences, the
    capacities when measured, how members differ if compared unpaired, and how the design
    chose the warm-up and replications (``summary``: any member's summary.json, they share
    the design); in ``fmt`` (``table``, ``md`` or ``csv``)."""
    # Levels shown bound-respecting (gatesim.report.intervals); differences as computed.
    document = [{**entry, "kpis": bounded_kpis(entry["kpis"])} for entry in document]
    headline = comparison_table(document, grouped=fmt == "table")
    items: list[Table | str] = [headline, lane_comparison_table(document)]
    if "capacity" in document[0]:
        names = [entry["folder"] for entry in document]
        items.append(capacity_comparison_table(names, document))
    unpaired = [line for entry in document for line in entry.get("unpaired", [])]
    items += [f"warning: unpaired: {line}" for line in unpaired]
    items += design_lines(summary)
    if any(was_bounded(stat) for entry in document for stat in entry["kpis"].values()):
        items.append(BOUNDED_NOTE)
    print_tables(items, fmt)


def print_sweep(table: pd.DataFrame, parameters: Sequence[str], fmt: str = "table") -> None:
    print_tables([sweep_table(table, parameters)], fmt)


# --------------------------------------------------------------------------- plan
def plan_table(document: dict[str, Any]) -> Table:
    paths = [d["path"] for d in document["dimensions"]]
    table = Table(
        title=f"Capacity search: {' and '.join(document['targets'])}",
        caption="target cells: mean [lower, upper], each a one-sided 95 % bound of the mean "
        "(a target holds when its bound is on the right side), not a two-sided CI",
    )
    for column in ("#", *paths, "cost", "reps", *document["targets"], "verdict"):
        table.add_column(column, justify="right")
    reported = (document["chosen"] or document["best"])["order"]
    for point in document["points"]:
        cells = [str(point["order"]), *(str(point["values"][p]) for p in paths)]
        cells += [f"{point['cost']:g}", str(point["replications"])]
        cells += [
            f"{fmt_number(t['mean'])} [{fmt_number(t['low'])}, {fmt_number(t['high'])}]"
            for t in point["targets"]
        ]
        verdict = point["verdict"] + (" (as fails)" if point["treated_as_failing"] else "")
        style = "bold green" if point["order"] == reported and document["found"] else None
        table.add_row(*cells, verdict, style=style)
    return table


def print_plan(
    document: dict[str, Any], console: Console | None = None, fmt: str = "table"
) -> None:
    """The plan's table and its summary lines, to ``console`` or in ``fmt``."""
    if console is None:
        print_tables([plan_table(document), *summary_lines(document)], fmt)
        return
    console.print(plan_table(document))
    for line in summary_lines(document):
        console.print(line, highlight=False)


# --------------------------------------------------------------------------- capacity
Stat = dict[str, Any]


def _ci(s: Stat | None, signed: bool = False) -> str:
    """'812 [798, 826]' (with signs for a difference), or the mean alone without bounds."""
    if not s or s.get("mean") is None:
        return "-"
    form = "+,.0f" if signed else ",.0f"
    lo, hi = s["ci95"]
    mean = format(s["mean"], form)
    if lo is None or hi is None:
        return mean
    return f"{mean} [{format(lo, form)}, {format(hi, form)}]"


def capacity_table(document: Mapping[str, Any]) -> Table:
    table = Table(title=f"Capacity of {document['scenario']} (trucks/day, mean [95% CI])")
    for column in (
        "lane",
        "direction",
        "offered",
        "saturated entry",
        "demand ramp",
        "agree",
        "load",
        "binding",
    ):
        table.add_column(column, justify="right" if column in ("offered", "load") else "left")
    for flow in document["flows"]:
        ratio = flow["load_ratio"]
        agree = {True: "yes", False: "NO", None: "-"}[flow["agree"]]
        table.add_row(
            flow["lane"],
            flow["direction"],
            f"{flow['offered_per_day']:,.0f}",
            _ci(flow["saturated"]),
            _ci(flow["ramp"]),
            agree,
            "-" if ratio is None else f"{ratio:.0%}",
            ", ".join(_binding_label(b) for b in flow["binding"]),
        )
    gate = document["gate"]
    table.add_row(
        "gate",
        "both",
        f"{gate['offered_per_day']:,.0f}",
        _ci(gate.get("saturated")),
        _ci(gate.get("ramp")),
        "",
        "",
        "",
    )
    return table


def _binding_label(station: Mapping[str, Any]) -> str:
    capped = station.get("capped_days") or 0
    extra = f", capped {capped:.0f} d" if capped else ""
    return f"{station['station']} ({station['utilization']:.0%}{extra})"


def disagreement_lines(document: Mapping[str, Any]) -> list[str]:
    lines = []
    for flow in document["flows"]:
        if flow.get("saturated_note"):
            lines.append(f"{flow['lane']} {flow['direction']}: {flow['saturated_note']}")
        if flow["agree"] is False or flow["ramp_note"]:
            lines.append(
                f"{flow['lane']} {flow['direction']}: {flow['agreement']}"
                + (f" ({flow['ramp_note']})" if flow["ramp_note"] else "")
            )
    return lines


def print_capacity(document: Mapping[str, Any], console: Console | None = None) -> None:
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    console.print(capacity_table(document))
    for line in disagreement_lines(document):
        console.print(f"[yellow]note:[/yellow] {line}", highlight=False)


def capacity_cell(capacity: Stat | None) -> str:
    """A measured capacity, marked when the demand ramp's figure is quoted."""
    ramp = capacity is not None and capacity.get("method") == "ramp"
    return _ci(capacity) + (" ramp" if ramp else "")


def capacity_comparison_table(names: Sequence[str], entries: Sequence[Mapping[str, Any]]) -> Table:
    """Console: capacity per lane and direction of each scenario, and the paired difference
    against the first."""
    table = Table(
        title="Capacity (trucks/day, mean [95% CI]; by saturated entry unless marked 'ramp')"
    )
    for column in (
        "scenario",
        "lane",
        "direction",
        "offered",
        "capacity",
        "load",
        "vs first (paired)",
        "binding",
    ):
        table.add_column(column, justify="right" if column in ("offered", "load") else "left")
    for name, entry in zip(names, entries, strict=True):
        for group, cap in entry["capacity"].items():
            lane, _, direction = group.rpartition(".")
            ratio = cap["load_ratio"]
            table.add_row(
                name,
                lane,
                direction,
                f"{cap['offered_per_day']:,.0f}",
                capacity_cell(cap),
                "-" if ratio is None else f"{ratio:.0%}",
                _ci(entry["capacity_diff_vs_first"].get(group), signed=True),
                ", ".join(cap["binding"][:2]),
            )
    return table


def fmt_number(x: Any) -> str:
    """Three significant digits below 100, one decimal above ('-' for no value)."""
    return "-" if x is None else f"{x:,.3g}" if abs(x) < 100 else f"{x:,.1f}"


def summary_lines(document: dict[str, Any]) -> list[str]:
    lines = []

    def show(values: Mapping[str, Any]) -> str:
        return ", ".join(f"{k}={v}" for k, v in values.items())

    if document["found"]:
        chosen = document["chosen"]
        lines.append(f"chosen: {show(chosen['values'])} (cost {chosen['cost']:g})")
        sides = {d["path"]: d.get("side") for d in document["dimensions"]}
        lines.append(
            "  levers: " + ", ".join(f"{path} ({sides.get(path)})" for path in chosen["values"])
        )
        for n in document["failing_neighbours"]:
            how = "simulated" if n["evaluated"] else f"implied by {show(n['implied_by'])}"
            lines.append(f"  one step lower in {n['dimension']}: {show(n['values'])} fails ({how})")
    else:
        best = document["best"]
        lines.append(f"{document['result']}; best point found: {show(best['values'])}")
        for t in best["targets"]:
            lines.append(
                f"  {t['target']}: mean {fmt_number(t['mean'])}, one-sided 95 % bounds "
                f"[{fmt_number(t['low'])}, {fmt_number(t['high'])}]"
            )
    fixed = document.get("fixed_changes") or {}
    if fixed:
        lines.append(
            "on top of: "
            + ", ".join(f"{path} ({side})" for path, side in fixed.items())
            + f"; together a {document['fixed_changes_side']} decision"
        )
    neck = document["bottleneck"]
    if neck:
        lines.append(
            f"bottleneck: {neck['station']} (utilisation {neck['utilization']:.1%}, mean wait "
            f"{fmt_number(neck['wait_mean_min'])} min); longest wait: "
            f"{neck['longest_wait']['station']}"
            f" ({fmt_number(neck['longest_wait']['wait_mean_min'])} min)"
        )
        for part in neck.get("by_part", []):
            lines.append(
                f"  lane {part['part']}: {part['station']} (utilisation "
                f"{part['utilization']:.1%}, mean wait {fmt_number(part['wait_mean_min'])} min)"
            )
    if document["undecided_treated_as_failing"]:
        lines.append(
            f"{len(document['undecided_treated_as_failing'])} point(s) still undecided at the "
            "replication cap were treated as failing (conservative)"
        )
    lines.append(
        f"simulations: {document['simulations']} replications over "
        f"{document['points_evaluated']} configurations"
    )
    spent = document.get("spent")
    if spent is not None:
        lines.append(_spent_line(spent))
    return lines


def _spent_line(spent: dict[str, Any]) -> str:
    """What the search cost against a grid search of every point on the whole gate."""
    parts = ""
    if spent["parts_simulated"] < spent["parts"]:
        parts = f"of {spent['parts_simulated']} of {spent['parts']} parts "
        parts += f"({spent['work_share']:.0%} of the work), "
    return (
        f"  {parts}= {fmt_number(spent['whole_gate_equivalent'])} whole-gate replications;"
        f" a grid search: {spent['grid_simulations']} ({spent['grid_points']} points x "
        f"{spent['grid_replications_per_point']})"
    )
