"""Compare scenarios under common random numbers: paired differences against the first one.

Replication r of every scenario shares its seed material, so differences are taken pair by pair
(``paired_difference``). The unpaired Welch interval is reported next to it for the headline
KPIs, to show how much the pairing narrows the interval.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from gatesim.core.errors import UsageError
from gatesim.experiment.output import json_safe, write_json
from gatesim.experiment.runner import ExperimentResult
from gatesim.stats.intervals import paired_difference, welch_interval
from gatesim.stats.kpis import HEADLINE

Interval = tuple[float, float, float]


def interval_document(interval: Interval) -> dict[str, Any]:
    mean, lo, hi = interval
    return {"mean": mean, "ci95": [lo, hi]}


def unique_folders(names: Sequence[str]) -> list[str]:
    """Folder names from scenario names; repeats get -2, -3, … (comparing A with A is allowed)."""
    folders: list[str] = []
    for name in names:
        base = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "scenario"
        folder, n = base, 1
        while folder in folders:
            n += 1
            folder = f"{base}-{n}"
        folders.append(folder)
    return folders


def _columns(result: ExperimentResult) -> dict[str, list[float]]:
    table = result.kpi_table()
    return {str(name): table[name].tolist() for name in table.columns}


def differences(first: ExperimentResult, other: ExperimentResult) -> dict[str, Any]:
    """``diff_vs_first`` (paired, every shared KPI) and ``diff_vs_first_unpaired`` (headline)."""
    if len(first.outcomes) != len(other.outcomes):
        raise UsageError(
            "replications",
            "paired differences need equal replication counts",
            [len(first.outcomes), len(other.outcomes)],
        )
    a, b = _columns(first), _columns(other)
    shared = [k for k in a if k in b]
    paired = {k: paired_difference(a[k], b[k]) for k in shared}
    unpaired = {}
    for k in (k for k in HEADLINE if k in paired):
        mean, lo, hi = welch_interval(a[k], b[k])
        unpaired[k] = {
            "mean": mean,
            "ci95": [lo, hi],
            "ci95_width": hi - lo,
            "paired_ci95_width": paired[k][2] - paired[k][1],
        }
    return {
        "diff_vs_first": {k: interval_document(v) for k, v in paired.items()},
        "diff_vs_first_unpaired": unpaired,
    }


def comparison_document(
    results: Sequence[ExperimentResult], folders: Sequence[str], files: Sequence[str | None]
) -> list[dict[str, Any]]:
    """The ``comparison.json`` list: one entry per scenario, in command-line order (``file``
    is None for a Scenario object given in Python)."""
    document = []
    for i, (result, folder, file) in enumerate(zip(results, folders, files, strict=True)):
        entry: dict[str, Any] = {
            "scenario": result.scenario.name,
            "folder": folder,
            "file": file,
            "replications": len(result.outcomes),
            "kpis": result.kpi_summary(),
        }
        if i > 0:
            entry.update(differences(results[0], result))
        document.append(entry)
    safe: list[dict[str, Any]] = json_safe(document)
    return safe


#: ``comparison.csv``'s columns, in order.
TABLE_COLUMNS = [
    "scenario", "kpi", "lane", "direction", "mean", "lo", "hi", "diff", "diff_lo", "diff_hi",
]  # fmt: skip
DIRECTIONS = ("export", "import")
#: Breakdowns of the gate's trucks other than by lane (``<kpi>.direction.export``).
OTHER_BREAKDOWNS = ("direction", "cargo", "season")


def lanes_of(kpis: Iterable[str]) -> set[str]:
    """The lanes named by ``throughput_per_day.<lane>.<direction>`` keys."""
    lanes = set()
    for key in kpis:
        base, _, suffix = key.partition(".")
        lane, _, direction = suffix.rpartition(".")
        is_lane = lane and "." not in lane and lane not in OTHER_BREAKDOWNS
        if base == "throughput_per_day" and is_lane and direction in DIRECTIONS:
            lanes.add(lane)
    return lanes


def breakdown(kpi: str, lanes: set[str]) -> tuple[str, str]:
    """(lane, direction) of a KPI's breakdown suffix: ``<kpi>.<lane>.<direction>``,
    ``<kpi>.<lane>`` or ``<kpi>.direction.<direction>``; empty strings where the KPI does not
    break down by it (gate-wide, station, cargo and season KPIs)."""
    if kpi.startswith("station."):
        return "", ""
    parts = kpi.split(".")[1:]
    if len(parts) == 2 and parts[0] == "direction" and parts[1] in DIRECTIONS:
        return "", parts[1]
    if len(parts) == 2 and parts[0] in lanes and parts[1] in DIRECTIONS:
        return parts[0], parts[1]
    if len(parts) == 1 and parts[0] in lanes:
        return parts[0], ""
    return "", ""


def comparison_table(document: list[dict[str, Any]]) -> pd.DataFrame:
    """``comparison.csv``, long: one row per scenario (its folder name, unique) and KPI, every
    KPI of ``comparison.json`` in its order: mean and 95 % CI, lane and direction of the KPI's
    breakdown, and the paired difference against the first scenario (empty for the first)."""
    lanes = lanes_of(key for entry in document for key in entry["kpis"])
    rows = []
    for entry in document:
        diffs = entry.get("diff_vs_first", {})
        for kpi, stat in entry["kpis"].items():
            diff = diffs.get(kpi, {"mean": None, "ci95": [None, None]})
            lane, direction = breakdown(kpi, lanes)
            interval = [stat["mean"], *stat["ci95"]]
            rows.append(
                [entry["folder"], kpi, lane, direction, *interval, diff["mean"], *diff["ci95"]]
            )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def write_comparison_files(
    folder: Path, document: list[dict[str, Any]], manifest: dict[str, Any]
) -> None:
    """``comparison.json``, ``comparison.csv`` and the top-level ``manifest.json``."""
    write_json(folder / "comparison.json", document)
    comparison_table(document).to_csv(folder / "comparison.csv", index=False)
    write_json(folder / "manifest.json", manifest)
