"""``trucks.parquet`` and ``visits.parquet``: the truck and visit records, written with
pyarrow alone.

The file holds the table :func:`gatesim.experiment.runner.records_table` gives (a first
column ``replication``, then the records' columns: int64, float64, text as ``large_string``,
NaN kept as NaN), and reads back with ``pandas.read_parquet`` as that table. The Arrow arrays
are built from the columns' buffers (``Array.from_buffers``), not with ``pa.array``: that
imports pandas to ask whether its argument is a pandas object, and a run imports no pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from gatesim.core.records import FLOAT, INTEGER, Records, TextColumn
from gatesim.experiment.runner import ReplicationOutcome, records_table

__all__ = ["RECORD_ROWS_AT_ONCE", "write_records"]

#: Rows of records turned into one Parquet row group at a time: the writer holds a row
#: group's encoded pages until it is complete (about 0.5 kB a row for truck records).
RECORD_ROWS_AT_ONCE = 16_384


def write_records(
    path: Path, outcomes: Sequence[ReplicationOutcome], attr: str, columns: Sequence[str]
) -> None:
    """``trucks.parquet`` or ``visits.parquet`` (nothing when not kept), written from the
    records' columns a row group at a time, so no whole table is held. A replication
    without rows has no column types: then the table is built whole with pandas, as
    pandas types it."""
    kept = [getattr(o, attr) for o in outcomes]
    if not kept or any(rows is None for rows in kept):
        return
    if any(len(rows) == 0 for rows in kept):
        table = records_table(list(outcomes), attr, columns)
        if table is not None:
            table.to_parquet(path, index=False)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = ["replication", *columns]
    schema = pa.Table.from_arrays(_arrow_batch(outcomes[0], kept[0], columns, 0, 1), names).schema
    with pq.ParquetWriter(path, schema) as writer:
        for outcome, rows in zip(outcomes, kept, strict=True):
            for start in range(0, len(rows), RECORD_ROWS_AT_ONCE):
                stop = min(start + RECORD_ROWS_AT_ONCE, len(rows))
                batch = _arrow_batch(outcome, rows, columns, start, stop)
                writer.write_table(pa.Table.from_arrays(batch, schema=schema))


def _arrow_batch(
    outcome: ReplicationOutcome, rows: Records, columns: Sequence[str], start: int, stop: int
) -> list[Any]:
    """Rows ``start:stop`` of a replication's records as Arrow arrays: ``replication``
    (int64), then ``columns``."""
    replication = np.full(stop - start, outcome.replication, dtype=np.int64)
    return [_numbers(replication), *(_arrow_column(rows, name, start, stop) for name in columns)]


def _arrow_column(rows: Records, name: str, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of one column as an Arrow array (text decoded from its codes)."""
    column = rows.columns[rows.names.index(name)]
    if isinstance(column, TextColumn):
        codes = np.frombuffer(column.codes, dtype=np.uint16)[start:stop]
        return _text(column.names, codes)
    kind = {INTEGER: np.int64, FLOAT: np.float64}[column.typecode]
    return _numbers(np.frombuffer(column, dtype=kind)[start:stop])


def _numbers(values: npt.NDArray[Any]) -> Any:
    """A numpy array of int64 or float64 as an Arrow array of that type, its values as they
    are (no nulls: NaN stays a float NaN, as ``pa.array`` of numpy keeps it)."""
    import pyarrow as pa

    arrow = {"int64": pa.int64, "float64": pa.float64}[values.dtype.name]()
    data = np.ascontiguousarray(values)
    return pa.Array.from_buffers(arrow, len(data), [None, pa.py_buffer(data)])


def _text(names: Sequence[str], codes: npt.NDArray[np.uint16]) -> Any:
    """``names[code]`` for each code as an Arrow ``large_string`` array, its UTF-8 bytes and
    int64 offsets gathered with numpy (Arrow's ``take`` would load pyarrow.compute, some
    9 MB)."""
    import pyarrow as pa

    encoded = [name.encode("utf-8") for name in names]
    blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    lengths = np.array([len(b) for b in encoded], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    row_lengths = lengths[codes]
    offsets = np.zeros(len(codes) + 1, dtype=np.int64)
    np.cumsum(row_lengths, out=offsets[1:])
    # byte k of the result is byte (k - offsets[row] + starts[code of row]) of the blob
    shift = np.repeat(starts[codes] - offsets[:-1], row_lengths)
    data = blob[np.arange(int(offsets[-1]), dtype=np.int64) + shift]
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    return pa.Array.from_buffers(pa.large_string(), len(codes), buffers)
