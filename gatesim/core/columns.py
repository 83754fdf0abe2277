"""Rows of Python values as typed columns, the way ``pandas.DataFrame(rows)`` types them.

The run's tables (``replications.csv``, ``stations.csv``, ...) are built from lists of dicts
and written without pandas (:mod:`gatesim.core.csv_table`), yet must stay the files pandas
wrote: a column's type decides how its values are written (``1`` or ``1.0``). The rules are
pandas' inference for a list of scalars:

* columns are the keys in order of first appearance; a row without a key holds NaN there;
* only booleans: ``bool``; only integers (not booleans): ``int64``;
* only numbers (integers, floats, NaN, with ``None`` as NaN), not all ``None``: ``float64``;
* anything else (text, booleans with numbers or NaN, only ``None``): ``object``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Column", "infer_column", "is_missing", "row_columns"]

#: One typed column: int64, float64, bool or object (Python values).
Column = npt.NDArray[Any]


def is_missing(value: Any) -> bool:
    """None or a float NaN: what pandas writes as an empty field."""
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def _kind(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if value is None:
        return "none"
    if isinstance(value, numbers.Real):
        return "float"
    return "object"


def infer_column(values: Sequence[Any]) -> Column:
    """``values`` as the column pandas makes of them (see the module docstring)."""
    kinds = {_kind(v) for v in values}
    if kinds == {"bool"}:
        return np.array(values, dtype=bool)
    if kinds == {"int"}:
        return np.array(values, dtype=np.int64)
    if kinds and kinds <= {"int", "float", "none"} and kinds != {"none"}:
        return np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    column = np.empty(len(values), dtype=object)
    column[:] = list(values)
    return column


def row_columns(
    rows: Iterable[Mapping[str, Any]], names: Sequence[str] | None = None
) -> dict[str, Column]:
    """Typed columns of ``rows`` (``names``: the columns, in order; default every key in
    order of first appearance); a row without a column holds NaN there."""
    listed = list(rows)
    if names is None:
        names = list(dict.fromkeys(key for row in listed for key in row))
    return {name: infer_column([row.get(name, math.nan) for row in listed]) for name in names}
