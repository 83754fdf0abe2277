"""One self-contained HTML report per result folder: ``report.html`` beside the results.

``write_report(folder)`` reads a result folder written by ``run``, ``compare``, ``sweep``,
``plan`` or ``capacity`` (detected from the files present: ``plan.json``, ``comparison.json``,
``sweep.csv``, ``capacity.json`` or ``summary.json``) and writes ``folder/report.html``: the
scenario descriptions and assumptions, the KPI tables with 95 % confidence intervals, the paired
differences (compare; with ``compare --capacity`` also each scenario's capacity) or the sweep
table (sweep), every figure the folder's data allows (embedded as base64 PNG) and the manifest
(versions, seeds, hashes, git commit). A capacity folder has no runs: its page shows the
capacity of each lane and direction by each method, the gate and one capacity figure. The
page has no scripts, no external style sheets, fonts or images: it opens offline.
``main(argv)`` is the ``report DIR [--out FILE]`` command.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import functools
import html
import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gatesim.core.errors import ScenarioError
from gatesim.report import plots
from gatesim.report.explain import (
    MAX_DIFFERENCES,
    family_rows,
    glossary_rows,
    scenario_differences,
)
from gatesim.report.intervals import BOUNDED_MARK, BOUNDED_NOTE, bounded_kpis, was_bounded
from gatesim.report.language import LANGUAGES, language, readable, tr, use_language
from gatesim.report.network_layout import NETWORK_TABLES, NetworkTables, read_network_tables
from gatesim.report.network_plot import network_figure, road_peak
from gatesim.report.platform import platform_keys
from gatesim.report.queues_plot import QUEUES_TABLE, queue_heatmap, spillback_figure, yards_of
from gatesim.report.replay_link import replay_section
from gatesim.report.saturation import (
    GROWS_NOTE,
    grows_with_run_length,
    saturated_groups,
    warning_messages,
)
from gatesim.report.slots import slot_keys

EXIT_BAD_INPUT = 2
REPORT_NAME = "report.html"
#: Kinds of draws.json (``plan``/``capacity --draws``; the report cannot import the experiment).
DRAWS_KINDS = ("plan_draws", "capacity_draws")
HEADLINE = (
    "throughput_per_day",
    "time_in_system_mean_h",
    "time_in_system_p95_h",
    "backlog_at_report_mean",
    "backlog_end",
    "spillback_km_max",
)
EXTRA_KPIS = (
    "time_in_system_p50_h",
    "time_in_system_p90_h",
    "time_in_system_max_h",
    "backlog_at_report_max",
    "truck_hours_queued_per_day",
    "idle_fuel_l_per_day",
    "co2_t_per_day",
    "transshipment_cny_per_day",
)
STATION_STATS = ("utilization", "wait_mean_min", "queue_mean", "queue_max")
SWEEP_NETWORKS = 2  # network figures for a sweep: the first and the last point
MODEL_NOTE = (
    "The model, its calibration and every assumption are documented in docs/model.md of the "
    "gatesim repository; in scenarios/*.yaml every number is tagged [s N] (sourced: row N of "
    "the domain sheet, whose fact, number and address docs/sources.md carries) or [a] "
    "(assumed)."
)


# --------------------------------------------------------------------------- loading
@dataclass
class Member:
    """One scenario's (or one sweep point's) result folder."""

    label: str
    folder: Path
    summary: dict[str, Any]
    manifest: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)  # sweep point values
    scenario_file: str | None = None
    _tables: dict[str, pd.DataFrame | None] = field(default_factory=dict, repr=False)
    _bounded: dict[str, Any] | None = field(default=None, repr=False)

    def table(self, name: str) -> pd.DataFrame | None:
        """``name`` (a CSV or Parquet file of the folder) as a DataFrame, None when absent."""
        if name not in self._tables:
            path = self.folder / name
            if not path.is_file():
                self._tables[name] = None
            elif path.suffix == ".parquet":
                self._tables[name] = pd.read_parquet(path)
            else:
                self._tables[name] = pd.read_csv(path)
        return self._tables[name]

    @property
    def kpis(self) -> dict[str, Any]:
        """The KPIs, each interval bound-respecting (gatesim.report.intervals)."""
        if self._bounded is None:
            self._bounded = bounded_kpis(self.summary.get("kpis", {}))
        return self._bounded

    @property
    def measured_days(self) -> float:
        return float(self.summary.get("days", 0)) - float(self.summary.get("warmup_days", 0))

    @property
    def saturated(self) -> list[str]:
        """The ``<lane>.<direction>`` groups the run warns about as saturated."""
        return saturated_groups(self.summary)

    @property
    def resolved(self) -> dict[str, Any] | None:
        resolved = self.manifest.get("resolved_scenario")
        return resolved if isinstance(resolved, dict) else None


@dataclass
class Results:
    """A result folder: its kind, its members and the group files."""

    kind: str  # "run", "compare", "sweep", "plan" (its member: the reported point's run)
    # or "capacity" (no members: capacity.json only)
    path: Path
    members: list[Member]
    manifest: dict[str, Any]
    comparison: list[dict[str, Any]] | None = None
    sweep: pd.DataFrame | None = None
    plan: dict[str, Any] | None = None
    capacity: dict[str, Any] | None = None
    sensitivity: dict[str, Any] | None = None  # kind "sensitivity": sensitivity.json, no runs
    draws: dict[str, Any] | None = None  # kind "draws": draws.json (plan/capacity --draws)

    @property
    def labels(self) -> list[str]:
        return [m.label for m in self.members]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None


def _member(folder: Path, label: str | None = None, **extra: Any) -> Member:
    if not (folder / "summary.json").is_file():
        raise ValueError(f"incomplete result folder: {folder / 'summary.json'} is missing")
    summary = _read_json(folder / "summary.json")
    if not isinstance(summary, dict) or "kpis" not in summary:
        raise ValueError(f"not a gatesim summary: {folder / 'summary.json'}")
    manifest_path = folder / "manifest.json"
    manifest = _read_json(manifest_path) if manifest_path.is_file() else {}
    return Member(
        label=label or str(summary.get("scenario", folder.name)),
        folder=folder,
        summary=summary,
        manifest=manifest if isinstance(manifest, dict) else {},
        **extra,
    )


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}-{seen[label]}")
    return out


def load_results(folder: Path | str) -> Results:
    """Read a run, compare, sweep, plan or capacity folder; ValueError when it is not a
    gatesim result folder."""
    path = Path(folder)
    if not path.is_dir():
        raise ValueError(f"no such result folder: {path}")
    top_manifest = path / "manifest.json"
    manifest = _read_json(top_manifest) if top_manifest.is_file() else {}
    if (path / "plan.json").is_file():
        return _load_plan(path, manifest)
    if (path / "comparison.json").is_file():
        comparison = _read_json(path / "comparison.json")
        if not isinstance(comparison, list) or not comparison:
            raise ValueError(f"not a gatesim comparison: {path / 'comparison.json'}")
        labels = _unique([str(e.get("scenario", e.get("folder"))) for e in comparison])
        members = [
            _member(path / str(e["folder"]), label, scenario_file=e.get("file"))
            for e, label in zip(comparison, labels, strict=True)
        ]
        return Results("compare", path, members, manifest, comparison=comparison)
    if (path / "sweep.csv").is_file():
        sweep = pd.read_csv(path / "sweep.csv")
        if "folder" not in sweep.columns:
            raise ValueError(f"not a gatesim sweep table: {path / 'sweep.csv'}")
        axes = plots.sweep_axes(sweep)
        members = []
        for _, row in sweep.iterrows():
            values = {a: _plain(row[a]) for a in axes}
            label = ", ".join(f"{_short_axis(a)}={v}" for a, v in values.items())
            members.append(_member(path / "points" / str(row["folder"]), label, values=values))
        if not members:
            raise ValueError(f"empty sweep table: {path / 'sweep.csv'}")
        return Results("sweep", path, members, manifest, sweep=sweep)
    if (path / "capacity.json").is_file():
        return _load_capacity(path, manifest)
    if (path / "draws.json").is_file():
        document = _read_json(path / "draws.json")
        if not isinstance(document, dict) or document.get("kind") not in DRAWS_KINDS:
            raise ValueError(f"not a gatesim draws document: {path / 'draws.json'}")
        return Results("draws", path, [], manifest, draws=document)
    if (path / "sensitivity.json").is_file():
        document = _read_json(path / "sensitivity.json")
        if not isinstance(document, dict) or document.get("kind") != "sensitivity":
            raise ValueError(f"not a gatesim sensitivity document: {path / 'sensitivity.json'}")
        return Results("sensitivity", path, [], manifest, sensitivity=document)
    if (path / "summary.json").is_file():
        member = _member(path)
        member.scenario_file = _scenario_file_from_command(
            member.manifest.get("command"), str(member.summary.get("scenario", ""))
        )
        return Results("run", path, [member], member.manifest)
    raise ValueError(
        "not a gatesim result folder (no summary.json, comparison.json, sweep.csv or "
        f"capacity.json): {path}"
    )


def _load_capacity(path: Path, manifest: dict[str, Any]) -> Results:
    """A capacity folder (``run_sim.py capacity``): capacity.json, no runs."""
    document = _read_json(path / "capacity.json")
    if (
        not isinstance(document, dict)
        or document.get("kind") != "capacity"
        or not isinstance(document.get("flows"), list)
    ):
        raise ValueError(f"not a gatesim capacity document: {path / 'capacity.json'}")
    return Results("capacity", path, [], manifest, capacity=document)


def _load_plan(path: Path, manifest: dict[str, Any]) -> Results:
    """A plan folder: plan.json and the run outputs of its reported point (``point/``)."""
    plan = _read_json(path / "plan.json")
    if not isinstance(plan, dict) or plan.get("kind") != "plan":
        raise ValueError(f"not a gatesim plan: {path / 'plan.json'}")
    reported = plan.get("chosen") or plan.get("best") or {}
    values = reported.get("values") or {}
    label = ", ".join(f"{_short_axis(k)}={v}" for k, v in values.items())
    member = _member(path / "point", label or None, values=values)
    member.scenario_file = plan.get("scenario_file")
    return Results("plan", path, [member], manifest, plan=plan)


def extended_sweep(results: Results, keys: Iterable[str]) -> pd.DataFrame:
    """``sweep.csv`` plus ``<kpi>_mean/_lo/_hi`` columns for more KPIs, read from each point's
    ``summary.json`` (sweep.csv holds the headline KPIs only)."""
    if results.sweep is None:
        raise ValueError("not a sweep folder")
    table = results.sweep.copy()
    for key in keys:
        if f"{key}_mean" in table.columns:
            continue
        stats = [plots.kpi_stat(m.kpis, key) for m in results.members]
        if all(math.isnan(s[0]) for s in stats):
            continue
        for i, suffix in enumerate(("mean", "lo", "hi")):
            table[f"{key}_{suffix}"] = [s[i] for s in stats]
    return table


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _short_axis(axis: str) -> str:
    return ".".join(axis.split(".")[-2:])


def _scenario_file_from_command(command: Any, scenario: str) -> str | None:
    """The scenario file a run came from: the YAML argument named like the scenario, or the
    only YAML argument of a ``run`` command."""
    if not isinstance(command, list):
        return None
    files = [a for a in command[1:] if isinstance(a, str) and a.endswith((".yaml", ".yml"))]
    named = [f for f in files if Path(f).stem == scenario]
    if named:
        return named[0]
    return files[0] if len(files) == 1 and "run" in command[1:2] else None


# --------------------------------------------------------------------------- formatting
def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _digits(key: str) -> int:
    base = key.split(".", 1)[0]
    if base.endswith("_h") or key.endswith(("_km_max", "_km_mean", "co2_t_per_day")):
        return 2
    if key.endswith(("utilization", "blocking_share")) or base == "cleared_share":
        return 3
    return 1


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _esc(value)
    if not math.isfinite(number):
        return "–"
    text = f"{number:,.{digits}f}"
    return text.replace("-", "−")


def _ci(stat: Mapping[str, Any] | None, digits: int) -> str:
    """'812.3 <small>[798.1, 826.5]</small>', the mean alone when the CI is undefined; an
    interval on the log or logit scale (gatesim.report.intervals) carries its mark."""
    if not stat or stat.get("mean") is None:
        return "–"
    mean = _num(stat["mean"], digits)
    ci = stat.get("ci95") or [None, None]
    if ci[0] is None or ci[1] is None:
        return mean
    mark = f'<sup title="{_esc(BOUNDED_NOTE)}">{BOUNDED_MARK}</sup>' if was_bounded(stat) else ""
    return f"{mean} <small>[{_num(ci[0], digits)}, {_num(ci[1], digits)}]{mark}</small>"


def _percent_ci(stat: Mapping[str, Any] | None) -> str:
    """A share (0-1) as a percentage with its interval."""
    if not stat or stat.get("mean") is None:
        return "–"
    ci = [None if v is None else 100 * v for v in stat.get("ci95") or [None, None]]
    return _ci({**stat, "mean": 100 * stat["mean"], "ci95": ci}, 1)


GROWS_MARK = f'<sup class="grows" title="{GROWS_NOTE}">†</sup>'


def _marked(cell: str, key: str, *saturated: Sequence[str]) -> str:
    """``cell`` with the † mark when ``key`` grows with the run length in any of the runs
    whose saturated groups are given."""
    grows = any(grows_with_run_length(key, groups) for groups in saturated)
    return cell + GROWS_MARK if grows else cell


def _excludes_zero(stat: Mapping[str, Any] | None) -> bool:
    if not stat:
        return False
    lo, hi = (stat.get("ci95") or [None, None])[:2]
    return lo is not None and hi is not None and (lo > 0 or hi < 0)


def _table(
    header: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "", caption: str = ""
) -> str:
    """An HTML table; cells are already-escaped HTML."""
    head = "".join(f"<th>{tr(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>\n" for row in rows)
    cap = f"<caption>{caption}</caption>" if caption else ""
    return (
        f'<div class="scroll"><table class="{cls}">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>\n{body}</tbody></table></div>\n"
    )


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}">\n<h2>{_esc(tr(title))}</h2>\n{body}\n</section>\n'


# --------------------------------------------------------------------------- sections
def _kpi_rows(results: Results, keys: Sequence[str]) -> list[list[str]]:
    rows = []
    for key in keys:
        if not any(key in m.kpis for m in results.members):
            continue
        rows.append(
            [_esc(plots.kpi_label(key))]
            + [
                _marked(_ci(m.kpis.get(key), _digits(key)), key, m.saturated)
                for m in results.members
            ]
        )
    return rows


def _flow_table(results: Results) -> str:
    """Offered against cleared per lane and direction, one row per scenario of each."""
    groups: list[str] = []
    for member in results.members:
        for key in plots.lane_direction_keys(member.kpis):
            group = key[len("throughput_per_day.") :]
            if group not in groups:
                groups.append(group)
    several = len(results.members) > 1
    rows = []
    for group in groups:
        lane, _, direction = group.rpartition(".")
        for member in results.members:
            if f"throughput_per_day.{group}" not in member.kpis:
                continue
            rows.append(
                [_esc(lane), _esc(direction)]
                + ([_esc(member.label)] if several else [])
                + [
                    _ci(member.kpis.get(f"offered_per_day.{group}"), 1),
                    _ci(member.kpis.get(f"throughput_per_day.{group}"), 1),
                    _percent_ci(member.kpis.get(f"cleared_share.{group}")),
                    _ci(member.kpis.get(f"backlog_growth_per_day.{group}"), 1),
                    "<b>saturated</b>" if group in member.saturated else "",
                ]
            )
    header = ["lane", "direction", *(["scenario"] if several else [])]
    header += ["offered / day", "cleared / day", "cleared share (%)", "backlog growth / day", ""]
    return _table(
        header,
        rows,
        "kpi flow several" if several else "kpi flow",
        "Offered against cleared, by lane and direction",
    )


def _lane_keys(results: Results) -> list[str]:
    keys: list[str] = []
    for member in results.members:
        for key in plots.lane_direction_keys(member.kpis):
            suffix = key[len("throughput_per_day.") :]
            lane = suffix.rsplit(".", 1)[0]
            for candidate in (f"throughput_per_day.{lane}", key):
                if candidate not in keys:
                    keys.append(candidate)
    ordered = []
    for prefix in (
        "throughput_per_day",
        "time_in_system_mean_h",
        "time_in_system_p95_h",
        "backlog_at_report_mean",
    ):
        ordered += [prefix + k[len("throughput_per_day") :] for k in keys]
    return ordered


SEASON_KPIS = ("throughput_per_day", "time_in_system_mean_h", "time_in_system_p95_h")


def _season_value_keys(results: Results) -> list[str]:
    """Trade-value KPIs, then each season's throughput, mean and p95 (in first-seen order)."""
    keys = ["value_cleared_musd_per_day", "value_delayed_musd_h_per_day"]
    seasons: list[str] = []
    for member in results.members:
        for key in member.kpis:
            base, _, season = key.partition(".season.")
            if season and base == "throughput_per_day" and season not in seasons:
                seasons.append(season)
    return keys + [f"{base}.season.{season}" for season in seasons for base in SEASON_KPIS]


IMPATIENCE_KPIS = (
    "reneged_per_day",
    "balked_per_day",
    "value_reneged_musd_per_day",
    "value_balked_musd_per_day",
)


def _impatience_keys(results: Results) -> list[str]:
    """The impatient-truck KPIs (all, and by lane and direction), then the mean waits of served
    and reneged trucks; none unless some scenario had a truck renege or balk."""
    if not any((m.kpis.get(k) or {}).get("mean") for m in results.members for k in IMPATIENCE_KPIS):
        return []
    groups = [""]
    for member in results.members:
        for key in plots.lane_direction_keys(member.kpis):
            group = key[len("throughput_per_day") :]
            if group not in groups:
                groups.append(group)
    keys = [base + group for base in IMPATIENCE_KPIS for group in groups]
    return [*keys, "wait_served_mean_min", "wait_reneged_mean_min"]


def _extra_kpi_keys(results: Results) -> list[str]:
    """The keys of the KPIs the scenarios list (``summary.json["extra_kpis"]``), first-seen."""
    keys: dict[str, None] = {}
    for member in results.members:
        for entry in member.summary.get("extra_kpis", {}).values():
            keys.update(dict.fromkeys(entry.get("keys", [])))
    return list(keys)


def _platform_keys(results: Results) -> list[str]:
    """The platform's KPI keys of every scenario shown (first-seen order)."""
    keys: dict[str, None] = {}
    for member in results.members:
        keys.update(dict.fromkeys(platform_keys(member.kpis)))
    return list(keys)


def _kpi_section(results: Results) -> str:
    header = ["KPI (mean [95 % CI] over replications)"] + [_esc(x) for x in results.labels]
    parts = [
        "<p>Each value is the mean over the replications with its 95 % Student-t confidence "
        "interval in brackets. Throughput and backlogs count the measured days after the "
        "warm-up.</p>",
        _table(header, _kpi_rows(results, HEADLINE), "kpi", "Headline KPIs"),
        _flow_table(results),
        _table(header, _kpi_rows(results, _lane_keys(results)), "kpi", "By lane and direction"),
        _table(header, _kpi_rows(results, EXTRA_KPIS), "kpi", "Distribution tails and costs"),
    ]
    extra = _kpi_rows(results, _extra_kpi_keys(results))
    if extra:
        parts.append(_table(header, extra, "kpi", "Extra KPIs the scenario lists (kpis:)"))
    impatient = _kpi_rows(results, _impatience_keys(results))
    if impatient:
        parts.append(_table(header, impatient, "kpi", "Impatient trucks: reneged and balked"))
    booked = _kpi_rows(results, slot_keys(k for m in results.members for k in m.kpis))
    if booked:
        parts.append(_table(header, booked, "kpi", "Booked arrival slots, by lane and direction"))
    seasonal = _kpi_rows(results, _season_value_keys(results))
    if seasonal:
        parts.append(_table(header, seasonal, "kpi", "Seasons and value of goods"))
    platform = _kpi_rows(results, _platform_keys(results))
    if platform:
        title = "Digital platform: deferral, diversion, registration, staging yards"
        parts.append(_table(header, platform, "kpi", title))
    if any(m.saturated for m in results.members):
        parts.append(GROWS_FOOTNOTE)
    return _section("kpis", "Key performance indicators", "\n".join(parts))


GROWS_FOOTNOTE = (
    f"<p class=note>† {GROWS_NOTE}: the figure counts trucks of a saturated lane and "
    "direction (see the warning at the top), whose queue has no steady state, so its value "
    "depends on how long the run was.</p>"
)


def _diff_keys(entry: Mapping[str, Any]) -> list[str]:
    diffs = entry.get("diff_vs_first") or {}
    main = [k for k in (*HEADLINE, *EXTRA_KPIS) if k in diffs]
    lanes = [k for k in diffs if "." in k and not k.startswith("station.") and k not in main]
    stations = [
        k
        for k in diffs
        if k.startswith("station.") and k.endswith((".utilization", ".wait_mean_min"))
    ]
    return main + lanes + stations


def _differences_section(results: Results) -> str:
    comparison = results.comparison or []
    if len(comparison) < 2:
        return ""
    base = results.members[0]
    first = base.label
    others = list(zip(results.labels[1:], comparison[1:], strict=True))
    header = ["KPI"] + [f"{_esc(label)} − {_esc(first)}" for label, _ in others]
    keys: list[str] = []
    for _, entry in others:
        keys += [k for k in _diff_keys(entry) if k not in keys]

    def rows(selected: Iterable[str]) -> list[list[str]]:
        out = []
        for key in selected:
            cells = [_esc(plots.kpi_label(key))]
            for member, (_, entry) in zip(results.members[1:], others, strict=True):
                stat = (entry.get("diff_vs_first") or {}).get(key)
                text = _ci(stat, _digits(key))
                text = f"<b>{text}</b>" if _excludes_zero(stat) else text
                cells.append(_marked(text, key, member.saturated, base.saturated))
            out.append(cells)
        return out

    headline = [k for k in keys if k in HEADLINE]
    rest = [k for k in keys if k not in HEADLINE]
    welch_rows = []
    for label, entry in others:
        for key, stat in (entry.get("diff_vs_first_unpaired") or {}).items():
            welch_rows.append(
                [
                    _esc(label),
                    _esc(plots.kpi_label(key)),
                    _num(stat.get("paired_ci95_width"), 3),
                    _num(stat.get("ci95_width"), 3),
                ]
            )
    body = [
        f"<p>Paired differences against <b>{_esc(first)}</b> under common random numbers: "
        "replication <i>r</i> of every scenario sees the same trucks, so each interval is a "
        "t-interval over the per-replication differences. <b>Bold</b>: the 95 % interval "
        "excludes 0.</p>",
        _table(header, rows(headline), "kpi diff", "Headline KPIs: paired differences"),
        "<details><summary>Lanes, directions, costs and stations (paired differences)</summary>",
        _table(header, rows(rest), "kpi diff"),
        "</details>",
    ]
    if welch_rows:
        body += [
            "<details><summary>Paired vs unpaired (Welch) interval widths</summary>",
            _table(["scenario", "KPI", "paired CI width", "Welch CI width"], welch_rows, "kpi"),
            "</details>",
        ]
    return _section("differences", "Paired differences", "\n".join(body))


# --------------------------------------------------------------------------- capacity
CAPACITY_TITLE = "What each scenario can carry (capacity)"


def compared_capacity(results: Results) -> dict[str, dict[str, Any]]:
    """``compare --capacity``: scenario label -> its ``capacity`` by ``<lane>.<direction>``;
    {} for a comparison run without it."""
    comparison = results.comparison or []
    if not any(entry.get("capacity") for entry in comparison):
        return {}
    return {
        label: dict(entry.get("capacity") or {})
        for label, entry in zip(results.labels, comparison, strict=True)
    }


def _ratio(value: Any) -> str:
    """A load ratio (offered / capacity) in percent, bold from 100 %."""
    if value is None or not math.isfinite(float(value)):
        return "–"
    text = _num(100 * float(value), 0)
    return f"<b>{text}</b>" if float(value) >= 1 else text


def _method_tag(method: Any, why: Any = None) -> str:
    """' <small>ramp</small>' after a capacity quoted from the demand ramp (its reason as the
    tooltip); nothing for saturated entry, the default."""
    if method != "ramp":
        return ""
    title = f' title="{_esc(why)}"' if why else ""
    return f' <small class="method"{title}>ramp</small>'


def _capacity_section(results: Results) -> str:
    """The quoted capacity per scenario, lane and direction, with the load ratio, the paired
    difference against the first scenario and the binding stations."""
    capacity = compared_capacity(results)
    if not capacity:
        return ""
    diffs = [entry.get("capacity_diff_vs_first") or {} for entry in results.comparison or []]
    groups: list[str] = []
    for flows in capacity.values():
        groups += [g for g in flows if g not in groups]
    rows = []
    for group in groups:
        lane, _, direction = group.rpartition(".")
        for i, label in enumerate(results.labels):
            cap = capacity[label].get(group)
            if cap is None:
                continue
            diff = diffs[i].get(group)
            text = _ci(diff, 1) if i else "–"
            rows.append(
                [
                    _esc(lane),
                    _esc(direction),
                    _esc(label),
                    _num(cap.get("offered_per_day"), 1),
                    _ci(cap, 1) + _method_tag(cap.get("method"), cap.get("agreement")),
                    _ratio(cap.get("load_ratio")),
                    f"<b>{text}</b>" if _excludes_zero(diff) else text,
                    ", ".join(f"<code>{_esc(b)}</code>" for b in cap.get("binding") or []),
                ]
            )
    first = _esc(results.labels[0])
    header = ["lane", "direction", "scenario", "offered / day", "capacity / day"]
    header += ["load ratio (%)", f"difference vs {first} (paired)", "binding stations"]
    body = [
        "<p>Capacity by <b>saturated entry</b>: every stream of a lane and direction arrives "
        "far faster than it can clear (flat over the day, in its own mix) into an unlimited "
        "entry queue, and the trucks it clears per measured day are its capacity (mean "
        "[95 % CI] across replications). A figure marked <small>ramp</small> is the "
        "<b>demand ramp</b>'s instead (the flow's own demand scaled up until its backlog "
        "grows), quoted where the two methods disagree; the reason shows on hovering over the "
        "mark, and <code>run_sim.py capacity</code> gives both. Load ratio: the trucks offered "
        "per day in the "
        "scenario's run over its capacity (bold from 100 %: demand at or above capacity). "
        f"The difference against <b>{first}</b> is paired (common random numbers); "
        "<b>bold</b>: the 95 % interval excludes 0. Binding stations: utilisation of 90 % or "
        "more, or a daily cap reached (the busiest always named).</p>",
        _table(header, rows, "kpi capacity-cmp", "Capacity by lane and direction (trucks/day)"),
    ]
    return _section("capacity", CAPACITY_TITLE, "\n".join(body))


def _sweep_section(results: Results) -> str:
    sweep = results.sweep
    if sweep is None:
        return ""
    axes = plots.sweep_axes(sweep)
    kpis = plots.sweep_kpis(sweep)
    header = ["point", *(_esc(a) for a in axes), "replications"]
    header += [_esc(plots.kpi_label(k)) for k in kpis]
    rows = []
    for member, (_, row) in zip(results.members, sweep.iterrows(), strict=True):
        cells = [_esc(row["point"]), *(_esc(_plain(row[a])) for a in axes)]
        cells.append(_esc(row.get("replications", "")))
        for kpi in kpis:
            stat = {"mean": row[f"{kpi}_mean"], "ci95": [row[f"{kpi}_lo"], row[f"{kpi}_hi"]]}
            stat = {
                "mean": None if pd.isna(stat["mean"]) else stat["mean"],
                "ci95": [None if pd.isna(v) else v for v in stat["ci95"]],
            }
            cells.append(_marked(_ci(stat, _digits(kpi)), kpi, member.saturated))
        rows.append(cells)
    body = (
        f"<p>Full-factorial sweep over {', '.join(f'<code>{_esc(a)}</code>' for a in axes)}; "
        "all points share the seed (common random numbers). Mean [95 % CI].</p>"
        + _table(header, rows, "kpi", "sweep.csv")
        + (GROWS_FOOTNOTE if any(m.saturated for m in results.members) else "")
    )
    return _section("sweep", "Sweep", body)


def _plan_section(results: Results) -> str:
    """What ``plan`` found: the verdict, every configuration simulated and the bottleneck."""
    plan = results.plan
    if plan is None:
        return ""

    def show(values: Mapping[str, Any] | None) -> str:
        return _esc(", ".join(f"{k} = {v}" for k, v in (values or {}).items()))

    reported = plan.get("chosen") or plan.get("best") or {}
    values, cost = show(reported.get("values")), _num(reported.get("cost"), 0)
    if plan.get("found"):
        lead = f"<b>Chosen: {values}</b> (cost {cost}), the cheapest configuration that meets"
    else:
        lead = f"<b>{_esc(plan.get('result', ''))}</b>; best point found: {values} (cost {cost}),"
        lead += " against"
    targets = [str(t) for t in plan.get("targets", [])]
    confidence = _num(100 * float(plan.get("confidence_one_sided", 0.95)), 0)
    parts = [
        f"<p>{lead} the targets {', '.join(f'<code>{_esc(t)}</code>' for t in targets)} with "
        f"{confidence} % one-sided confidence; {_num(plan.get('simulations'), 0)} replications "
        f"over {_num(plan.get('points_evaluated'), 0)} configurations.</p>",
        _plan_points_table(plan, targets),
    ]
    for neighbour in plan.get("failing_neighbours") or []:
        how = (
            "simulated"
            if neighbour.get("evaluated")
            else f"implied by {show(neighbour.get('implied_by'))}, which fails"
        )
        parts.append(
            f"<p class=note>One step lower in {_esc(neighbour.get('dimension'))}: "
            f"{show(neighbour.get('values'))} fails ({how}).</p>"
        )
    parts.append(_bottleneck_table(plan.get("bottleneck")))
    return _section("plan", "Capacity search", "\n".join(parts))


def _plan_points_table(plan: Mapping[str, Any], targets: Sequence[str]) -> str:
    dims = [str(d["path"]) for d in plan.get("dimensions", [])]
    rows = []
    for point in plan.get("points", []):
        by_target = {t.get("target"): t for t in point.get("targets", [])}
        cells = [_num(point.get("order"), 0)]
        cells += [_esc(point.get("values", {}).get(d)) for d in dims]
        cells += [_num(point.get("cost"), 0), _num(point.get("replications"), 0)]
        for target in targets:
            t = by_target.get(target) or {}
            cells.append(
                f"{_num(t.get('mean'), 2)} <small>[{_num(t.get('low'), 2)}, "
                f"{_num(t.get('high'), 2)}]</small>"
            )
        cells.append(_esc(point.get("verdict", "")))
        rows.append(cells)
    header = ["#", *map(_esc, dims), "cost", "replications", *map(_esc, targets), "verdict"]
    return _table(
        header,
        rows,
        caption="Every configuration simulated, in order; each target's mean and one-sided "
        "95 % bounds [low, high] over the replications.",
    )


def _bottleneck_table(neck: Mapping[str, Any] | None) -> str:
    if not neck:
        return ""

    def row(where: str, entry: Mapping[str, Any]) -> list[str]:
        utilisation, wait = entry["utilization"], entry.get("wait_mean_min")
        return [_esc(where), _esc(entry["station"]), _num(utilisation, 3), _num(wait, 1)]

    rows = [row("whole gate", neck)] + [
        row(f"lane {p['part']}", p) for p in neck.get("by_part", [])
    ]
    return _table(
        ["where", "busiest station", "utilisation", "mean wait (min)"],
        rows,
        caption="Bottleneck at the reported point: the station with the highest mean "
        "utilisation, gate-wide and in each independent lane.",
    )


def _station_labels(results: Results) -> dict[str, dict[str, str]]:
    """Station name -> its ``labels`` (en, vi, zh) from the members' resolved scenarios."""
    found: dict[str, dict[str, str]] = {}
    for member in results.members:
        for name, spec in ((member.resolved or {}).get("stations") or {}).items():
            labels = spec.get("labels") if isinstance(spec, dict) else None
            if labels:
                found.setdefault(str(name), {str(k): str(v) for k, v in labels.items()})
    return found


def _station_name_cell(name: str, labels: Mapping[str, str] | None) -> str:
    """The station's ID, then its name in the report's language and, when it has one, in
    Chinese."""
    cell = f"<code>{_esc(name)}</code>"
    shown = readable(labels, "")
    if shown:
        cell += f"<br><small>{_esc(shown)}</small>"
    if labels and labels.get("zh"):
        cell += f'<br><small lang="zh">{_esc(labels["zh"])}</small>'
    return cell


def _station_section(results: Results) -> str:
    parts = [
        "<p>Means over replications with 95 % CIs. Utilisation counts opening hours only; "
        "yards (staging areas) also report the spill-back of the queue onto the approach "
        "road.</p>"
    ]
    for i, member in enumerate(results.members):
        stations = member.summary.get("stations") or {}
        resolved_stations = (member.resolved or {}).get("stations", {})
        rows = []
        for name, row in stations.items():
            cells = [
                _station_name_cell(name, resolved_stations.get(name, {}).get("labels")),
                _esc(resolved_stations.get(name, {}).get("type", "")),
                _num(row.get("servers"), 0),
                _num(
                    (row.get("arrived_measured") or 0) / member.measured_days
                    if member.measured_days > 0
                    else None,
                    1,
                ),
            ]
            for stat in STATION_STATS:
                key = f"station.{name}.{stat}"
                digits = 3 if stat == "utilization" else (0 if stat == "queue_max" else 1)
                idle = stat == "utilization" and not (row.get("arrived_measured") or 0) > 0
                stat_cell = _ci(member.kpis.get(key) or {"mean": row.get(stat)}, digits)
                cells.append('<span class="idle">no trucks</span>' if idle else stat_cell)
            km = row.get("spillback_km_max")
            cells.append(_num(km, 2) if km is not None else "")
            rows.append(cells)
        header = [
            "station",
            "type",
            "servers",
            "arrivals / day",
            "utilisation",
            "wait, mean (min)",
            "queue, mean",
            "queue, max",
            "spill-back, max (km)",
        ]
        table = _table(header, rows, "stations")
        is_open = " open" if i == 0 and len(results.members) == 1 else ""
        parts.append(
            f"<details{is_open}><summary>{_esc(member.label)}: {len(rows)} stations"
            f"</summary>\n{table}</details>"
        )
    return _section("stations", "Stations", "\n".join(parts))


def _assumption_lines(scenario_file: str | None, roots: Sequence[Path]) -> list[tuple[str, str]]:
    """The ``[a]``-tagged lines of a scenario file and the files it extends (as now on disk)."""
    if not scenario_file:
        return []
    path = next(
        ((root / scenario_file) for root in roots if (root / scenario_file).is_file()),
        None,
    )
    lines: list[tuple[str, str]] = []
    seen: set[Path] = set()
    while path is not None and path.is_file() and path.resolve() not in seen and len(seen) < 10:
        seen.add(path.resolve())
        text = path.read_text(encoding="utf-8", errors="replace")
        lines += [(path.name, ln.strip()) for ln in text.splitlines() if "[a" in ln]
        match = re.search(r"^extends:\s*['\"]?([^'\"\s#]+)", text, re.MULTILINE)
        path = (path.parent / match.group(1)) if match else None
    return lines


def _scenarios_section(results: Results) -> str:
    rows = []
    for member in results.members:
        s = member.summary
        resolved = member.resolved or {}
        rows.append(
            [
                f"<b>{_esc(member.label)}</b>",
                _esc(s.get("description") or resolved.get("description", "")),
                _esc(s.get("days", "")),
                _esc((s.get("warmup") or {}).get("days", s.get("warmup_days", ""))),
                _esc(s.get("replications", "")),
                _esc(s.get("seed", "")),
                _esc(resolved.get("demand_scale", "")),
                _esc(member.scenario_file or ""),
            ]
        )
    header = [
        "scenario",
        "description",
        "days",
        "warm-up (days)",
        "replications",
        "seed",
        "demand scale",
        "file",
    ]
    body = [_table(header, rows, "scenarios")]
    body += _assumption_blocks([m.scenario_file or "" for m in results.members])
    return _section("scenarios", "Scenarios and assumptions", "\n".join(body))


def _assumption_blocks(scenario_files: Sequence[str]) -> list[str]:
    """A collapsible list of the ``[a]`` lines of each scenario file (once per file), and the
    note on where they come from."""
    roots = [Path.cwd(), Path(__file__).resolve().parents[2]]
    blocks = []
    for scenario_file in dict.fromkeys(f for f in scenario_files if f):
        lines = _assumption_lines(scenario_file, roots)
        if not lines:
            continue
        items = "".join(f"<li><code>{_esc(f)}</code>: {_esc(t)}</li>" for f, t in lines)
        blocks.append(
            f"<details><summary>Assumed values ([a]) in <code>{_esc(scenario_file)}"
            f"</code> and the files it extends ({len(lines)})</summary><ul>{items}</ul>"
            "</details>"
        )
    blocks.append(
        "<p class=note>The [a] lines are read from the scenario files as they are on disk "
        "when the report is written; the resolved scenario stored in each manifest is the "
        f"authoritative input of the run. {_esc(MODEL_NOTE)}</p>"
    )
    return blocks


def _manifest_section(results: Results) -> str:
    top = results.manifest
    env_keys: tuple[tuple[str, Any], ...] = (
        ("kind", results.kind),
        ("gatesim version", top.get("gatesim_version")),
        ("libraries", ", ".join(f"{k} {v}" for k, v in (top.get("versions") or {}).items())),
        ("Python", top.get("python")),
        ("platform", top.get("platform")),
        ("git commit", top.get("git_commit")),
        ("executor", f"{top.get('executor', '')} (jobs {top.get('jobs', '')})"),
        ("wall time (s)", top.get("wall_seconds")),
        ("command", " ".join(str(c) for c in top.get("command") or [])),
        ("design", json.dumps(top.get("design"))),
    )
    if results.kind == "capacity":  # no runs: no design, one scenario hash
        env_keys = (*env_keys[:-1], ("scenario hash", top.get("scenario_hash")))
    body = [_table(["field", "value"], [[_esc(k), _esc(v)] for k, v in env_keys], "manifest")]
    body.append(_member_manifest_table(results.members))
    files = sorted(
        p.relative_to(results.path).as_posix()
        for p in results.path.rglob("*")
        if p.is_file() and p.name != REPORT_NAME
    )
    body.append(
        "<details><summary>Files in the result folder</summary><ul>"
        + "".join(f"<li><code>{_esc(f)}</code></li>" for f in files)
        + "</ul></details>"
    )
    return _section("manifest", "Reproducibility (manifest)", "\n".join(body))


def _member_manifest_table(members: Sequence[Member]) -> str:
    """Per scenario: hash, seed, replications and their seed material, warm-up, replication
    control and resumed replications ("" for a folder without runs)."""
    rows = []
    for member in members:
        m = member.manifest
        seeds = m.get("replication_seeds") or []
        seed_text = ", ".join(
            f"{s.get('replication')}: {s.get('seed_material')}"
            for s in seeds
            if isinstance(s, dict)
        )
        rows.append(
            [
                _esc(member.label),
                f"<code>{_esc(m.get('scenario_hash', ''))}</code>",
                _esc(m.get("seed", member.summary.get("seed", ""))),
                _esc(m.get("replications", member.summary.get("replications", ""))),
                _esc(seed_text),
                _esc(json.dumps(m.get("warmup", member.summary.get("warmup")))),
                _esc(json.dumps(m.get("replication_control"))),
                _esc(m.get("resumed_replications", "")),
            ]
        )
    if not rows:
        return ""
    header = ["scenario", "scenario hash (SHA-256 of the resolved scenario)", "seed"]
    header += ["replications", "replication seed material", "warm-up", "replication control"]
    return _table([*header, "resumed"], rows, "manifest")


# --------------------------------------------------------------------------- figures
@dataclass
class FigureSpec:
    anchor: str
    title: str
    caption: str
    build: Callable[[], Any] | None
    #: One line shown instead of the figure (``build`` is then None).
    note: str = ""


CAPACITY_CAPTION = (
    "; the hollow dash-outlined bars reach each scenario's capacity by saturated entry "
    "(dotted outline: the demand ramp's, where that is the figure quoted), with its 95 % CI "
    "whisker right of the bar centre (all lanes: the sum of the flows' capacities, no "
    "interval), so the gap between a bar and its outline is the headroom"
)

#: Runs shorter than this show no per-day figure (the hourly profile says more).
DAILY_FIGURE_MIN_DAYS = 28


def _daily_tables(results: Results) -> dict[str, pd.DataFrame]:
    """Per-date cleared trucks of every member, or {} for short runs or missing files."""
    tables = {}
    for member in results.members:
        daily, resolved = member.table("daily_cleared.csv"), member.resolved or {}
        if daily is None or int(resolved.get("days", 0)) < DAILY_FIGURE_MIN_DAYS:
            return {}
        tables[member.label] = plots.daily_cleared_by_date(
            daily, resolved["start_date"], float(resolved.get("warmup_days", 0.0))
        )
    return tables


def _sweep_specs(results: Results, targets: Mapping[str, float]) -> list[FigureSpec]:
    """The sweep-curve figure, for a sweep with its sweep table."""
    if results.kind != "sweep" or results.sweep is None:
        return []
    lanes = [
        k
        for k in results.members[0].kpis
        if k.startswith("throughput_per_day.")
        and k.count(".") == 1
        and not k.startswith(("throughput_per_day.direction", "throughput_per_day.cargo"))
    ]
    sweep = extended_sweep(results, [*lanes, *targets])
    return [
        FigureSpec(
            "fig-sweep",
            "Sweep curves",
            "Each headline KPI against the swept value, mean and 95 % band across "
            "replications" + (" with the target line." if targets else "."),
            lambda: plots.sweep_figure(sweep, targets=targets),
        )
    ]


def _throughput_specs(
    results: Results, targets: Mapping[str, float], colors: dict[str, str]
) -> list[FigureSpec]:
    """The throughput bar chart, with the capacity marks and the hatched baseline."""
    members = results.members
    baseline = results.labels[0] if results.kind in ("compare", "sweep") else None
    capacity = compared_capacity(results)
    return [
        FigureSpec(
            "fig-throughput",
            "Throughput",
            "Trucks cleared per day (measured days), all lanes and by lane and direction, "
            "with 95 % confidence intervals; the dark dashes mark the trucks offered per day "
            "(mean), so a bar below its dash is a lane that does not clear its demand"
            + (CAPACITY_CAPTION if capacity else "")
            + (
                f"; the first scenario ({_esc(baseline)}) is the baseline, hatched."
                if baseline
                else "."
            ),
            lambda: plots.throughput_figure(
                {m.label: m.kpis for m in members},
                baseline=baseline,
                colors=colors,
                target=targets.get("throughput_per_day"),
                capacity=capacity or None,
            ),
        )
    ]


def _daily_specs(results: Results, colors: dict[str, str]) -> list[FigureSpec]:
    """The per-calendar-day figure, when the daily tables are there."""
    daily = _daily_tables(results)
    if not daily:
        return []
    return [
        FigureSpec(
            "fig-daily",
            "Days of the run",
            "Trucks cleared per calendar day after the warm-up: mean over replications"
            " with its min-max band and 7-day rolling mean (seasons, closures, weekends).",
            lambda: plots.daily_figure(daily, colors=colors),
        )
    ]


def _hourly_specs(results: Results, colors: dict[str, str]) -> list[FigureSpec]:
    """The hour-of-day profiles, when every member has its hourly summary: one chart, or
    beyond :data:`plots.SMALL_MULTIPLES_FROM` - 1 scenarios one small panel per scenario."""
    members = results.members
    hourly = {m.label: m.table("hourly_summary.csv") for m in members}
    if not all(t is not None for t in hourly.values()):
        return []
    tables = {k: v for k, v in hourly.items() if v is not None}
    timezone = str((members[0].resolved or {}).get("timezone", "UTC+07:00"))
    caption = (
        "by hour of day (averaged over the measured days), mean and 95 % band across replications."
    )
    if len(tables) < plots.SMALL_MULTIPLES_FROM:
        return [
            FigureSpec(
                "fig-hourly",
                "Hourly profiles",
                f"Trucks cleared per hour and trucks in the system {caption}",
                lambda: plots.hourly_figure(tables, colors=colors, timezone=timezone),
            )
        ]
    return [
        FigureSpec(
            f"fig-hourly-{measure}",
            title,
            f"{title} {caption} One panel per scenario; the first scenario in grey in each.",
            functools.partial(
                plots.hourly_small_multiples, tables, measure, colors=colors, timezone=timezone
            ),
        )
        for measure, (_, title) in plots.HOURLY_MEASURES.items()
    ]


def _time_in_system_specs(results: Results, colors: dict[str, str]) -> list[FigureSpec]:
    """The time-in-system CDF, when every member kept its trucks.parquet."""
    members = results.members
    if not all((m.folder / "trucks.parquet").is_file() for m in members):
        return []

    def tis() -> Any:
        samples = {}
        p95 = {}
        for m in members:
            trucks = pd.read_parquet(
                m.folder / "trucks.parquet",
                columns=["outcome", "created_min", "cleared_min"],
            )
            samples[m.label] = plots.time_in_system_hours(
                trucks, float(m.summary.get("warmup_days", 0))
            )
            p95[m.label] = plots.kpi_stat(m.kpis, "time_in_system_p95_h")
        return plots.time_in_system_figure(samples, p95, colors=colors)

    return [
        FigureSpec(
            "fig-tis",
            "Time in system",
            "Empirical CDF of the time in system of the trucks created after the warm-up "
            "(pooled over replications, from trucks.parquet); the dot with error bar is the "
            "p95 KPI (mean over replications, 95 % CI).",
            tis,
        )
    ]


def _utilisation_specs(results: Results) -> list[FigureSpec]:
    """The station-utilisation heatmap, when every member has its stations table."""
    stations = {m.label: m.table("stations.csv") for m in results.members}
    if not all(t is not None for t in stations.values()):
        return []
    present = {k: v for k, v in stations.items() if v is not None}
    names = _station_labels(results)

    def heatmap() -> Any:
        def rename(name: Any) -> str:
            return readable(names.get(str(name)), str(name))

        return plots.utilisation_heatmap(
            plots.utilisation_table(present).rename(index=rename),
            idle=plots.idle_stations(present).rename(index=rename),
        )

    return [
        FigureSpec(
            "fig-utilisation",
            "Station utilisation",
            "Mean utilisation of every station (busy servers over servers during opening "
            "hours), stations by scenario; grey: the scenario has no such station, or "
            "marked no trucks: no truck reached it after the warm-up.",
            heatmap,
        )
    ]


NETWORK_CAPTION = (
    "The road network from the run's network_nodes.csv and network_edges.csv, VN side left "
    "and CN side right, one band per lane. Roads to and from a station carry that station's "
    "arrivals per measured day; other roads the model's expected trucks per day (arrival "
    "means times route shares). Yards are ringed; a solid ring and label give the spill-back "
    "onto the approach road (mean over replications of the maximum, km). Every network "
    "figure of this report draws road widths on one scale; stations without trucks are grey."
)


def _network_specs(results: Results) -> list[FigureSpec]:
    """One lane-network figure per member (only the ends of a long sweep), drawn from its
    network tables; one line instead for members written before runs wrote those tables."""
    members = results.members
    network_members = members
    if results.kind == "sweep" and len(members) > SWEEP_NETWORKS:
        network_members = [members[0], members[-1]]
    specs: list[FigureSpec] = []
    older: list[str] = []
    drawn = []
    for member in network_members:
        table = member.table("stations.csv")
        if table is None:
            continue
        tables = read_network_tables(member.folder)
        if tables is None:
            older.append(member.label)
            continue
        drawn.append((member, table, tables))
    # One road-width scale across the figures: the busiest road of any of them.
    peak = max((road_peak(t, s, m.measured_days) for m, s, t in drawn), default=0.0)
    for i, (member, table, tables) in enumerate(drawn):

        def network(
            member: Member = member, table: pd.DataFrame = table, tables: NetworkTables = tables
        ) -> Any:
            return network_figure(
                tables,
                table,
                member.measured_days,
                title=f"{member.label}: road width = trucks/day, node colour = utilisation",
                peak=peak,
            )

        specs.append(
            FigureSpec(
                f"fig-network-{i}", f"Lane network: {member.label}", NETWORK_CAPTION, network
            )
        )
    if older:
        specs.append(_older_network_note(older))
    return specs


def _older_network_note(labels: Sequence[str]) -> FigureSpec:
    """The one line that stands in for the network figures of results without its tables."""
    return FigureSpec(
        "fig-network-missing",
        f"Lane network: {', '.join(labels)}",
        "",
        None,
        note=f"not drawn: the results predate {' and '.join(NETWORK_TABLES)}; "
        "run the scenario again with this gatesim to draw the network",
    )


def _figure_specs(results: Results, targets: Mapping[str, float]) -> list[FigureSpec]:
    colors = plots.scenario_colors(results.labels)
    return [
        *_sweep_specs(results, targets),
        *_throughput_specs(results, targets, colors),
        *_daily_specs(results, colors),
        *_hourly_specs(results, colors),
        *_time_in_system_specs(results, colors),
        *_utilisation_specs(results),
        *_queue_specs(results),
        *_network_specs(results),
    ]


QUEUES_CAPTION = (
    "Trucks waiting in each station's queue at the top of every hour of the run, mean over "
    "replications (queues_over_time.csv; stations whose queue is never empty at an hour are "
    "left out). Dark cells show where and when trucks pile up; the dashed line ends the warm-up."
)
SPILLBACK_CAPTION = (
    "Queue on each staging yard's approach road at the top of every hour (km: trucks on the "
    "road × spacing / road lanes), mean over replications with its 95 % interval shaded."
)


def _queue_specs(results: Results) -> list[FigureSpec]:
    """A queue heat map per member, and its yards' spill-back over time (the first
    ``SWEEP_NETWORKS`` members of a sweep only)."""
    members = results.members
    if results.kind == "sweep" and len(members) > SWEEP_NETWORKS:
        members = [members[0], members[-1]]
    specs: list[FigureSpec] = []
    for i, member in enumerate(members):
        table = member.table(QUEUES_TABLE)
        if table is None:
            continue
        label = member.label
        heat = partial(queue_heatmap, table, f"{label}: trucks waiting, by hour")
        specs.append(
            FigureSpec(f"fig-queues-{i}", f"Queues over time: {label}", QUEUES_CAPTION, heat)
        )
        if yards_of(table):
            spill = partial(spillback_figure, table, f"{label}: spill-back")
            title = f"Spill-back over time: {label}"
            specs.append(FigureSpec(f"fig-spillback-{i}", title, SPILLBACK_CAPTION, spill))
    return specs


def _render_figure(spec: FigureSpec) -> str:
    if spec.build is None:
        return (
            f'<figure id="{spec.anchor}" class="missing"><figcaption><b>{_esc(spec.title)}'
            f"</b>: {_esc(spec.note)}</figcaption></figure>"
        )
    try:
        fig = spec.build()
        data = plots.figure_bytes(fig, "png", dpi=100)
    except Exception as exc:  # a figure that cannot be drawn must not sink the report
        return (
            f'<figure id="{spec.anchor}" class="missing"><figcaption><b>{_esc(spec.title)}'
            f"</b>: not drawn ({_esc(type(exc).__name__)}: {_esc(exc)})</figcaption></figure>"
        )
    encoded = base64.b64encode(data).decode("ascii")
    return (
        f'<figure id="{spec.anchor}"><img alt="{_esc(spec.title)}" '
        f'src="data:image/png;base64,{encoded}">'
        f"<figcaption><b>{_esc(spec.title)}.</b> {spec.caption}</figcaption></figure>"
    )


# --------------------------------------------------------------------------- capacity folder
CAPACITY_METHOD_NOTE = (
    "<p><b>Saturated entry</b>: every stream of the lane and direction arrives far faster than "
    "it can clear (flat over the day, in its own mix, no seasons) into an unlimited entry "
    "queue; the trucks cleared per measured day are the capacity. <b>Demand ramp</b>: the "
    "flow's own demand (profile and calendar kept) is scaled up until its backlog grows; the "
    "capacity is the clearance rate at the largest load that does not grow (the factors "
    "bracket it, × today's demand). Both are mean [95 % CI] across replications, with every "
    "flow loaded at once. <b>Agree</b>: the saturated interval meets the ramp's bracket. "
    "<b>Quoted</b>: the capacity <code>capacity.json</code> quotes, by saturated entry unless "
    "marked <small>ramp</small> (the ramp's where it is the only answer or the methods "
    "disagree; docs/experiments.md gives the rule); whole gate: the sum of the flows'. Load "
    "ratio: today's offered trucks over the quoted capacity (bold from 100 %). "
    "Binding stations: utilisation in opening hours of 90 % or more, or a daily cap reached "
    "(the busiest always named). The gate's saturated interval comes from the per-replication "
    "sums; its ramp interval sums the flows' bounds (conservative).</p>"
)


def _capacity_page(results: Results) -> str:
    """The page of a capacity folder: the capacity table, its figure, the scenario and the
    manifest."""
    document = results.capacity or {}
    scenario = str(document.get("scenario", results.path.name))
    methods = ", ".join(str(m) for m in document.get("methods") or [])
    subtitle = (
        f"capacity measurement in {results.path.name} · {document.get('days', '?')} days, "
        f"warm-up {document.get('warmup_days', '?')} days, "
        f"{document.get('replications', '?')} replications, seed {document.get('seed', '?')}, "
        f"methods: {methods or '?'} · {_written()}"
    )
    figure = _render_figure(
        FigureSpec(
            "fig-capacity",
            "Capacity by method",
            "Capacity of the whole gate and of each lane and direction by saturated entry "
            "(blue) and demand ramp (orange, hatched), mean with 95 % CI whiskers; the dark "
            "dash marks the trucks offered per day today. <i>no answer</i>: the method was "
            "not run or found no load that does not grow.",
            lambda: plots.capacity_figure(document),
        )
    )
    sections = [
        ("capacity", "Capacity by lane and direction", _capacity_flows_section(document)),
        ("figures", "Figures", _section("figures", "Figures", figure)),
        ("scenarios", "Scenario and assumptions", _capacity_scenario_section(results)),
        ("manifest", "Reproducibility (manifest)", _manifest_section(results)),
    ]
    return _page(results, f"gatesim report: capacity of {scenario}", subtitle, sections)


def _capacity_flows_section(document: Mapping[str, Any]) -> str:
    header = ["lane", "direction", "offered / day", "saturated entry", "demand ramp", "agree"]
    header += ["quoted", "load ratio (%)", "binding stations (utilisation)", "note"]
    flows = document.get("flows") or []
    rows = [_capacity_flow_row(flow) for flow in flows]
    gate = document.get("gate") or {}
    offered = gate.get("offered_per_day")
    quoted = [flow.get("capacity") for flow in flows]
    total = math.fsum(quoted) if quoted and None not in quoted else None
    ratio = offered / total if offered is not None and total else None
    gate_cells = [_ci(gate.get("saturated"), 1), _ci(gate.get("ramp"), 1), ""]
    gate_cells += [_num(total, 1), _ratio(ratio), "", ""]
    rows.append(["<b>whole gate</b>", "both", _num(offered, 1), *gate_cells])
    lane = document.get("lane")
    restricted = f"<p class=note>Lane {_esc(lane)} only: the others got no trucks.</p>"
    return _section(
        "capacity",
        "Capacity by lane and direction",
        CAPACITY_METHOD_NOTE
        + (restricted if lane else "")
        + _table(header, rows, "kpi capacity", "Capacity (trucks per day, mean [95 % CI])"),
    )


def _capacity_flow_row(flow: Mapping[str, Any]) -> list[str]:
    """One lane and direction of ``capacity.json`` as table cells."""
    ramp = _ci(flow.get("ramp"), 1)
    factors = flow.get("ramp_factors")
    if factors and len(factors) == 2:
        ramp += f"<br><small>stable at ×{_num(factors[0], 2)}, grows at ×{_num(factors[1], 2)}"
        ramp += "</small>"
    agree = {"True": "yes", "False": "<b>no</b>"}.get(str(flow.get("agree")), "–")
    notes = []
    if flow.get("agree") is False:
        notes.append(str(flow.get("agreement", "")))
    if flow.get("ramp_note") and flow.get("ramp_note") not in notes:
        notes.append(str(flow["ramp_note"]))
    behind = [
        f"{b.get('station')} {_num(100 * float(b.get('started_share', math.nan)), 0)} %"
        for b in flow.get("behind_under_saturation") or []
    ]
    if behind:
        notes.append("share of arrivals started under saturated entry: " + ", ".join(behind))
    return [
        _esc(flow.get("lane", "")),
        _esc(flow.get("direction", "")),
        _num(flow.get("offered_per_day"), 1),
        _ci(flow.get("saturated"), 1),
        ramp,
        agree,
        _num(flow.get("capacity"), 1) + _method_tag(flow.get("capacity_method")),
        _ratio(flow.get("load_ratio")),
        "<br>".join(_binding_cell(b) for b in flow.get("binding") or []),
        "<br>".join(_esc(n) for n in notes if n),
    ]


def _binding_cell(station: Mapping[str, Any]) -> str:
    utilisation = station.get("utilization")
    text = f"<code>{_esc(station.get('station', ''))}</code>"
    if utilisation is not None:
        text += f" {_num(100 * float(utilisation), 0)} %"
    capped = station.get("capped_days") or 0
    return text + (f", capped on {_num(capped, 1)} days" if capped else "")


def _capacity_scenario_section(results: Results) -> str:
    """The measured scenario: its settings, description and assumed values."""
    document = results.capacity or {}
    resolved = results.manifest.get("resolved_scenario") or {}
    scale = document.get("scale_range") or []
    fields = (
        ("scenario", document.get("scenario")),
        ("description", resolved.get("description") if isinstance(resolved, dict) else None),
        ("file", document.get("scenario_file")),
        ("days", document.get("days")),
        ("warm-up (days)", document.get("warmup_days")),
        ("replications", document.get("replications")),
        ("seed", document.get("seed")),
        ("methods", ", ".join(str(m) for m in document.get("methods") or [])),
        ("ramp resolution", document.get("resolution")),
        ("ramp factor range", " – ".join(str(v) for v in scale)),
        ("lane", document.get("lane") or "all"),
    )
    rows = [[_esc(k), _esc(v)] for k, v in fields if v not in (None, "")]
    body = [_table(["field", "value"], rows, "scenarios")]
    body += _assumption_blocks([str(document.get("scenario_file") or "")])
    return _section("scenarios", "Scenario and assumptions", "\n".join(body))


# --------------------------------------------------------------------------- page
def _warnings_banner(results: Results) -> str:
    """The saturated lanes at the top of the page: per scenario (or sweep point) when the
    folder holds several."""
    flagged = [(m.label, warning_messages(m.summary)) for m in results.members]
    flagged = [(label, messages) for label, messages in flagged if messages]
    if not flagged:
        return ""

    def items(messages: Sequence[str]) -> str:
        return "".join(f"<li>{_esc(text)}</li>" for text in messages)

    if len(results.members) == 1:
        listing = f"<ul>{items(flagged[0][1])}</ul>"
    else:
        listing = (
            "<ul>"
            + "".join(
                f"<li><b>{_esc(label)}</b><ul>{items(messages)}</ul></li>"
                for label, messages in flagged
            )
            + "</ul>"
        )
    return (
        '<div class="warning-banner" role="alert" id="saturation-warnings">'
        "<p><b>Warning: saturated lanes.</b> Demand exceeds what these lanes clear, so their "
        "queues grow through the run and their times in system grow with run length (marked "
        "† in the tables): they describe this run length only. The throughput figure shows "
        f"the trucks offered beside those cleared.</p>{listing}</div>\n"
    )


CSS = """
:root { --ink: #1b1b1b; --muted: #5a5a5a; --line: #d9d9d9; --band: #f5f6f7; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
  margin: 0 auto; max-width: 1400px; padding: 1.2rem 2rem 4rem; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid var(--line); padding-bottom: .2rem;
  margin-top: 2.2rem; }
.sub { color: var(--muted); margin-top: 0; }
nav ol { columns: 2; padding-left: 1.2rem; }
nav a, a { color: #0b5cad; }
.scroll { overflow-x: auto; margin: .6rem 0 1rem; }
table { border-collapse: collapse; font-size: .86rem; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; }
th, td { border: 1px solid var(--line); padding: .25rem .5rem; vertical-align: top; }
th { background: var(--band); text-align: left; }
table.kpi td:not(:first-child), table.stations td:nth-child(n+3) { text-align: right;
  white-space: nowrap; }
td small { color: var(--muted); }
figure { margin: 1.2rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .9rem; max-width: 70rem; }
figure.missing { border: 1px dashed #c00; padding: .5rem; }
details { margin: .5rem 0; }
summary { cursor: pointer; font-weight: bold; }
code { font-size: .85em; }
.note { color: var(--muted); font-size: .9rem; }
.warning-banner { background: #fff4d6; border: 1px solid #e6b400; border-left: 6px solid #E69F00;
  padding: .4rem 1rem; margin: 1rem 0; }
.warning-banner p { margin: .4rem 0; }
sup.grows { color: #a05a00; font-weight: bold; }
table.flow td:nth-child(2), table.flow.several td:nth-child(3) { text-align: left; }
table.capacity td:nth-child(-n+2), table.capacity td:nth-last-child(-n+2),
table.capacity-cmp td:nth-child(-n+3), table.capacity-cmp td:last-child { text-align: left; }
table.capacity td:last-child, table.capacity-cmp td:last-child { white-space: normal;
  min-width: 14rem; }
.idle { color: #888; font-style: italic; }
@media print { nav { display: none; } details { display: block; } }
"""


def render_report(results: Results, targets: Mapping[str, float] | None = None) -> str:
    """The complete HTML page for a loaded result folder."""
    if results.kind == "capacity":
        return _capacity_page(results)
    if results.kind == "sensitivity":
        from gatesim.report.sensitivity_html import sensitivity_page  # it uses this module

        return sensitivity_page(results)
    if results.kind == "draws":
        from gatesim.report.draws_html import draws_page  # it uses this module

        return draws_page(results)
    targets = dict(targets or {})
    kind_text = {
        "run": tr("single scenario"),
        "compare": f"comparison of {len(results.members)} scenarios",
        "sweep": f"sweep of {len(results.members)} points",
        "plan": "capacity plan (the runs below are its reported point)",
    }[results.kind]
    title = f"{tr('gatesim report')}: {results.path.name}"
    first = results.members[0].summary
    subtitle = (
        f"{kind_text} · {first.get('days', '?')} days, warm-up "
        f"{first.get('warmup_days', '?')} days, {first.get('replications', '?')} replications, "
        f"seed {first.get('seed', '?')} · {_written()}"
    )
    sections = [
        ("plan", "Capacity search", _plan_section(results)),
        ("scenarios", "Scenarios and assumptions", _scenarios_section(results)),
        ("differs", DIFFERS_TITLE, _differs_section(results)),
        ("kpis", "Key performance indicators", _kpi_section(results)),
        ("capacity", CAPACITY_TITLE, _capacity_section(results)),
        ("differences", "Paired differences", _differences_section(results)),
        ("sweep", "Sweep", _sweep_section(results)),
    ]
    figures = "\n".join(_render_figure(s) for s in _figure_specs(results, targets))
    sections.append(("figures", "Figures", _section("figures", "Figures", figures)))
    sections.append(("replay", "Replay", replay_section(results.path)))
    sections.append(("stations", "Stations", _station_section(results)))
    sections.append(("glossary", "KPI glossary", _glossary_section(results)))
    sections.append(("manifest", "Reproducibility (manifest)", _manifest_section(results)))
    return _page(results, title, subtitle, sections)


DIFFERS_TITLE = "What differs from the first scenario"


def _differs_section(results: Results) -> str:
    """Per member after the first: every field of its resolved scenario (manifest.json) whose
    value differs from the first's; empty for a single run."""
    first = results.members[0].resolved
    if len(results.members) < 2 or first is None:
        return ""
    body = [
        f"<p>Fields of each resolved scenario (after <code>extends:</code> and every "
        f"override) whose value differs from <b>{_esc(results.members[0].label)}</b>'s.</p>"
    ]
    for member in results.members[1:]:
        if member.resolved is None:
            continue
        rows, by_section = scenario_differences(first, member.resolved)
        cells = [[f"<code>{_esc(p)}</code>", _esc(a), _esc(b)] for p, a, b in rows]
        header = ["field", _esc(results.members[0].label), _esc(member.label)]
        shown = f"; the first {len(rows)} by name" if len(rows) == MAX_DIFFERENCES else ""
        body.append(
            f"<h3>{_esc(member.label)}</h3><p>fields differing by section: {by_section}{shown}</p>"
        )
        body.append(_table(header, cells) if cells else "<p>no difference</p>")
    return _section("differs", DIFFERS_TITLE, "\n".join(body))


def _glossary_section(results: Results) -> str:
    """The KPI names this report uses, with units, and the KPI registry's families."""
    keys = [key for member in results.members for key in member.kpis]
    named = [
        [f"<code>{_esc(k)}</code>", _esc(label), _esc(unit)]
        for k, label, unit in glossary_rows(keys)
    ]
    families = [[f"<code>{_esc(n)}</code>", _esc(u), _esc(d)] for n, u, d in family_rows()]
    body = (
        "<p>Breakdowns add <code>.&lt;lane&gt;.&lt;direction&gt;</code>, "
        "<code>.direction.&lt;d&gt;</code>, <code>.cargo.&lt;c&gt;</code> or "
        "<code>.season.&lt;s&gt;</code> to a KPI; station KPIs are "
        "<code>station.&lt;name&gt;.&lt;figure&gt;</code> (<code>run_sim.py kpis</code> lists "
        "the figures). Intervals are 95 % Student-t intervals over replications; "
        f"{_esc(BOUNDED_NOTE)}.</p>"
        + _table(["KPI", "name", "unit"], named)
        + _table(["family", "unit", "meaning"], families)
    )
    return _section("glossary", "KPI glossary", body)


def _page(
    results: Results, title: str, subtitle: str, sections: Sequence[tuple[str, str, str]]
) -> str:
    """The HTML page around the sections (anchor, name, HTML; empty ones are left out)."""
    nav = "".join(
        f'<li><a href="#{anchor}">{_esc(tr(name))}</a></li>'
        for anchor, name, body in sections
        if body
    )
    body = "\n".join(text for _, _, text in sections if text)
    version = results.manifest.get("gatesim_version", "")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{language()}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="gatesim {_esc(version)}">\n'
        f"<title>{_esc(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f'<body data-report-kind="{results.kind}">\n'
        f"<header><h1>{_esc(title)}</h1><p class=sub>{_esc(subtitle)}</p></header>\n"
        f"{_warnings_banner(results)}<nav><ol>{nav}</ol></nav>\n{body}\n"
        "<footer><p class=note>Self-contained report written by gatesim from the result files "
        "of this folder; it needs no network access.</p></footer>\n"
        "</body>\n</html>\n"
    )


def _written() -> str:
    return f"written {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}"


def write_report(
    folder: Path | str,
    out: Path | str | None = None,
    targets: Mapping[str, float] | None = None,
    lang: str = "en",
) -> Path:
    """Write the report of a run, compare, sweep, plan or capacity folder (default
    ``folder/report.html``), its headings and KPI names in ``lang`` (``en`` or ``vi``).

    Raises ValueError (one line) when ``folder`` is not a gatesim result folder or the report
    cannot be written there (nothing is left behind then).
    """
    results = load_results(folder)
    target = Path(out) if out is not None else results.path / REPORT_NAME
    if target.is_dir():
        raise ValueError(f"--out: '{target}' is a folder; give a file name such as report.html")
    with use_language(lang):
        page = render_report(results, targets)
    _write_page(target, page)
    return target


def _write_page(target: Path, page: str) -> None:
    """Write through a temporary file beside ``target``; on failure remove it and say why."""
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        if exc.filename and str(exc.filename) not in (str(target), str(tmp)):
            reason += f": '{exc.filename}'"
        raise ValueError(f"--out: cannot write the report '{target}': {reason}") from None


# --------------------------------------------------------------------------- command
def _target(text: str) -> tuple[str, float]:
    kpi, sep, value = text.partition("=")
    try:
        if not sep or not kpi:
            raise ValueError
        return kpi.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected KPI=VALUE, e.g. throughput_per_day=2000 (got {text!r})"
        ) from None


class ReportParser(argparse.ArgumentParser):
    """A report command's parser: a usage error is one line and exit 2."""

    def error(self, message: str) -> Any:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser(prog: str = "run_sim.py report") -> argparse.ArgumentParser:
    parser = ReportParser(
        prog=prog,
        description="Write a self-contained HTML report (figures embedded, opens offline) for "
        "a result folder of run, compare, sweep, plan or capacity.",
    )
    parser.add_argument(
        "folder", metavar="DIR", help="result folder (run, compare, sweep, plan or capacity)"
    )
    parser.add_argument("--out", metavar="FILE", help="report file (default DIR/report.html)")
    parser.add_argument(
        "--target",
        metavar="KPI=VALUE",
        type=_target,
        action="append",
        default=[],
        help="draw a target line on the sweep and throughput plots, e.g. "
        "throughput_per_day=2000 (repeatable)",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the report path")
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        default="en",
        help="language of the headings and KPI names: en (default) or vi (Vietnamese)",
    )
    parser.add_argument(  # the report reads tables only; kept so older command lines work
        "--plugin",
        dest="plugins",
        action="append",
        default=[],
        metavar="MODULE_OR_FILE",
        help=argparse.SUPPRESS,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``report DIR [--out FILE] [--target KPI=VALUE]``: 0 on success, 2 on bad input."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["report"]:
        args_list = args_list[1:]
    args = build_parser().parse_args(args_list)
    started = time.perf_counter()
    try:
        path = write_report(args.folder, args.out, dict(args.target), args.lang)
    except (ValueError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.quiet:
        print(path)
    else:
        print(f"report written to {path} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
