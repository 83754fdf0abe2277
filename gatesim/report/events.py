"""The event log: one row per truck event at a station, derived from ``visits.parquet``.

``visits.parquet`` (written with ``--records``) has one row per station visit: ``replication``,
``truck``, ``station``, ``arrive_min``, ``start_min``, ``end_min``. The event log is the same
information in long format, one row per event, ordered in time within each replication:

=============  ========  ==============================================================
column         type      meaning
=============  ========  ==============================================================
replication    int64     replication index (0 ... n-1)
truck          int64     truck id, unique within a replication (joins ``trucks.parquet``)
station        string    station name (as in the scenario and ``stations.csv``)
event          category  ``arrive`` (joins the queue), ``start`` (service begins),
                         ``end`` (service ends; the truck then leaves or waits for room
                         downstream)
time_min       float64   simulated minutes since the start of the run (warm-up included)
=============  ========  ==============================================================

Rows are sorted by replication, time, then event order (arrive, start, end) and truck, so a
truck's events at one station always appear as arrive <= start <= end. A visit the run ended
during has no later events (missing times are dropped, never invented).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

EVENTS = ("arrive", "start", "end")
EVENT_COLUMNS = ("replication", "truck", "station", "event", "time_min")
_SOURCE = {"arrive": "arrive_min", "start": "start_min", "end": "end_min"}


def event_log(visits: pd.DataFrame) -> pd.DataFrame:
    """The long event table of a ``visits.parquet`` table (see the module docstring)."""
    missing = {"truck", "station", *_SOURCE.values()} - set(visits.columns)
    if missing:
        raise ValueError(f"not a visits table: missing column(s) {', '.join(sorted(missing))}")
    base = visits.reset_index(drop=True)
    if "replication" not in base.columns:
        base = base.assign(replication=0)
    parts = []
    for order, event in enumerate(EVENTS):
        part = base[["replication", "truck", "station"]].copy()
        part["event"] = event
        part["time_min"] = base[_SOURCE[event]].astype("float64")
        part["_order"] = order
        part["_visit"] = base.index
        parts.append(part[part["time_min"].notna()])
    long = pd.concat(parts, ignore_index=True)
    long = long.sort_values(
        ["replication", "time_min", "_order", "truck", "_visit"], kind="stable"
    ).reset_index(drop=True)
    long["event"] = pd.Categorical(long["event"], categories=list(EVENTS), ordered=True)
    long["replication"] = long["replication"].astype("int64")
    long["truck"] = long["truck"].astype("int64")
    long["station"] = long["station"].astype("string")
    return long[list(EVENT_COLUMNS)]


def write_event_log(folder: Path | str) -> Path | None:
    """Write ``folder/events.parquet`` from ``folder/visits.parquet``; None when there are no
    visit records (the run was made without ``--records``)."""
    folder = Path(folder)
    visits = folder / "visits.parquet"
    if not visits.is_file():
        return None
    out = folder / "events.parquet"
    tmp = out.with_name(f".{out.name}.tmp")
    event_log(pd.read_parquet(visits)).to_parquet(tmp, index=False)
    tmp.replace(out)
    return out
