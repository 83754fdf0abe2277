"""Means of numeric columns by group, bit for bit as pandas'
``DataFrame(rows).groupby(key, sort=False).mean(numeric_only=True)`` computes them.

``summary.json`` holds each station's statistics averaged over the replications; it was
computed with pandas and must not change by a bit now that the run does without pandas.
pandas' grouped mean (its compiled ``group_mean``) adds each group's values in row order
with Kahan's compensated summation, skipping NaN, and divides by the count of values added;
the compensation is reset to 0 when it becomes NaN (an infinite value), so a group holding
``inf`` has the mean ``inf``, not NaN. A group with no value in a column has NaN there.
Columns are typed as pandas types them (:mod:`gatesim.core.columns`): int64, float64 and
bool columns are numeric (taken as float64), others are left out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from gatesim.core.columns import row_columns

__all__ = ["compensated_mean", "group_means"]


def compensated_mean(values: Sequence[float]) -> float:
    """The mean of the non-NaN ``values`` by pandas' compensated summation (NaN if none)."""
    total = compensation = 0.0
    count = 0
    for value in values:
        if value != value:  # NaN is skipped
            continue
        count += 1
        corrected = value - compensation
        running = total + corrected
        compensation = running - total - corrected
        if compensation != compensation:  # an infinite value: keep the infinite sum
            compensation = 0.0
        total = running
    return total / count if count else math.nan


def group_means(
    rows: Sequence[Mapping[str, Any]], key: str, leave_out: Sequence[str] = ()
) -> dict[str, dict[str, float]]:
    """{group: {column: mean}} over ``rows`` grouped by their ``key`` value (groups in order
    of first appearance; every numeric column but ``leave_out`` for every group, NaN where
    it has no value)."""
    columns = row_columns(rows)
    labels = [str(label) for label in columns.pop(key).tolist()]
    numeric = {
        name: column.astype(float).tolist()
        for name, column in columns.items()
        if column.dtype.kind in "biuf" and name not in leave_out
    }
    members: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        members.setdefault(label, []).append(index)
    return {
        label: {
            name: compensated_mean([values[i] for i in indices]) for name, values in numeric.items()
        }
        for label, indices in members.items()
    }
