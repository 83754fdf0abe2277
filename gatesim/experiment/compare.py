"""Compare scenarios under common random numbers: paired differences against the first one.

Replication r of every scenario shares its seed material, so differences are taken pair by pair
(``paired_difference``). The unpaired Welch interval is reported next to it for the headline
KPIs, to show how much the pairing narrows the interval.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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


def comparison_table(document: list[dict[str, Any]]) -> pd.DataFrame:
    """Long table: one row per scenario and headline KPI, with paired and Welch intervals."""
    rows = []
    for entry in document:
        for kpi in HEADLINE:
            stat = entry["kpis"].get(kpi)
            if stat is None:
                continue
            diff = entry.get("diff_vs_first", {}).get(kpi, {"mean": None, "ci95": [None, None]})
            welch = entry.get("diff_vs_first_unpaired", {}).get(kpi, {"ci95": [None, None]})
            rows.append(
                {
                    "scenario": entry["scenario"],
                    "folder": entry["folder"],
                    "kpi": kpi,
                    "mean": stat["mean"],
                    "lo": stat["ci95"][0],
                    "hi": stat["ci95"][1],
                    "diff_mean": diff["mean"],
                    "diff_lo": diff["ci95"][0],
                    "diff_hi": diff["ci95"][1],
                    "welch_lo": welch["ci95"][0],
                    "welch_hi": welch["ci95"][1],
                }
            )
    return pd.DataFrame(rows)


def write_comparison_files(
    folder: Path, document: list[dict[str, Any]], manifest: dict[str, Any]
) -> None:
    """``comparison.json``, ``comparison.csv`` and the top-level ``manifest.json``."""
    write_json(folder / "comparison.json", document)
    comparison_table(document).to_csv(folder / "comparison.csv", index=False)
    write_json(folder / "manifest.json", manifest)
