"""Draws of a scenario's uncertain values, and the distribution of an answer over them.

A draw is one point of a space-filling design over the ``uncertain:`` ranges: a Latin
hypercube (SALib, as the sensitivity command samples) or a scrambled Sobol sequence (SciPy),
seeded, on the unit hypercube and mapped to values by each factor's inverse distribution
function (:meth:`gatesim.experiment.uncertainty.Factor.value`). Every draw keeps the
scenario's own simulation seed, so draws differ only in the drawn values (common random
numbers): a draw-to-draw difference of an answer is the assumptions', not noise's.

:func:`summary` and :func:`shares` describe an answer over the draws: median and 90 %
interval of a number (capacity, servers), or how often each value occurs (a year).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from gatesim.core.errors import ScenarioError
from gatesim.experiment.uncertainty import DesignSpace, Factor

SAMPLERS = ("lhs", "sobol")
#: The interval an answer is quoted with: the central 90 % of the draws.
INTERVAL = (0.05, 0.95)


@dataclass(frozen=True)
class DrawOptions:
    """How many draws, from which design, with which seed (the design's, not the runs')."""

    draws: int
    sampler: Literal["lhs", "sobol"] = "lhs"
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.draws, bool) or not isinstance(self.draws, int) or self.draws < 1:
            raise ScenarioError(None, "--draws", "must be a positive integer", self.draws)
        if self.sampler not in SAMPLERS:
            known = ", ".join(SAMPLERS)
            raise ScenarioError(None, "--sampler", f"must be one of {known}", self.sampler)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ScenarioError(None, "--draw-seed", "must be an integer >= 0", self.seed)

    def document(self) -> dict[str, Any]:
        return {"draws": self.draws, "sampler": self.sampler, "draw_seed": self.seed}


@dataclass(frozen=True)
class Draw:
    """One draw: each factor's value (by factor name) and the field overrides it makes."""

    index: int
    values: dict[str, int | float]
    overrides: dict[str, int | float]


def unit_design(dimensions: int, options: DrawOptions) -> np.ndarray:
    """(draws x dimensions) coordinates in [0, 1)."""
    if options.sampler == "lhs":
        from SALib.sample import latin

        problem = {
            "num_vars": dimensions,
            "names": [f"x{i}" for i in range(dimensions)],
            "bounds": [[0.0, 1.0]] * dimensions,
        }
        return np.asarray(latin.sample(problem, options.draws, seed=options.seed), dtype=float)
    from scipy.stats import qmc

    with warnings.catch_warnings():  # a count that is not a power of 2 is still well spread
        warnings.simplefilter("ignore", UserWarning)
        return qmc.Sobol(dimensions, scramble=True, seed=options.seed).random(options.draws)


def draws_of(space: DesignSpace, options: DrawOptions) -> list[Draw]:
    """The draws of a scenario's uncertain values (each validated as a scenario later)."""
    unit = unit_design(len(space.factors), options)
    return [_draw(i, space.factors, row) for i, row in enumerate(unit)]


def _draw(index: int, factors: Sequence[Factor], row: np.ndarray) -> Draw:
    values: dict[str, int | float] = {}
    overrides: dict[str, int | float] = {}
    for f, u in zip(factors, row, strict=True):
        value = f.value(u)
        values[f.name] = round(value) if f.integer else value  # a server count is whole
        overrides.update({path: values[f.name] for path in f.paths})
    return Draw(index, values, overrides)


def summary(values: Sequence[float | None], discrete: bool = False) -> dict[str, Any]:
    """Median, 90 % interval (5th and 95th percentiles), mean, range, over the draws that gave
    an answer; ``answered`` counts them. Percentiles interpolate linearly between draws, or,
    ``discrete`` (a server count), are values some draw gave (the empirical quantile)."""
    known = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if known.size == 0:
        return {"answered": 0, "draws": len(values), "median": None, "interval90": [None, None]}
    method: Literal["inverted_cdf", "linear"] = "inverted_cdf" if discrete else "linear"
    low, median, high = np.quantile(known, (INTERVAL[0], 0.5, INTERVAL[1]), method=method)
    return {
        "answered": int(known.size),
        "draws": len(values),
        "median": float(median),
        "interval90": [float(low), float(high)],
        "mean": float(known.mean()),
        "min": float(known.min()),
        "max": float(known.max()),
    }


def shares(values: Sequence[Hashable]) -> list[dict[str, Any]]:
    """How often each answer occurs, as a share of the draws (in sorted order, None last)."""
    counts: dict[Hashable, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    ordered = sorted(counts, key=lambda v: (v is None, str(type(v)), v if v is not None else 0))
    return [{"value": v, "draws": counts[v], "share": counts[v] / len(values)} for v in ordered]
