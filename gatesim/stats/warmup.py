"""Warm-up truncation point by MSER-5.

References:
    White, K. P. (1997). An effective truncation heuristic for bias reduction in simulation
    output. *Simulation* 69(6), 323–334.
    White, K. P., Cobb, M. J. & Spratt, S. C. (2000). A comparison of five steady-state
    truncation heuristics for simulation. *Proc. Winter Simulation Conference*, 755–760.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["BATCH", "mser5"]

BATCH = 5  # MSER-5: the statistic is computed on non-overlapping batch means of 5 observations


def mser5(series: Sequence[float], max_fraction: float = 0.5) -> int:
    """Number of leading observations to delete as warm-up (a multiple of 5).

    The series (e.g. per-truck sojourns in order of completion, or a level sampled on a regular
    grid) is cut into batch means of 5; a trailing partial batch is dropped. For each candidate
    truncation d (in batches) within the first ``max_fraction`` of the batches, the statistic
    Σ_{i>d} (x_i − x̄_d)² / (n − d)² is computed and the smallest minimising d wins. At least
    two batches are always kept. Fewer than two batches → 0.

    A minimum at the search limit suggests the run is too short to reach steady state; callers
    may compare the result with ``BATCH * int(max_fraction * len(series) / BATCH)``.
    """
    if not 0.0 < max_fraction <= 1.0:
        raise ValueError(f"max_fraction must be in (0, 1], got {max_fraction!r}")
    x = np.asarray(series, dtype=float)
    n = x.size // BATCH
    if n < 2:
        return 0
    batches = x[: n * BATCH].reshape(n, BATCH).mean(axis=1)
    batches -= batches.mean()  # centring reduces cancellation in the sum-of-squares identity
    d_max = min(int(max_fraction * n), n - 2)
    return BATCH * int(np.argmin(_mser_statistics(batches)[: d_max + 1]))


def _mser_statistics(x: np.ndarray) -> np.ndarray:
    """MSER statistic for every truncation d = 0 … n−1, from suffix sums in O(n)."""
    s1 = np.cumsum(x[::-1])[::-1]  # s1[d] = Σ_{i>=d} x_i
    s2 = np.cumsum((x * x)[::-1])[::-1]
    m = np.arange(x.size, 0, -1, dtype=float)  # observations kept: n − d
    ss = np.maximum(s2 - s1 * s1 / m, 0.0)  # Σ (x_i − mean)² ≥ 0; clip rounding noise
    return ss / (m * m)
