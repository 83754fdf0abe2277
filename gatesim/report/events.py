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

import itertools
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # imported where an event log is written: a run without visits needs none
    import pandas as pd

EVENTS = ("arrive", "start", "end")
EVENT_COLUMNS = ("replication", "truck", "station", "event", "time_min")
_SOURCE = {"arrive": "arrive_min", "start": "start_min", "end": "end_min"}


def event_log(visits: pd.DataFrame) -> pd.DataFrame:
    """The long event table of a ``visits.parquet`` table (see the module docstring)."""
    import pandas as pd

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
    visit records (the run was made without ``--records``). The table is :func:`event_log`'s,
    built one replication at a time from typed columns (:func:`_write_events`)."""
    folder = Path(folder)
    visits = folder / "visits.parquet"
    if not visits.is_file():
        return None
    out = folder / "events.parquet"
    tmp = out.with_name(f".{out.name}.tmp")
    _write_events(visits, tmp)
    tmp.replace(out)
    return out


#: Events turned into one Parquet row group at a time.
EVENT_ROWS_AT_ONCE = 131_072
#: Events ordered at once (about, when spread evenly over time): some 30 MB of arrays.
EVENT_WINDOW = 1_048_576


def _write_events(source: Path, target: Path) -> None:
    """``event_log(pd.read_parquet(source)).to_parquet(target, index=False)``, the same rows
    and types, without a table of Python objects: a year with visit records has some 13
    million events, which pandas sorts in several gigabytes. Columns are read one at a time,
    for one replication at a time (from the row groups that may hold it)."""
    import pandas as pd
    import pyarrow.parquet as pq

    file = pq.ParquetFile(source, read_dictionary=["station"], pre_buffer=False)
    if file.metadata.num_rows == 0 or file.metadata.num_row_groups == 0:
        event_log(pd.read_parquet(source)).to_parquet(target, index=False)
        return
    sample = pq.ParquetFile(source).read_row_group(0).slice(0, 1).to_pandas()
    schema = _arrow_schema(event_log(sample))  # raises on a file that is not a visits table
    with pq.ParquetWriter(target, schema) as writer:
        for replication, columns in _replications(file):
            _write_replication_events(writer, schema, replication, columns)


def _replications(file: Any) -> Iterator[tuple[int, Callable[[str], Any]]]:
    """(replication, reader) for each replication of a visits file, in increasing order;
    ``reader(column)`` gives that column of the replication's rows (numpy; the station as a
    dictionary array). Without a ``replication`` column every row is replication 0."""
    names = file.schema_arrow.names
    if "replication" not in names:
        yield 0, partial(_column, file, list(range(file.metadata.num_row_groups)), None)
        return
    column = file.read(columns=["replication"])["replication"]
    replications = np.unique(column.to_numpy()).tolist()
    del column
    for replication in replications:
        groups, only = _groups_holding(file, names.index("replication"), replication)
        mask = None
        if not only:  # some of the groups hold other replications too
            within = file.read_row_groups(groups, columns=["replication"])["replication"]
            mask = within.to_numpy() == replication
            del within
        yield replication, partial(_column, file, groups, mask)


def _column(file: Any, groups: list[int], mask: Any, column: str) -> Any:
    """One column of the rows ``mask`` selects in row groups ``groups`` (all when None)."""
    values = file.read_row_groups(groups, columns=[column])[column]
    if mask is not None:
        values = values.filter(mask)
    if column == "station":
        return values
    return values.to_numpy() if values.null_count == 0 else values.to_numpy(zero_copy_only=False)


def _groups_holding(file: Any, column: int, replication: int) -> tuple[list[int], bool]:
    """The row groups whose statistics do not rule out ``replication``, and whether their
    statistics show that they hold nothing else."""
    groups, only = [], True
    for g in range(file.metadata.num_row_groups):
        stats = file.metadata.row_group(g).column(column).statistics
        if stats is None or not stats.has_min_max:
            groups.append(g)
            only = False
        elif stats.min <= replication <= stats.max:
            groups.append(g)
            only = only and stats.min == stats.max == replication
    return groups, only


def _arrow_schema(frame: pd.DataFrame) -> Any:
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False).schema


def _write_replication_events(
    writer: Any, schema: Any, replication: int, read: Callable[[str], Any]
) -> None:
    """One replication's events in :func:`event_log`'s order: by time, then event order,
    truck and visit. Each event kind's times are taken in (truck, visit) order; the events
    of one window of time at a time are then ordered by a stable sort by time alone, so
    only a window's events are held (a year has some 13 million)."""
    station = read("station").unify_dictionaries().combine_chunks()
    names, codes = station.dictionary, station.indices.to_numpy(zero_copy_only=False)
    truck = read("truck").astype(np.int64, copy=False)
    by_truck = np.argsort(truck, kind="stable").astype(_index_type(len(truck)))
    times = [read(_SOURCE[event]).astype(np.float64, copy=False)[by_truck] for event in EVENTS]
    for low, high in _windows(times):
        time, visit, kind = [], [], []
        for order, column in enumerate(times):
            inside = (column >= low) & (column < high)  # NaN (a missing time) is never inside
            time.append(column[inside])
            visit.append(by_truck[inside])
            kind.append(np.full(len(time[-1]), order, dtype=np.int8))
        window = [np.concatenate(parts) for parts in (time, visit, kind)]
        ranked = np.argsort(window[0], kind="stable")
        _write_window(writer, schema, replication, (truck, names, codes), window, ranked)


def _windows(times: list[Any]) -> list[tuple[float, float]]:
    """Consecutive half-open windows of time covering every (non-missing) event time, about
    EVENT_WINDOW events each when the events are spread evenly."""
    count = sum(int((~np.isnan(t)).sum()) for t in times)
    if count == 0:
        return []
    low = min(float(np.nanmin(t)) for t in times if not np.isnan(t).all())
    pieces = max(1, -(-count // EVENT_WINDOW))
    high = max(float(np.nanmax(t)) for t in times if not np.isnan(t).all())
    edges = np.linspace(low, high, pieces + 1).tolist()
    edges[0], edges[-1] = low, float("inf")
    return list(itertools.pairwise(edges))


def _write_window(
    writer: Any,
    schema: Any,
    replication: int,
    visits: tuple[Any, Any, Any],
    window: list[Any],
    ranked: Any,
) -> None:
    """Write one window's events (``window``: time, visit, event order; ``ranked``: their
    order) as Arrow columns of ``schema``."""
    import pyarrow as pa

    truck, names, codes = visits
    time, visit, kind = window
    events = pa.array(list(EVENTS), type=pa.string())
    for first in range(0, len(ranked), EVENT_ROWS_AT_ONCE):
        chosen = ranked[first : first + EVENT_ROWS_AT_ONCE]
        rows = visit[chosen]
        columns = [
            pa.array(np.full(len(chosen), replication, dtype=np.int64)),
            pa.array(truck[rows]),
            names.take(pa.array(codes[rows])).cast(schema.field("station").type),
            pa.DictionaryArray.from_arrays(pa.array(kind[chosen]), events, ordered=True),
            pa.array(time[chosen]),
        ]
        writer.write_table(pa.Table.from_arrays(columns, schema=schema))


def _index_type(count: int) -> type[np.signedinteger[Any]]:
    return np.int32 if count < 2**31 else np.int64
