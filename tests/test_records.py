"""Records kept column by column read back as the row tuples that were appended."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatesim.core.records import Records, concatenated, sort_by_first

COLUMNS = ("truck", "station", "start_min")
ROWS = [(3, "b", 1.5), (1, "a", 2.0), (3, "a", 0.5), (-2, "c", math.nan), (1, "b", 4.0)]


def filled(rows: list[tuple[int, str, float]]) -> Records:
    records = Records(COLUMNS, "qsd")
    for row in rows:
        records.append(row)
    return records


def test_rows_read_back_as_appended_with_text_as_codes() -> None:
    records = filled(ROWS)
    assert len(records) == 5
    assert records[0] == (3, "b", 1.5) and records[-1] == (1, "b", 4.0)
    assert list(records)[:3] == ROWS[:3]
    assert records.columns[1].names == ["b", "a", "c"]  # distinct values in order of first use
    assert list(records.columns[1].codes) == [0, 1, 1, 2, 0]
    assert records.column("station").tolist() == ["b", "a", "a", "c", "b"]
    assert records.column("truck").dtype == np.int64


def test_a_row_can_be_replaced() -> None:
    records = filled(ROWS)
    records[2] = (3, "d", 9.0)
    assert records[2] == (3, "d", 9.0) and records.columns[1].names[-1] == "d"


def test_sorting_by_the_first_column_is_stable_and_in_place() -> None:
    records = filled(ROWS)
    assert sort_by_first(records) is records
    assert [r[:2] for r in records] == [(-2, "c"), (1, "a"), (1, "b"), (3, "b"), (3, "a")]


def test_equality_counts_missing_times_equal_and_compares_to_lists() -> None:
    assert filled(ROWS) == filled(ROWS)  # the NaN rows too
    assert filled(ROWS) != filled(ROWS[:4])
    assert filled(ROWS[:3]) == ROWS[:3]


def test_concatenated_parts_recode_their_text() -> None:
    merged = concatenated([filled(ROWS[:2]), filled(ROWS[2:])])
    assert merged == filled(ROWS)
    assert merged.columns[1].names == ["b", "a", "c"]


def test_records_survive_pickling() -> None:
    assert pickle.loads(pickle.dumps(filled(ROWS))) == filled(ROWS)


def test_columns_must_match_their_kinds() -> None:
    with pytest.raises(ValueError):
        Records(COLUMNS, "qs")
    with pytest.raises(ValueError):
        Records(COLUMNS, "qsx")


@given(
    st.lists(
        st.tuples(
            st.integers(-(2**40), 2**40),
            st.sampled_from(["a", "b", "c"]),
            st.floats(allow_nan=False),
        ),
        max_size=50,
    )
)
def test_sorted_records_are_the_stably_sorted_rows(rows: list[tuple[int, str, float]]) -> None:
    assert list(sort_by_first(filled(rows))) == sorted(rows, key=lambda row: row[0])
