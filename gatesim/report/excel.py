"""``--excel``: one workbook (``results.xlsx``) of a run, compare or sweep folder, read from its
result files (never simulation objects), with the sheets an analyst filters and pivots:

* ``summary``: every KPI of every member, its mean and 95 % interval (long: one row each);
* ``lanes``: the KPIs broken down by lane and direction (``<kpi>.<lane>.<direction>``);
* ``stations``: each station's figures, averaged over the replications;
* ``days``: trucks cleared per day and replication; ``hours``: the hour-of-day profile;
* ``comparison`` (compare: ``comparison.csv``, paired differences) or ``sweep`` (``sweep.csv``).

Every sheet starts with a ``scenario`` column (the member's folder), so the members of a compare
or sweep share one table per sheet. The commands write it into the staging folder, so it
appears atomically with the rest of the results.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

WORKBOOK = "results.xlsx"
SHEETS = ("summary", "lanes", "stations", "days", "hours")
#: The group table of a compare or sweep folder, and its sheet.
GROUP_TABLES = (("comparison.csv", "comparison"), ("sweep.csv", "sweep"))
#: Excel's limit on the rows of a sheet (a longer table is refused, never cut silently).
MAX_ROWS = 1_048_575


def members(folder: Path) -> list[tuple[str, Path]]:
    """(name, run folder) of a run folder (itself) or of a compare/sweep (manifest order)."""
    if (folder / "summary.json").is_file():
        return [(_scenario_name(folder), folder)]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return [(entry["folder"], folder / entry["folder"]) for entry in manifest["scenarios"]]


def _scenario_name(folder: Path) -> str:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return str(summary["scenario"])


def _interval(stat: dict[str, Any] | None) -> tuple[Any, Any, Any]:
    if not isinstance(stat, dict):
        return None, None, None
    lo, hi = stat.get("ci95") or (None, None)
    return stat.get("mean"), lo, hi


def summary_rows(name: str, kpis: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, stat in kpis.items():
        mean, lo, hi = _interval(stat)
        rows.append({"scenario": name, "kpi": key, "mean": mean, "lo": lo, "hi": hi})
    return rows


def lane_rows(name: str, kpis: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``<kpi>.<lane>.<direction>`` KPIs (lanes are names like ``1119-1120``)."""
    rows = []
    for key, stat in kpis.items():
        parts = key.split(".")
        if len(parts) != 3 or parts[1] in ("direction", "cargo", "season", "to"):
            continue
        if parts[2] not in ("export", "import"):
            continue
        mean, lo, hi = _interval(stat)
        rows.append(
            {"scenario": name, "lane": parts[1], "direction": parts[2], "kpi": parts[0],
             "mean": mean, "lo": lo, "hi": hi}
        )  # fmt: skip
    return rows


def member_frames(name: str, run: Path) -> dict[str, pd.DataFrame]:
    """The five sheets' rows of one run folder."""
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    kpis = summary["kpis"]
    stations = pd.DataFrame.from_dict(summary["stations"], orient="index")
    stations = stations.rename_axis("station").reset_index()
    days = pd.read_csv(run / "daily_cleared.csv")
    days = days.melt(id_vars="day", var_name="replication", value_name="cleared")
    frames = {
        "summary": pd.DataFrame(summary_rows(name, kpis)),
        "lanes": pd.DataFrame(lane_rows(name, kpis)),
        "stations": stations,
        "days": days,
        "hours": pd.read_csv(run / "hourly_summary.csv"),
    }
    for frame in frames.values():
        if "scenario" not in frame:
            frame.insert(0, "scenario", name)
    return frames


def write_workbook(folder: Path) -> Path:
    """``folder/results.xlsx`` from the result files in ``folder``."""
    collected: dict[str, list[pd.DataFrame]] = {sheet: [] for sheet in SHEETS}
    for name, run in members(folder):
        for sheet, frame in member_frames(name, run).items():
            collected[sheet].append(frame)
    tables = {sheet: pd.concat(frames, ignore_index=True) for sheet, frames in collected.items()}
    for file_name, sheet in GROUP_TABLES:
        if (folder / file_name).is_file():
            tables[sheet] = pd.read_csv(folder / file_name)
    too_long = [sheet for sheet, table in tables.items() if len(table) > MAX_ROWS]
    if too_long:
        raise ValueError(f"--excel: sheet(s) {too_long} exceed Excel's {MAX_ROWS:,} rows")
    path = folder / WORKBOOK
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for sheet, table in tables.items():
            table.to_excel(writer, sheet_name=sheet, index=False)
            writer.sheets[sheet].freeze_panes = "A2"
    return path
