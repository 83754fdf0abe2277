"""Figures built from result tables (the files of a result folder), never simulation objects.

Every function takes DataFrames or dicts read from a result folder (``summary.json``,
``stations.csv``, ``hourly_summary.csv``, ``trucks.parquet``, ``sweep.csv``) and returns a
matplotlib ``Figure``; :func:`save_figure` writes it as PNG and SVG. Scenario colours come from
:func:`scenario_colors` (Okabe-Ito, extended with Paul Tol's muted palette past eight
scenarios), so one scenario keeps its colour in every figure. The lane-network figure lives in
:mod:`gatesim.report.network_plot`.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from gatesim.report.language import kpi_name, station_figure_name
from gatesim.stats.saturation import lane_groups

# Okabe & Ito (2008) colour-blind-safe palette, black first for the baseline, yellow last
# (weak on white); then Paul Tol's "muted" scheme for scenarios 9 and up.
OKABE_ITO = (
    "#000000",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#F0E442",
)
TOL_MUTED = (
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
)
PALETTE = OKABE_ITO + TOL_MUTED
LINESTYLES = ("-", "--", "-.", ":")
UTILISATION_CMAP = "viridis"  # perceptually uniform, colour-blind safe
SPILLBACK_COLOUR = "#D55E00"

STYLE: Any = {
    "font.family": "DejaVu Sans",
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9.5,
    "figure.titlesize": 13,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.fonttype": "none",
    "svg.hashsalt": "gatesim",  # reproducible SVG ids
}

KPI_LABELS: dict[str, str] = {
    "throughput_per_day": "Trucks cleared per day",
    "time_in_system_mean_h": "Time in system, mean (h)",
    "time_in_system_p50_h": "Time in system, median (h)",
    "time_in_system_p90_h": "Time in system, p90 (h)",
    "time_in_system_p95_h": "Time in system, p95 (h)",
    "time_in_system_max_h": "Time in system, max (h)",
    "backlog_end": "Trucks in system at the end",
    "backlog_at_report_mean": "Backlog at report time, mean (trucks)",
    "backlog_at_report_max": "Backlog at report time, max (trucks)",
    "spillback_km_max": "Spill-back on approach roads, max (km)",
    "truck_hours_queued_per_day": "Truck-hours queued per day (h)",
    "idle_fuel_l_per_day": "Idling fuel per day (L)",
    "co2_t_per_day": "CO₂ from idling per day (t)",
    "transshipment_cny_per_day": "Transshipment cost per day (CNY)",
    "value_cleared_musd_per_day": "Value of goods cleared per day (M USD)",
    "value_delayed_musd_h_per_day": "Value delayed per day (M USD × hours in system)",
    "arrived": "Trucks arrived (whole run)",
    "cleared": "Trucks cleared (whole run)",
    "lost": "Trucks lost (whole run)",
    "reneged_per_day": "Trucks reneged per day",
    "balked_per_day": "Trucks balked per day",
    "value_reneged_musd_per_day": "Value reneged (M USD/day)",
    "value_balked_musd_per_day": "Value balked (M USD/day)",
    "wait_served_mean_min": "Wait of served trucks at stations with patience (min)",
    "wait_reneged_mean_min": "Wait of reneged trucks (min)",
    "offered_per_day": "Trucks offered per day",
    "cleared_share": "Share of offered trucks cleared",
    "backlog_growth_per_day": "Backlog growth at report time (trucks per day)",
}
STATION_STAT_LABELS: dict[str, str] = {
    "utilization": "utilisation",
    "wait_mean_min": "mean wait (min)",
    "queue_mean": "mean queue (trucks)",
    "queue_max": "max queue (trucks)",
    "arrived_measured": "arrivals after warm-up",
    "blocking_share": "share of time blocked",
    "overtime_hours": "overtime (h)",
    "spillback_km_max": "spill-back, max (km)",
}
KPI_UNITS: dict[str, str] = {
    "reneged_per_day": "trucks per day",
    "balked_per_day": "trucks per day",
    "throughput_per_day": "trucks per day",
    "offered_per_day": "trucks per day",
    "cleared_share": "share of offered",
    "backlog_growth_per_day": "trucks per day",
    "backlog_end": "trucks",
    "backlog_at_report_mean": "trucks",
    "backlog_at_report_max": "trucks",
    "spillback_km_max": "km",
    "truck_hours_queued_per_day": "truck-hours per day",
    "idle_fuel_l_per_day": "litres per day",
    "co2_t_per_day": "tonnes CO₂ per day",
    "transshipment_cny_per_day": "CNY per day",
}


def kpi_label(key: str) -> str:
    """A readable name with unit for a KPI key (``throughput_per_day.1119-1120.export``...)."""
    base, _, rest = key.partition(".")
    if base == "station" and "." in rest:
        station, stat = rest.rsplit(".", 1)
        english = STATION_STAT_LABELS.get(stat, stat.replace("_", " "))
        return f"{station}: {station_figure_name(stat, english)}"
    label = kpi_name(base, KPI_LABELS.get(base, base.replace("_", " ")))
    return f"{label}, {rest.replace('.', ' ')}" if rest else label


def kpi_unit(key: str) -> str:
    """The unit of a KPI, for axis labels."""
    base = key.split(".", 1)[0]
    if base.startswith("time_in_system"):
        return "hours"
    if base.startswith("station"):
        stat = key.rsplit(".", 1)[-1]
        return {"utilization": "share busy", "wait_mean_min": "minutes"}.get(stat, stat)
    return KPI_UNITS.get(base, base.replace("_", " "))


def scenario_colors(names: Iterable[str]) -> dict[str, str]:
    """One colour per scenario, in the given order (the first, the baseline, is black)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def _linestyle(i: int) -> str:
    return LINESTYLES[(i // len(PALETTE)) % len(LINESTYLES)]


def _colors(names: Sequence[str], colors: Mapping[str, str] | None) -> dict[str, str]:
    return dict(colors) if colors is not None else scenario_colors(names)


def figure_canvas(width: float, height: float, **kwargs: Any) -> tuple[Figure, Any]:
    """A constrained-layout figure in the house style and its axes (``kwargs``: subplots)."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(**kwargs)
    return fig, axes


# --------------------------------------------------------------------------- saving
def save_figure(
    fig: Figure, stem: Path | str, formats: Sequence[str] = ("png", "svg"), dpi: int = 110
) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg`` (or the given formats); return the paths written."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        with matplotlib.rc_context(STYLE):
            fig.savefig(path, format=fmt, dpi=dpi, metadata=_metadata(fmt))
        written.append(path)
    return written


def figure_bytes(fig: Figure, fmt: str = "png", dpi: int = 110) -> bytes:
    """The figure encoded in memory (for embedding into the HTML report)."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=_metadata(fmt))
    return buffer.getvalue()


def _metadata(fmt: str) -> dict[str, Any]:
    # No creation dates: the same data gives byte-identical files.
    if fmt == "png":
        return {"Software": None}
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return {}


# --------------------------------------------------------------------------- helpers
def kpi_stat(kpis: Mapping[str, Any], key: str) -> tuple[float, float, float]:
    """(mean, lo, hi) of a KPI from a summary's ``kpis``; NaN where missing or undefined."""
    return stat_triplet(kpis.get(key))


def stat_triplet(stat: Mapping[str, Any] | None) -> tuple[float, float, float]:
    """(mean, lo, hi) of a ``{"mean": m, "ci95": [lo, hi]}`` entry; NaN when it is missing
    or has no mean, the mean for an undefined bound."""
    if not stat or stat.get("mean") is None:
        return math.nan, math.nan, math.nan
    lo, hi = stat.get("ci95") or (None, None)
    mean = float(stat["mean"])
    return mean, mean if lo is None else float(lo), mean if hi is None else float(hi)


def lane_direction_keys(kpis: Mapping[str, Any], prefix: str = "throughput_per_day") -> list[str]:
    """The ``prefix.<lane>.<direction>`` keys present, in first-seen order."""
    return [f"{prefix}.{group}" for group in lane_groups(kpis, prefix)]


def _group_label(key: str, prefix: str) -> str:
    lane, _, direction = key[len(prefix) + 1 :].rpartition(".")
    arrow = "VN→CN" if direction == "export" else "CN→VN"
    return f"{lane}\n{direction} ({arrow})"


# --------------------------------------------------------------------------- throughput
#: The trucks offered per day: a dark dash with a white halo, visible on the black baseline bar.
OFFERED_COLOUR = "#333333"
OFFERED_LABEL = "offered per day (mean)"


def _two_panels(left: float, right: float, min_width: float, height: float) -> Any:
    """A whole-gate panel beside a per-flow panel, widths in proportion, at most 22 in wide."""
    scale = min(1.0, 22.0 / (left + right))
    return figure_canvas(
        max(min_width, (left + right) * scale),
        height,
        ncols=2,
        gridspec_kw={"width_ratios": [left, right]},
    )


def throughput_figure(
    kpis: Mapping[str, Mapping[str, Any]],
    baseline: str | None = None,
    colors: Mapping[str, str] | None = None,
    target: float | None = None,
    capacity: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
) -> Figure:
    """Trucks cleared per day by scenario (left) and by lane and direction (right), 95 % CIs,
    and a dash on each bar at the trucks offered per day (``offered_per_day``, when the summary
    has it): a bar below its dash did not clear its demand.

    ``kpis`` maps scenario name to its summary ``kpis``; ``baseline`` (default: the first) is
    drawn hatched with a dashed reference line at its mean. ``capacity`` (``compare
    --capacity``) maps scenario name to its ``{"<lane>.<direction>": {"mean", "ci95"}}``: each
    bar then gets a hollow dash-outlined bar up to the flow's capacity with its 95 % CI whisker
    (all lanes: the sum of the flows' means, no interval), and the y-axis reaches it.
    """
    names = list(kpis)
    colors = _colors(names, colors)
    baseline = baseline if baseline in kpis else (names[0] if names else None)
    groups: list[str] = []
    for name in names:
        groups += [k for k in lane_direction_keys(kpis[name]) if k not in groups]
    fig, (ax_total, ax_lane) = _two_panels(
        1.6 + 0.5 * len(names), 1.2 + max(1, len(groups)) * (0.9 + 0.28 * len(names)), 10.0, 5.4
    )
    _total_panel(ax_total, kpis, colors, baseline, target)
    if groups:
        _lane_panel(ax_lane, kpis, groups, colors, baseline)
    else:
        ax_lane.set_axis_off()
    if capacity:
        _capacity_layers(ax_total, ax_lane, kpis, groups, capacity)
    _shared_legend(fig, (ax_lane, ax_total))
    return fig


def _shared_legend(fig: Figure, axes: Sequence[Any], max_columns: int = 6) -> None:
    """One legend below the panels, each label once (the offered dash is in every panel)."""
    legend: dict[str, Any] = {}  # label -> handle
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        legend.update((label, h) for h, label in zip(handles, labels, strict=True))
    fig.legend(
        list(legend.values()),
        list(legend),
        loc="outside lower center",
        ncols=_legend_columns(list(legend), fig.get_figwidth(), max_columns),
        frameon=False,
    )


def _legend_columns(labels: Sequence[str], width_in: float, most: int) -> int:
    """As many columns as fit the figure's width: a row as wide as its widest entries (about
    0.075 in a character at the legend's font size, plus the handle and gap)."""
    entry = 0.9 + 0.075 * max((len(label) for label in labels), default=1)
    return max(1, min(most, len(labels), int(width_in // entry)))


def _bar_style(name: str, baseline: str | None, colour: str) -> dict[str, Any]:
    """The baseline hatched (white hatch lines on its colour), the others plain."""
    is_base = name == baseline
    return {
        "color": colour,
        "hatch": "//" if is_base else None,
        "edgecolor": "white" if is_base else colour,
    }


def _total_panel(
    ax: Any,
    kpis: Mapping[str, Mapping[str, Any]],
    colors: Mapping[str, str],
    baseline: str | None,
    target: float | None,
) -> None:
    names = list(kpis)
    x = np.arange(len(names))
    stats = np.array([kpi_stat(kpis[n], "throughput_per_day") for n in names]).reshape(-1, 3)
    for i, name in enumerate(names):
        mean, lo, hi = stats[i]
        ax.bar(
            x[i],
            mean,
            yerr=[[mean - lo], [hi - mean]],
            capsize=4,
            error_kw={"elinewidth": 1.2, "ecolor": "#444444"},
            **_bar_style(name, baseline, colors[name]),
        )
    offered = [kpi_stat(kpis[n], "offered_per_day")[0] for n in names]
    _offered_marks(ax, x, offered, 0.8)
    if baseline is not None:
        ax.axhline(
            kpi_stat(kpis[baseline], "throughput_per_day")[0],
            color="#444444",
            linestyle="--",
            linewidth=1,
            label="baseline mean",
        )
    if target is not None:
        ax.axhline(target, color=SPILLBACK_COLOUR, linestyle=":", label=f"target {target:,.0f}")
    tilt = len(names) > 2 or max((len(n) for n in names), default=0) > 10
    ax.set_xticks(x, names, rotation=30 if tilt else 0, ha="right" if tilt else "center")
    ax.set_ylabel("trucks per day")
    ax.set_title("Throughput, all lanes (95 % CI)")
    ax.set_ylim(bottom=0)


def _lane_panel(
    ax: Any,
    kpis: Mapping[str, Mapping[str, Any]],
    groups: Sequence[str],
    colors: Mapping[str, str],
    baseline: str | None,
) -> None:
    names = list(kpis)
    bar = 0.8 / max(1, len(names))
    gx = np.arange(len(groups))
    for i, name in enumerate(names):
        s = np.array([kpi_stat(kpis[name], g) for g in groups]).reshape(-1, 3)
        xs = gx - 0.4 + bar * (i + 0.5)
        ax.bar(
            xs,
            s[:, 0],
            bar,
            yerr=[s[:, 0] - s[:, 1], s[:, 2] - s[:, 0]],
            capsize=2,
            error_kw={"elinewidth": 1, "ecolor": "#444444"},
            label=name + (" (baseline)" if name == baseline and name != "baseline" else ""),
            **_bar_style(name, baseline, colors[name]),
        )
        offered = [kpi_stat(kpis[name], "offered" + g[len("throughput") :])[0] for g in groups]
        _offered_marks(ax, xs, offered, bar)
    ax.set_xticks(gx, [_group_label(g, "throughput_per_day") for g in groups])
    ax.set_ylabel("trucks per day")
    ax.set_title("By lane and direction (95 % CI)")
    ax.set_ylim(bottom=0)


def _offered_marks(ax: Any, xs: Any, offered: Sequence[float], width: float) -> None:
    """A dash across each bar at its offered trucks per day (none where unknown)."""
    points = [(x, y) for x, y in zip(xs, offered, strict=True) if math.isfinite(y)]
    if not points:
        return
    half = 0.45 * width
    ax.hlines(
        [y for _, y in points],
        [x - half for x, _ in points],
        [x + half for x, _ in points],
        colors=OFFERED_COLOUR,
        linewidth=2.4,
        path_effects=[patheffects.withStroke(linewidth=4.5, foreground="white")],
        label=OFFERED_LABEL,
        zorder=3,
    )


#: A flow's capacity (saturated entry): a hollow bar outlined in dashes from 0 to the capacity
#: (white halo, visible on the black baseline) and its 95 % CI whisker right of the bar centre.
CAPACITY_COLOUR = "#1b1b1b"
CAPACITY_LABEL = "capacity (saturated entry)"
#: A capacity quoted from the demand ramp (``"method": "ramp"``): the same bar, dotted.
RAMP_CAPACITY_LABEL = "capacity (demand ramp)"
#: The gate's capacity in a comparison: the sum of its flows' quoted figures (either method).
TOTAL_CAPACITY_LABEL = "capacity, sum of the lanes"
CAPACITY_DASHES: dict[str, Any] = {
    CAPACITY_LABEL: (0, (3, 2)),
    RAMP_CAPACITY_LABEL: (0, (1, 1.5)),
    TOTAL_CAPACITY_LABEL: (0, (6, 2, 1, 2)),
}
_HALO = [patheffects.withStroke(linewidth=3.4, foreground="white")]


def _capacity_layers(
    ax_total: Any,
    ax_lane: Any,
    kpis: Mapping[str, Mapping[str, Any]],
    groups: Sequence[str],
    capacity: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> None:
    """The capacity markers over the throughput bars: the gate's per scenario (left), each
    flow's per scenario in its lane bar's slot (right), dotted where the figure is the
    demand ramp's (``"method": "ramp"``)."""
    names = list(kpis)
    totals = [_total_capacity(capacity.get(n), kpis[n]) for n in names]
    _capacity_marks(ax_total, np.arange(len(names)), totals, 0.8, TOTAL_CAPACITY_LABEL)
    bar = 0.8 / max(1, len(names))
    nan = (math.nan, math.nan, math.nan)
    for i, name in enumerate(names):
        flows = [(capacity.get(name) or {}).get(g[len("throughput_per_day.") :]) for g in groups]
        xs = np.arange(len(groups)) - 0.4 + bar * (i + 0.5)
        for label, ramp in ((CAPACITY_LABEL, False), (RAMP_CAPACITY_LABEL, True)):
            stats = [
                stat_triplet(f) if f and (f.get("method") == "ramp") == ramp else nan for f in flows
            ]
            _capacity_marks(ax_lane, xs, stats, bar, label)


def _total_capacity(
    flows: Mapping[str, Mapping[str, Any]] | None, kpis: Mapping[str, Any]
) -> tuple[float, float, float]:
    """The gate's capacity in a comparison entry: the sum of its flows' means (no interval:
    ``comparison.json`` does not hold the per-replication sums); NaN when a lane and direction
    of the run (``kpis``) has none."""
    groups = [k[len("throughput_per_day.") :] for k in lane_direction_keys(kpis)]
    means = [stat_triplet((flows or {}).get(g))[0] for g in groups]
    if not means or not all(math.isfinite(m) for m in means):
        return math.nan, math.nan, math.nan
    return math.fsum(means), math.nan, math.nan


def _capacity_marks(
    ax: Any,
    xs: Any,
    stats: Sequence[tuple[float, float, float]],
    width: float,
    label: str = CAPACITY_LABEL,
) -> None:
    """A hollow dashed bar up to each finite capacity, a whisker where its CI is known, and
    the y-axis raised to include both (none drawn where the capacity is unknown)."""
    rows = [(x, *s) for x, s in zip(xs, stats, strict=True) if math.isfinite(s[0])]
    if not rows:
        return
    x, mean, lo, hi = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    ax.bar(
        x,
        mean,
        0.86 * width,
        fill=False,
        edgecolor=CAPACITY_COLOUR,
        linestyle=CAPACITY_DASHES[label],
        linewidth=1.4,
        path_effects=_HALO,
        label=label,
        zorder=2.6,
    )
    known = np.isfinite(lo) & np.isfinite(hi)
    if known.any():
        whiskers = ax.errorbar(
            x[known] + 0.22 * width,
            mean[known],
            yerr=[mean[known] - lo[known], hi[known] - mean[known]],
            fmt="none",
            ecolor=CAPACITY_COLOUR,
            elinewidth=1.3,
            capsize=2.5,
            zorder=2.7,
        )
        for artist in whiskers.get_children():
            artist.set_path_effects(_HALO)
    top = float(np.nanmax(np.where(known, hi, mean)))
    _, current = ax.get_ylim()
    ax.set_ylim(0, max(current, 1.06 * top))


# --------------------------------------------------------------------------- capacity folder
#: Label, colour and hatch of each capacity method's bars.
CAPACITY_METHODS: dict[str, tuple[str, str, str | None]] = {
    "saturated": ("saturated entry", "#0072B2", None),
    "ramp": ("demand ramp", "#E69F00", "//"),
}


def capacity_figure(document: Mapping[str, Any]) -> Figure:
    """A ``capacity.json`` document: per lane and direction (right) and for the whole gate
    (left), one bar per method (saturated entry, demand ramp) with its 95 % CI whisker and a
    dash at the trucks offered per day. A method without an answer for a flow (not run, or
    no stable load found) gets no bar but a "no answer" note; flows whose methods disagree
    are marked."""
    flows = list(document.get("flows") or [])
    run = document.get("methods") or list(CAPACITY_METHODS)
    methods = [m for m in CAPACITY_METHODS if m in run]
    fig, (ax_gate, ax_flow) = _two_panels(
        1.4 + 0.5 * len(methods), 1.2 + max(1, len(flows)) * (0.9 + 0.4 * len(methods)), 9.0, 5.2
    )
    _method_bars(ax_gate, [document.get("gate") or {}], methods)
    ax_gate.set_xticks([0], ["whole gate"])
    ax_gate.set_title("Whole gate (95 % CI)")
    _method_bars(ax_flow, flows, methods)
    ax_flow.set_xticks(
        np.arange(len(flows)),
        [_group_label(f"capacity.{f['lane']}.{f['direction']}", "capacity") for f in flows],
    )
    ax_flow.set_title("By lane and direction (95 % CI)")
    for ax in (ax_gate, ax_flow):
        ax.set_ylabel("trucks per day")
    _shared_legend(fig, (ax_flow, ax_gate))
    fig.suptitle(f"Capacity of {document.get('scenario', '?')}: trucks cleared per day")
    return fig


def _method_bars(ax: Any, entries: Sequence[Mapping[str, Any]], methods: Sequence[str]) -> None:
    """One bar per method and entry (a flow or the gate) with CI whiskers; offered dashes."""
    bar = 0.8 / max(1, len(methods))
    gx = np.arange(len(entries))
    tops = [0.0]
    for i, method in enumerate(methods):
        label, colour, hatch = CAPACITY_METHODS[method]
        for x, entry in zip(gx - 0.4 + bar * (i + 0.5), entries, strict=True):
            mean, lo, hi = stat_triplet(entry.get(method))
            if not math.isfinite(mean):
                ax.text(
                    x,
                    0,
                    "no answer",
                    rotation=90,
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    color="#5a5a5a",
                )
                continue
            ax.bar(
                x,
                mean,
                bar,
                yerr=[[mean - lo], [hi - mean]],
                capsize=3,
                color=colour,
                hatch=hatch,
                edgecolor="white" if hatch else colour,
                label=label,
                error_kw={"elinewidth": 1.1, "ecolor": "#444444"},
            )
            tops.append(hi)
    offered = [float(e.get("offered_per_day", math.nan)) for e in entries]
    _offered_marks(ax, gx, offered, 0.8)
    tops += [y for y in offered if math.isfinite(y)]
    for x, entry in zip(gx, entries, strict=True):
        if entry.get("agree") is False:
            ax.annotate(
                "methods disagree",
                (x, max(tops)),
                ha="center",
                va="bottom",
                fontsize=8,
                color=SPILLBACK_COLOUR,
            )
    ax.set_ylim(0, 1.12 * max(tops) if max(tops) > 0 else 1.0)


# --------------------------------------------------------------------------- hourly profiles
def hourly_figure(
    hourly: Mapping[str, pd.DataFrame],
    colors: Mapping[str, str] | None = None,
    timezone: str = "UTC+07:00",
) -> Figure:
    """Trucks cleared per hour and trucks in the system by hour of day, 95 % bands.

    ``hourly`` maps scenario name to its ``hourly_summary.csv`` table (hour, cleared_mean/lo/hi,
    in_system_mean/lo/hi).
    """
    names = list(hourly)
    colors = _colors(names, colors)
    rows = math.ceil(len(names) / _legend_columns(names, 12.0, 5))
    fig, (ax_c, ax_q) = figure_canvas(12.0, 4.9 + 0.25 * rows, ncols=2)
    for i, name in enumerate(names):
        table = hourly[name].sort_values("hour")
        hours = table["hour"].to_numpy()
        for ax, col in ((ax_c, "cleared"), (ax_q, "in_system")):
            ax.plot(
                hours,
                table[f"{col}_mean"],
                color=colors[name],
                linestyle=_linestyle(i),
                linewidth=1.8,
                marker="o",
                markersize=3,
                label=name,
            )
            ax.fill_between(
                hours,
                table[f"{col}_lo"].fillna(table[f"{col}_mean"]),
                table[f"{col}_hi"].fillna(table[f"{col}_mean"]),
                color=colors[name],
                alpha=0.18 if len(names) <= 4 else 0.08,
                linewidth=0,
            )
    for ax in (ax_c, ax_q):
        ax.set_xlabel(f"hour of day (scenario clock, {timezone})")
        ax.set_xticks(range(0, 25, 3))
        ax.set_xlim(-0.5, 23.5)
        ax.set_ylim(bottom=0)
    ax_c.set_ylabel("trucks cleared per hour")
    ax_c.set_title("Throughput by hour of day (mean, 95 % band)")
    ax_q.set_ylabel("trucks in the system")
    ax_q.set_title("Trucks in the system by hour of day (mean, 95 % band)")
    _shared_legend(fig, (ax_q,), max_columns=5)  # columns that fit: never clipped
    return fig


#: Beyond this many scenarios an hour-of-day chart is one small panel per scenario.
SMALL_MULTIPLES_FROM = 6
HOURLY_MEASURES = {
    "cleared": ("trucks cleared per hour", "Throughput by hour of day"),
    "in_system": ("trucks in the system", "Trucks in the system by hour of day"),
}


def _wrapped(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width`` characters, at '-' where it can."""
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=True)) or text


def hourly_small_multiples(
    hourly: Mapping[str, pd.DataFrame],
    measure: str,
    colors: Mapping[str, str] | None = None,
    timezone: str = "UTC+07:00",
    columns: int = 4,
) -> Figure:
    """One panel per scenario of one hour-of-day ``measure`` (``cleared`` or ``in_system``),
    mean and 95 % band, on one shared y scale; the first scenario is repeated in grey in every
    other panel as the reference. For many scenarios, where one chart would be spaghetti."""
    names = list(hourly)
    colors = _colors(names, colors)
    rows = math.ceil(len(names) / columns)
    fig, axes = figure_canvas(
        3.1 * columns, 2.3 * rows + 0.8, nrows=rows, ncols=columns, sharex=True, sharey=True,
        squeeze=False,
    )  # fmt: skip
    label, title = HOURLY_MEASURES[measure]
    reference = hourly[names[0]].sort_values("hour")
    for index, ax in enumerate(axes.flat):
        if index >= len(names):
            ax.set_visible(False)
            continue
        name = names[index]
        table = hourly[name].sort_values("hour")
        if index:
            ax.plot(reference["hour"], reference[f"{measure}_mean"], color="#AAAAAA", lw=1.2)
        ax.plot(table["hour"], table[f"{measure}_mean"], color=colors[name], lw=1.8)
        ax.fill_between(
            table["hour"],
            table[f"{measure}_lo"].fillna(table[f"{measure}_mean"]),
            table[f"{measure}_hi"].fillna(table[f"{measure}_mean"]),
            color=colors[name],
            alpha=0.2,
            linewidth=0,
        )
        ax.set_title(_wrapped(name, 30), fontsize=10)  # long titles (--set) on two lines
        ax.set_xticks(range(0, 25, 6))
        ax.set_xlim(-0.5, 23.5)
        ax.set_ylim(bottom=0)
    fig.supxlabel(f"hour of day (scenario clock, {timezone})")
    fig.supylabel(label)
    fig.suptitle(f"{title} (mean, 95 % band; grey: {names[0]})")
    return fig


# --------------------------------------------------------------------------- days of the year
def daily_cleared_by_date(
    daily: pd.DataFrame, start_date: dt.date | str, warmup_days: float = 0.0
) -> pd.DataFrame:
    """``daily_cleared.csv`` (day, rep0, rep1, …) as date, mean, min and max over the
    replications, for the measured days only (a day partly in the warm-up is left out)."""
    start = pd.Timestamp(start_date)
    reps = daily[[c for c in daily.columns if str(c).startswith("rep")]]
    table = pd.DataFrame(
        {
            "date": start + pd.to_timedelta(daily["day"], unit="D"),
            "mean": reps.mean(axis=1),
            "low": reps.min(axis=1),
            "high": reps.max(axis=1),
        }
    )
    return table[daily["day"] >= math.ceil(warmup_days)].reset_index(drop=True)


def daily_figure(
    daily: Mapping[str, pd.DataFrame], colors: Mapping[str, str] | None = None
) -> Figure:
    """Trucks cleared per calendar day (mean over replications, min-max band, and its 7-day
    rolling mean): the seasons, closures and weekends of a long run.

    ``daily`` maps scenario name to a :func:`daily_cleared_by_date` table.
    """
    names = list(daily)
    colors = _colors(names, colors)
    fig, ax = figure_canvas(12.0, 4.4 + 0.25 * math.ceil(len(names) / 3))
    for i, name in enumerate(names):
        table = daily[name]
        ax.fill_between(
            table["date"], table["low"], table["high"], color=colors[name], alpha=0.15, lw=0
        )
        ax.plot(table["date"], table["mean"], color=colors[name], linewidth=0.6, alpha=0.6)
        rolling = table["mean"].rolling(7, center=True, min_periods=4).mean()
        ax.plot(
            table["date"],
            rolling,
            color=colors[name],
            linestyle=_linestyle(i),
            linewidth=2.0,
            label=f"{name} (7-day mean)",
        )
    ax.set_ylabel("trucks cleared per day")
    ax.set_ylim(bottom=0)
    ax.set_title("Trucks cleared per day (mean over replications, min-max band)")
    fig.autofmt_xdate()
    _shared_legend(fig, (ax,), max_columns=4)  # below the axes: never clipped, never on a curve
    return fig


# --------------------------------------------------------------------------- time in system
def time_in_system_hours(trucks: pd.DataFrame, warmup_days: float = 0.0) -> np.ndarray:
    """Hours in the system of the trucks the KPIs count: cleared, created after the warm-up."""
    done = trucks[(trucks["outcome"] == "cleared") & (trucks["created_min"] >= warmup_days * 1440)]
    hours = (done["cleared_min"] - done["created_min"]).to_numpy(dtype=float) / 60.0
    return np.sort(hours[np.isfinite(hours)])


def time_in_system_figure(
    samples: Mapping[str, np.ndarray],
    p95: Mapping[str, tuple[float, float, float]] | None = None,
    colors: Mapping[str, str] | None = None,
) -> Figure:
    """Empirical CDF of the time in system per scenario, with the 95th percentile marked.

    ``samples`` maps scenario name to hours (see :func:`time_in_system_hours`, pooled over the
    replications); ``p95`` optionally gives the p95 KPI (mean, lo, hi over replications), drawn
    as a marker with its interval; otherwise the pooled sample's p95 is marked. Each p95 is
    written in its scenario's legend entry rather than beside its marker (labels beside
    markers overlap as soon as two scenarios' p95 are close), and the legend sits below the
    axes, so it never covers a curve.
    """
    names = list(samples)
    colors = _colors(names, colors)
    fig, ax = figure_canvas(10.0, 5.0 + 0.22 * math.ceil(len(names) / 2))
    upper = 0.0
    for i, name in enumerate(names):
        hours = np.sort(np.asarray(samples[name], dtype=float))
        if hours.size == 0:
            continue
        y = np.arange(1, hours.size + 1) / hours.size
        stat = p95.get(name) if p95 is not None else None
        shown = _mark_time_in_system_p95(ax, hours, colors[name], stat)
        ax.step(
            hours,
            y,
            where="post",
            color=colors[name],
            linestyle=_linestyle(i),
            linewidth=1.8,
            label=f"{name} (n = {hours.size:,}; p95 {shown})",
        )
        upper = max(upper, float(np.quantile(hours, 0.995)))
    ax.axhline(0.95, color="#888888", linestyle=":", linewidth=1)
    ax.text(0.0, 0.955, "95 %", color="#666666", fontsize=9, va="bottom")
    ax.set_xlim(0, upper * 1.05 if upper > 0 else 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("time in system, arrival at the gate area to release (h)")
    ax.set_ylabel("share of trucks cleared (ECDF)")
    ax.set_title("Time in system (trucks created after the warm-up; p95 with 95 % CI)")
    _shared_legend(fig, (ax,), max_columns=3)
    return fig


def _mark_time_in_system_p95(
    ax: Any,
    hours: np.ndarray,
    colour: str,
    stat: tuple[float, float, float] | None,
) -> str:
    """Mark one scenario's p95 at y = 0.95 on the ECDF; return its text for the legend.

    With a p95 KPI ``stat`` (mean, lo, hi over replications) the mean is drawn with its
    interval ('12.3 h [10.1, 14.6]'); without one (or when it is NaN) the 95th percentile of
    the pooled ``hours`` is drawn as a plain marker ('12.3 h, pooled').
    """
    if stat is not None and not math.isnan(stat[0]):
        mean, lo, hi = stat
        ax.errorbar(
            mean,
            0.95,
            xerr=[[mean - lo], [hi - mean]] if math.isfinite(lo) and math.isfinite(hi) else None,
            fmt="o",
            color=colour,
            capsize=3,
            markersize=6,
            markeredgecolor="white",
        )
        bounds = f" [{lo:.1f}, {hi:.1f}]" if math.isfinite(lo) and math.isfinite(hi) else ""
        return f"{mean:.1f} h{bounds}"
    mark = float(np.quantile(hours, 0.95))
    ax.plot([mark], [0.95], "o", color=colour, markeredgecolor="white")
    return f"{mark:.1f} h, pooled"


# --------------------------------------------------------------------------- utilisation
def utilisation_heatmap(
    utilisation: pd.DataFrame,
    title: str = "Station utilisation (share of opening hours busy)",
    idle: pd.DataFrame | None = None,
) -> Figure:
    """Heat map of mean utilisation: one row per station, one column per scenario.

    ``utilisation`` is a DataFrame indexed by station with one column per scenario (values 0-1,
    NaN where a scenario has no such station), e.g. from :func:`utilisation_table`. ``idle``
    (same shape, True where the station had no trucks after the warm-up, from
    :func:`idle_stations`) greys those cells and writes "no trucks": a station nobody used is
    not a station 0 % busy.
    """
    table = utilisation.astype(float)
    if idle is not None:
        table = table.mask(idle.reindex_like(table).fillna(False).astype(bool))
    rows, cols = table.shape
    longest = max((len(str(r)) for r in table.index), default=0)  # row labels: 0.065 in a char
    width = max(6.0, min(28.0, 2.8 + 0.95 * cols + 0.065 * longest))
    height = max(3.0, 0.26 * rows + 1.8)
    fig, ax = figure_canvas(width, height)
    masked = np.ma.masked_invalid(table.to_numpy())
    cmap = matplotlib.colormaps[UTILISATION_CMAP].with_extremes(bad="#EEEEEE")
    image = ax.imshow(masked, aspect="auto", cmap=cmap, vmin=0.0, vmax=1.0, interpolation="none")
    ax.set_xticks(range(cols), [str(c) for c in table.columns], rotation=30, ha="right")
    ax.set_yticks(range(rows), [str(r) for r in table.index], fontsize=8.5)
    ax.grid(False)
    ax.tick_params(length=0)
    values = table.to_numpy(dtype=float)
    for r in range(rows):
        for c in range(cols):
            value = float(values[r, c])
            if not np.isfinite(value):
                if idle is not None and bool(idle.reindex_like(table).fillna(False).iat[r, c]):
                    ax.text(c, r, "no trucks", ha="center", va="center", fontsize=7, color="#555")
                continue
            ax.text(
                c,
                r,
                f"{value:.0%}",
                ha="center",
                va="center",
                fontsize=7.5,
                color="black" if value > 0.6 else "white",
            )
    bar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    bar.set_label("utilisation (busy servers / servers, opening hours)")
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(title)
    ax.set_xlabel("scenario")
    ax.set_ylabel("station")
    return fig


def idle_stations(stations: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Stations x scenarios: True where no truck arrived after the warm-up in any replication
    (``arrived_measured`` of ``stations.csv``), laid out as :func:`utilisation_table`."""
    columns = {
        name: table.groupby("station", sort=False)["arrived_measured"].max() <= 0
        for name, table in stations.items()
        if "arrived_measured" in table.columns
    }
    return pd.DataFrame(columns).reindex(utilisation_table(stations).index)


def utilisation_table(stations: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Stations x scenarios of mean utilisation from each scenario's ``stations.csv``."""
    columns = {}
    for name, table in stations.items():
        columns[name] = table.groupby("station", sort=False)["utilization"].mean()
    frame = pd.DataFrame(columns)
    order: list[str] = []
    for table in stations.values():
        order += [s for s in dict.fromkeys(table["station"]) if s not in order]
    return frame.reindex(order)


# --------------------------------------------------------------------------- sweeps
def sweep_axes(sweep: pd.DataFrame) -> list[str]:
    """The swept field columns of a ``sweep.csv`` (between ``folder`` and ``replications``)."""
    columns = list(sweep.columns)
    try:
        return columns[columns.index("folder") + 1 : columns.index("replications")]
    except ValueError:
        return [c for c in columns if "." in c and not c.endswith(("_mean", "_lo", "_hi"))]


def sweep_kpis(sweep: pd.DataFrame) -> list[str]:
    """The KPIs with ``<kpi>_mean``, ``_lo`` and ``_hi`` columns, in column order."""
    return [
        c[: -len("_mean")]
        for c in sweep.columns
        if c.endswith("_mean") and f"{c[:-5]}_lo" in sweep and f"{c[:-5]}_hi" in sweep
    ]


def sweep_figure(
    sweep: pd.DataFrame,
    kpis: Sequence[str] | None = None,
    x: str | None = None,
    targets: Mapping[str, float] | None = None,
) -> Figure:
    """Each KPI against the swept parameter ``x`` with a 95 % band, one panel per KPI.

    A sweep over several fields draws one line per combination of the other fields. ``targets``
    maps a KPI to a horizontal target line (e.g. ``{"throughput_per_day": 2000}``).
    """
    axes_cols = sweep_axes(sweep)
    if not axes_cols:
        raise ValueError("the sweep table has no swept field columns")
    x = x or axes_cols[0]
    others = [c for c in axes_cols if c != x]
    kpis = list(kpis) if kpis is not None else sweep_kpis(sweep)
    targets = dict(targets or {})
    ncols = min(2, len(kpis)) or 1
    nrows = math.ceil(len(kpis) / ncols) or 1
    fig, axes = figure_canvas(6.0 * ncols, 3.9 * nrows, nrows=nrows, ncols=ncols, squeeze=False)
    numeric = pd.api.types.is_numeric_dtype(sweep[x])
    groups = list(sweep.groupby(others, sort=False)) if others else [((), sweep)]
    colors = scenario_colors([str(key) for key, _ in groups])
    for ax, kpi in zip(axes.flat, kpis, strict=False):
        for i, (key, table) in enumerate(groups):
            label = _sweep_group_label(others, key) if others else None
            color = colors[str(key)] if others else "#0072B2"
            band_label = "95 % CI" if i == 0 and not others else None
            _draw_sweep_line(ax, table, kpi, x, numeric, i, color, label, band_label)
        _finish_sweep_panel(ax, sweep, kpi, x, numeric, targets)
    for ax in list(axes.flat)[len(kpis) :]:
        ax.set_axis_off()
    fig.suptitle(f"Sweep over {x} (mean and 95 % CI across replications)")
    return fig


def _sweep_group_label(others: Sequence[str], key: Any) -> str:
    """Legend label of one combination of the other swept fields, e.g. ``servers=20, lanes=2``."""
    values = key if isinstance(key, tuple) else (key,)
    return ", ".join(f"{o.split('.')[-1]}={v}" for o, v in zip(others, values, strict=True))


def _draw_sweep_line(
    ax: Any,
    table: pd.DataFrame,
    kpi: str,
    x: str,
    numeric: bool,
    index: int,
    color: str,
    label: str | None,
    band_label: str | None,
) -> None:
    """Draw one group's KPI mean against ``x`` with its 95 % band; categorical ``x`` by position."""
    table = table.sort_values(x) if numeric else table
    xs = table[x].to_numpy() if numeric else np.arange(len(table))
    ax.plot(
        xs,
        table[f"{kpi}_mean"],
        marker="o",
        color=color,
        linewidth=1.8,
        linestyle=_linestyle(index),
        label=label,
    )
    ax.fill_between(
        xs,
        table[f"{kpi}_lo"],
        table[f"{kpi}_hi"],
        color=color,
        alpha=0.2,
        linewidth=0,
        label=band_label,
    )
    if not numeric:
        ax.set_xticks(xs, [str(v) for v in table[x]])


def _finish_sweep_panel(
    ax: Any,
    sweep: pd.DataFrame,
    kpi: str,
    x: str,
    numeric: bool,
    targets: Mapping[str, float],
) -> None:
    """Add the KPI's target line, ticks at the swept values (12 or fewer), labels and legend."""
    if kpi in targets:
        ax.axhline(
            targets[kpi],
            color=SPILLBACK_COLOUR,
            linestyle="--",
            linewidth=1.4,
            label=f"target {targets[kpi]:,g}",
        )
    if numeric and sweep[x].nunique() <= 12:
        ax.set_xticks(sorted(sweep[x].unique()))
    ax.set_xlabel(x)
    ax.set_ylabel(kpi_unit(kpi))
    ax.set_title(kpi_label(kpi))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", framealpha=0.9)
