"""Confidence intervals across independent replications.

Every function takes one value per replication (e.g. the mean truck sojourn of each run). Bounds
that the data cannot define (fewer than two values) are NaN, and JSON output maps them to None.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypedDict

import numpy as np

__all__ = [
    "Summary",
    "paired_difference",
    "relative_half_width",
    "replications_needed",
    "summarise",
    "t_interval",
    "welch_interval",
]

Interval = tuple[float, float, float]  # (point estimate, lower bound, upper bound)


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def t_quantile(confidence: float, df: float) -> float:
    # Imported here: workers that only simulate never pay scipy's import.
    from scipy.special import stdtrit

    return float(stdtrit(df, 0.5 + confidence / 2.0))


def t_interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """Student-t interval for the mean: (mean, lo, hi).

    With one value the bounds are NaN (no variance estimate); with zero variance lo == hi == mean.
    Raises ValueError on an empty sequence.
    """
    _check_confidence(confidence)
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("t_interval needs at least one value")
    m = float(x.mean())
    if x.size < 2:
        return m, math.nan, math.nan
    half = t_quantile(confidence, x.size - 1) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return m, m - half, m + half


def paired_difference(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> Interval:
    """Interval for mean(b − a) from paired replications (common random numbers).

    Pair i must share its seed in both scenarios; the positive correlation CRN induces is what
    narrows this interval compared with ``welch_interval``.
    """
    if len(a) != len(b):
        raise ValueError(f"paired samples need equal lengths, got {len(a)} and {len(b)}")
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    return t_interval(d.tolist(), confidence)


def welch_interval(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> Interval:
    """Unpaired interval for mean(b) − mean(a) (Welch–Satterthwaite degrees of freedom)."""
    _check_confidence(confidence)
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.size == 0 or y.size == 0:
        raise ValueError("welch_interval needs at least one value in each sample")
    diff = float(y.mean() - x.mean())
    if x.size < 2 or y.size < 2:
        return diff, math.nan, math.nan
    va, vb = float(x.var(ddof=1)) / x.size, float(y.var(ddof=1)) / y.size
    se2 = va + vb
    if se2 == 0.0:
        return diff, diff, diff
    df = se2**2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    half = t_quantile(confidence, df) * math.sqrt(se2)
    return diff, diff - half, diff + half


def relative_half_width(values: Sequence[float], confidence: float = 0.95) -> float:
    """Half-width of the t interval divided by |mean|.

    inf when fewer than two values, or when the mean is 0 with a positive half-width; 0.0 when
    all values are equal (the estimate is exact, even if it is 0).
    """
    if len(values) < 2:
        return math.inf
    m, _, hi = t_interval(values, confidence)
    half = hi - m
    if half == 0.0:
        return 0.0
    return half / abs(m) if m != 0.0 else math.inf


def replications_needed(
    values: Sequence[float], target_rel_half_width: float, confidence: float = 0.95
) -> int:
    """Estimated replications n* = ceil(n · (h / h*)²) for relative half-width h*; at least n.

    h is the current relative half-width from the n pilot values (Law, *Simulation Modeling and
    Analysis*, §9.4.1). Raises ValueError when h is undefined (n < 2, or zero mean with spread).
    """
    if not target_rel_half_width > 0.0:
        raise ValueError(f"target_rel_half_width must be > 0, got {target_rel_half_width!r}")
    n = len(values)
    h = relative_half_width(values, confidence)
    if math.isinf(h):
        raise ValueError(
            "relative half-width is undefined: need at least 2 values and a non-zero mean"
        )
    return max(n, math.ceil(n * (h / target_rel_half_width) ** 2))


class Summary(TypedDict):
    """JSON-ready summary of one KPI across replications."""

    mean: float | None
    ci95: list[float | None]


def _json_float(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def summarise(values: Sequence[float]) -> Summary:
    """JSON-ready {"mean": m, "ci95": [lo, hi]}: plain floats, None where undefined."""
    if len(values) == 0:
        return {"mean": None, "ci95": [None, None]}
    m, lo, hi = t_interval(values, 0.95)
    return {"mean": _json_float(m), "ci95": [_json_float(lo), _json_float(hi)]}
