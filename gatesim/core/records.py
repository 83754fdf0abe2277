"""Per-truck and per-visit records kept column by column, not as one Python tuple per row.

A year of the baseline records some 400,000 trucks; a tuple of nine Python objects costs
about 200 bytes a row, a row of typed columns 27 (numbers 8 bytes, text a 2-byte code into
the column's table of distinct values). :class:`Records` still reads as a sequence of row
tuples (``for truck, station, *_ in result.visits``), so callers see the rows they always
saw; tables and files are built from the columns directly (:meth:`Records.column`).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import numpy.typing as npt

#: Column kinds: 64-bit integers, 64-bit floats, text (codes into a table of distinct values).
INTEGER, FLOAT, TEXT = "q", "d", "s"
_DTYPES = {INTEGER: np.int64, FLOAT: np.float64}
_CODE = "H"  # text codes: up to 65,536 distinct values a column (streams, stations, outcomes)
_CHUNK = 65_536  # rows converted to Python objects at once while iterating


class TextColumn:
    """Text values as 2-byte codes into ``names`` (distinct values in order of first use)."""

    __slots__ = ("codes", "index", "names")

    def __init__(self, names: Sequence[str] = (), codes: array[int] | None = None) -> None:
        self.names: list[str] = list(names)
        self.index = {name: code for code, name in enumerate(self.names)}
        self.codes: array[int] = codes if codes is not None else array(_CODE)

    def code(self, value: str) -> int:
        code = self.index.get(value)
        if code is None:
            code = self.index[value] = len(self.names)
            self.names.append(value)
        return code

    def append(self, value: str) -> None:
        self.codes.append(self.code(value))

    def __getitem__(self, i: int) -> str:
        return self.names[self.codes[i]]

    def __setitem__(self, i: int, value: str) -> None:
        self.codes[i] = self.code(value)

    def tolist(self) -> list[str]:
        names = self.names
        return [names[c] for c in self.codes]

    def values(self) -> npt.NDArray[np.object_]:
        """Every value, as an object array (what pandas holds for text)."""
        table = np.empty(len(self.names), dtype=object)
        table[:] = self.names
        return table[np.frombuffer(self.codes, dtype=np.uint16)]


if TYPE_CHECKING:
    Column: TypeAlias = array[Any] | TextColumn


class Records(Sequence[tuple[Any, ...]]):
    """Rows with fixed ``names`` and ``kinds`` (:data:`INTEGER`, :data:`FLOAT`, :data:`TEXT`),
    appended one row tuple at a time and read back as row tuples or as whole columns."""

    def __init__(self, names: Sequence[str], kinds: str) -> None:
        if len(names) != len(kinds) or set(kinds) - {INTEGER, FLOAT, TEXT}:
            raise ValueError(f"columns {names!r} do not match kinds {kinds!r}")
        self.names = tuple(names)
        self.kinds = kinds
        self.columns: list[Column] = [
            TextColumn() if kind == TEXT else array(kind) for kind in kinds
        ]

    def append(self, row: tuple[Any, ...]) -> None:
        for column, value in zip(self.columns, row, strict=True):
            column.append(value)

    def __len__(self) -> int:
        first = self.columns[0]
        return len(first.codes if isinstance(first, TextColumn) else first)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return tuple(column[i] for column in self.columns)

    def __setitem__(self, i: int, row: tuple[Any, ...]) -> None:
        for column, value in zip(self.columns, row, strict=True):
            column[i] = value

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for start in range(0, len(self), _CHUNK):
            yield from zip(*(_slice(c, start) for c in self.columns), strict=True)

    def __eq__(self, other: object) -> bool:
        """Equal rows; unlike tuples of floats, records equal column by column, NaN included
        (an unfinished truck's missing clearing time equals itself)."""
        if isinstance(other, list):
            return list(self) == other
        if not isinstance(other, Records):
            return NotImplemented
        if self.names != other.names or len(self) != len(other):
            return False
        return all(
            np.array_equal(self.column(name), other.column(name), equal_nan=kind == FLOAT)
            for name, kind in zip(self.names, self.kinds, strict=True)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Records({list(self)!r})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """Pydantic checks a Records field by type only (stores keep them in data files)."""
        from pydantic_core import core_schema

        return core_schema.is_instance_schema(cls)

    def column(self, name: str) -> npt.NDArray[Any]:
        """One column as a numpy array (a copy): numbers typed, text as Python strings."""
        column = self.columns[self.names.index(name)]
        if isinstance(column, TextColumn):
            return column.values()
        return np.array(column, dtype=_DTYPES[column.typecode])

    def reorder(self, order: npt.NDArray[np.intp]) -> None:
        """Keep the rows at ``order``, in that order (one column copied at a time, the old
        column freed before the next is copied)."""
        for k, column in enumerate(self.columns):
            if isinstance(column, TextColumn):
                codes = np.frombuffer(column.codes, dtype=np.uint16)[order]
                self.columns[k] = TextColumn(column.names, _array(_CODE, codes))
            else:
                values = np.frombuffer(column, dtype=_DTYPES[column.typecode])[order]
                self.columns[k] = _array(column.typecode, values)
            del column

    def taken(self, order: npt.NDArray[np.intp]) -> Records:
        """A new Records of the rows at ``order``, in that order."""
        taken = Records(self.names, self.kinds)
        taken.columns = list(self.columns)
        taken.reorder(order)
        return taken

    def extend(self, other: Records) -> None:
        """Append every row of ``other`` (same columns), recoding its text."""
        for mine, theirs in zip(self.columns, other.columns, strict=True):
            if isinstance(mine, TextColumn) and isinstance(theirs, TextColumn):
                recode = np.array([mine.code(n) for n in theirs.names], dtype=np.uint16)
                codes = recode[np.frombuffer(theirs.codes, dtype=np.uint16)]
                mine.codes.frombytes(codes.data.cast("B"))
            elif isinstance(mine, array) and isinstance(theirs, array):
                mine.extend(theirs)


def _slice(column: Column, start: int) -> list[Any]:
    if isinstance(column, TextColumn):
        names = column.names
        return [names[c] for c in column.codes[start : start + _CHUNK]]
    return column[start : start + _CHUNK].tolist()


def sort_by_first(records: Records) -> Records:
    """Sort the rows by the first (integer) column, stably (rows of one truck keep their
    order), in place; returns ``records``."""
    first = records.columns[0]
    assert isinstance(first, array)
    order = np.argsort(np.frombuffer(first, dtype=np.int64), kind="stable")
    del first
    records.reorder(order)
    return records


def _array(typecode: str, values: npt.NDArray[Any]) -> array[Any]:
    """An ``array`` holding a copy of ``values`` (one copy, no intermediate bytes)."""
    result = array(typecode)
    result.frombytes(np.ascontiguousarray(values).data.cast("B"))
    return result


def concatenated(parts: Sequence[Records]) -> Records:
    """The rows of every part, in order (all parts have the same columns)."""
    merged = Records(parts[0].names, parts[0].kinds)
    for part in parts:
        merged.extend(part)
    return merged
