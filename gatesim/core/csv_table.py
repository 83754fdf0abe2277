"""Typed columns written as CSV byte for byte as ``pandas.DataFrame.to_csv`` writes them.

A run writes its tables without importing pandas (some 100 MB and a third of a second), so
the files must come out exactly as pandas' default ``to_csv`` made them:

* float64: numpy's shortest round-trip text (``values.astype(str)``: ``0.1``, ``1.0``,
  ``1e-05``, ``inf``), NaN as an empty field;
* int64 and bool: ``astype(str)`` (``3``, ``True``);
* object: each value as the csv module writes it (``str``), None and NaN as empty fields;
* the csv module's minimal quoting (a field holding a comma, a quote or a line break is
  quoted, quotes doubled) and ``os.linesep`` line ends, the header first.

Rows are formatted a chunk at a time (as pandas does), so a year's queue table is never held
as text whole.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from gatesim.core.columns import Column, is_missing

__all__ = ["csv_fields", "write_csv"]

#: Cells formatted at once (pandas' own chunk size for ``to_csv``).
CELLS_AT_ONCE = 100_000


def csv_fields(column: Column) -> list[Any]:
    """The values of one column as ``to_csv`` hands them to the csv writer."""
    if column.dtype == object:
        return ["" if is_missing(value) else value for value in column.tolist()]
    text = column.astype(str)
    if column.dtype.kind == "f":
        text[np.isnan(column)] = ""
    result: list[Any] = text.tolist()
    return result


def write_csv(target: Path | TextIO, columns: Mapping[str, Column], header: bool = True) -> None:
    """Write ``columns`` (all of one length; the first may be what pandas writes as the
    index: it is written the same way) to a path or an open text handle."""
    if isinstance(target, Path):
        with target.open("w", encoding="utf-8", newline="") as handle:
            _write(handle, columns, header)
    else:
        _write(target, columns, header)


def _write(handle: TextIO, columns: Mapping[str, Column], header: bool) -> None:
    writer = csv.writer(handle, lineterminator=os.linesep, quoting=csv.QUOTE_MINIMAL)
    if header:
        writer.writerow(list(columns))
    rows = len(next(iter(columns.values()))) if columns else 0
    step = max(1, CELLS_AT_ONCE // max(1, len(columns)))
    for start in range(0, rows, step):
        chunk = [csv_fields(column[start : start + step]) for column in columns.values()]
        writer.writerows(zip(*chunk, strict=True))
