"""What the replay page animates: one day of one replication, read from a run's records.

A run with ``--records`` (or ``--replay-day D``) writes ``visits.parquet`` (one row per station
visit: arrival, service start and end) and ``trucks.parquet`` (stream, direction, cargo,
creation and clearance). The replay of day ``D`` keeps the visits that overlap
[D × 1440, (D + 1) × 1440) minutes of its replication, grouped by truck, and places the nodes
with the report's lane layout (:mod:`gatesim.report.network_layout`). Between two visits a
truck is on the road from one station to the next; before its first visit it drives from the
source node of its first station's lane and side, after its last visit to the sink beside its
last station (when the network has one), until it clears.

Limits: a truck still waiting when the run ends has no visit row (rows are written when
service starts), so the last hours of the last day show fewer waiting trucks than there were.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gatesim.report.network_layout import (
    NetworkTables,
    lay_out_network,
    read_network_tables,
    station_means,
)

__all__ = ["MINUTES_PER_DAY", "ReplayError", "ReplayInput", "read_replay_input", "replay_data"]

MINUTES_PER_DAY = 1440.0
#: How to get the records a replay needs (the one-line answer when a run lacks them).
RECORDS_HINT = "run the scenario again with --records, or --replay-day D to keep that day only"


class ReplayError(ValueError):
    """Bad input to the replay: one line for the user (exit code 2)."""


@dataclass(frozen=True)
class ReplayInput:
    """The files of a run folder the replay reads."""

    folder: Path
    summary: dict[str, Any]
    manifest: dict[str, Any]
    visits: pd.DataFrame
    trucks: pd.DataFrame
    stations: pd.DataFrame
    tables: NetworkTables


def read_replay_input(folder: Path) -> ReplayInput:
    """The run folder's records and tables; :class:`ReplayError` naming what is missing."""
    if not folder.is_dir():
        raise ReplayError(f"RUN_DIR: '{folder}' is not a folder")
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        raise ReplayError(f"RUN_DIR: '{folder}' holds no summary.json (not a run's folder)")
    tables = read_network_tables(folder)
    needed = [folder / "visits.parquet", folder / "trucks.parquet", folder / "stations.csv"]
    if tables is None or not all(p.is_file() for p in needed):
        raise ReplayError(f"RUN_DIR: '{folder}' has no visit records; {RECORDS_HINT}")
    try:
        manifest_path = folder / "manifest.json"
        manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
        return ReplayInput(
            folder,
            json.loads(summary_path.read_text()),
            manifest,
            pd.read_parquet(needed[0]),
            pd.read_parquet(needed[1]),
            pd.read_csv(needed[2]),
            tables,
        )
    except (OSError, ValueError) as exc:
        raise ReplayError(f"RUN_DIR: cannot read '{folder}': {exc}") from None


def check_choice(run: ReplayInput, day: int, replication: int) -> None:
    """Refuse a day outside the run, a replication it did not run, or a day it kept no
    visits of (a run recorded with ``--replay-day`` of another day)."""
    days = int(run.summary.get("days", 0))
    if not 0 <= day < days:
        raise ReplayError(f"--day: {day} is outside the run (days 0 to {days - 1})")
    replications = sorted(int(r) for r in run.visits["replication"].unique())
    if replication not in replications:
        raise ReplayError(
            f"--replication: {replication} has no records (recorded: "
            f"{', '.join(map(str, replications)) or 'none'})"
        )
    kept = run.manifest.get("resolved_scenario", {}).get("records", {}).get("visits_day")
    if kept is not None and int(kept) != day:
        raise ReplayError(f"--day: {day} was not recorded (the run kept day {kept} only)")


def day_visits(visits: pd.DataFrame, replication: int, day: int) -> pd.DataFrame:
    """Every visit of the trucks of ``replication`` with a visit that overlaps day ``day``
    (their other visits place them on the roads between), by truck then arrival."""
    lo, hi = day * MINUTES_PER_DAY, (day + 1) * MINUTES_PER_DAY
    rows = visits[visits["replication"] == replication]
    overlapping = rows[(rows["arrive_min"] < hi) & (rows["end_min"] >= lo)]
    rows = rows[rows["truck"].isin(overlapping["truck"].unique())]
    return rows.sort_values(["truck", "arrive_min"], kind="stable")


def replay_data(run: ReplayInput, day: int, replication: int) -> dict[str, Any]:
    """The JSON document the page animates (see the module docstring)."""
    check_choice(run, day, replication)
    means = station_means(run.stations)
    layout = lay_out_network(run.tables, means, 1.0)
    nodes = list(layout.graph.nodes)
    index = {name: i for i, name in enumerate(nodes)}
    visits = day_visits(run.visits, replication, day)
    trucks = run.trucks[run.trucks["replication"] == replication].set_index("truck")
    ends = _road_ends(run.tables)
    return {
        "day": day,
        "replication": replication,
        "t0": day * MINUTES_PER_DAY,
        "scenario": str(run.summary.get("scenario", "")),
        "start_date": _start_date(run.manifest),
        "nodes": [_node(run, layout, name, means) for name in nodes],
        "edges": [[index[a], index[b]] for a, b in layout.graph.edges],
        "bands": {lane: list(span) for lane, span in layout.bands.items()},
        "trucks": [
            _truck(truck_id, rows, trucks, index, ends)
            for truck_id, rows in visits.groupby("truck", sort=True)
            if truck_id in trucks.index
        ],
    }


def _node(run: ReplayInput, layout: Any, name: str, means: pd.DataFrame) -> dict[str, Any]:
    """One node: position, kind, lane, side, servers and, for yards, capacity and km/truck."""
    row = run.tables.nodes.set_index("node").loc[name]
    x, y = layout.pos[name]
    node: dict[str, Any] = {
        "id": name,
        "x": round(float(x), 4),
        "y": round(float(y), 4),
        "kind": str(row["kind"]),
        "type": "" if pd.isna(row["type"]) else str(row["type"]),
        "lane": str(row["lane"]),
        "label": layout.labels.get(name, name),
        "side": str(row["side"]),
        "servers": _number(row["servers"]),
    }
    if name in means.index and "yard_capacity" in means.columns:
        capacity = _number(means.at[name, "yard_capacity"])
        if capacity is not None:
            node["capacity"] = capacity
            node["km_per_truck"] = _km_per_truck(run.stations, name)
    return node


def _km_per_truck(stations: pd.DataFrame, yard: str) -> float:
    """Spill-back km per truck on the road, from any replication whose road held trucks
    (the yard's spacing / road lanes); the schema default, 20 m on one lane, if none did
    (then the day shows no spill-back anyway)."""
    rows = stations[(stations["station"] == yard) & (stations["spillback_trucks_max"] > 0)]
    if rows.empty:
        return 0.02
    first = rows.iloc[0]
    return float(first["spillback_km_max"] / first["spillback_trucks_max"])


def _road_ends(tables: NetworkTables) -> dict[str, dict[str, str]]:
    """For each station, the source node that feeds it and the sink it feeds (if any)."""
    kind = dict(zip(tables.nodes["node"], tables.nodes["kind"], strict=True))
    source: dict[str, str] = {}
    sink: dict[str, str] = {}
    for a, b in zip(tables.edges["from"], tables.edges["to"], strict=True):
        if kind.get(a) == "source":
            source.setdefault(b, a)
        if kind.get(b) == "sink":
            sink.setdefault(a, b)
    return {"source": source, "sink": sink}


def _truck(
    truck_id: Any,
    rows: pd.DataFrame,
    trucks: pd.DataFrame,
    index: dict[str, int],
    ends: dict[str, dict[str, str]],
) -> list[Any]:
    """``[direction, cargo, created, cleared, from, to, visits]``: ``from``/``to`` the node
    index it drives from before its first visit and to after its last (-1: none), cleared
    ``None`` while in the system; each visit ``[node, arrive, start, end]`` in minutes."""
    info = trucks.loc[truck_id]
    first, last = str(rows["station"].iloc[0]), str(rows["station"].iloc[-1])
    return [
        str(info["direction"]),
        str(info["cargo"]),
        _number(info["created_min"]),
        _number(info["cleared_min"]),
        index.get(ends["source"].get(first, ""), -1),
        index.get(ends["sink"].get(last, ""), -1),
        [
            [index[str(s)], _number(a), _number(b), _number(e)]
            for s, a, b, e in zip(
                rows["station"], rows["arrive_min"], rows["start_min"], rows["end_min"], strict=True
            )
        ],
    ]


def _start_date(manifest: dict[str, Any]) -> str | None:
    resolved = manifest.get("resolved_scenario")
    value = resolved.get("start_date") if isinstance(resolved, dict) else None
    return None if value is None else str(value)


def _number(value: Any) -> float | None:
    """A finite float rounded to 0.01 (JSON-ready), None for NaN or missing."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, 2) if math.isfinite(number) and not np.isnan(number) else None
