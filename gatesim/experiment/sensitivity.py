"""Global sensitivity analysis: which uncertain assumptions move a KPI, and by how much.

Two stages, both with SALib on the unit hypercube (factors map [0, 1] to their ranges,
:mod:`gatesim.experiment.uncertainty`):

1. **Morris screening** of every factor: ``r`` one-at-a-time trajectories over a ``levels``
   grid. μ* (mean absolute elementary effect) is the KPI change a factor causes across its
   range, σ the spread of that effect (interaction or non-linearity). Cost ``r (k + 1)``.
2. **Sobol indices** (Saltelli design, bootstrap CIs) on the ``top`` factors by μ* of each KPI,
   every other factor varying too but as one group, "other assumptions". S1 is the share of
   the KPI's variance a factor explains alone, ST its share including interactions; the
   group's ST bounds what the unselected factors can explain together, so ``1 - ST(other)`` is
   the share the selected few explain. Cost ``n (g + 2)`` for ``g`` groups, ``n`` a power of 2.

``budget`` is the number of design points each stage may use. A design point is evaluated by
a *model*: any callable from an (points x factors) array of unit coordinates to a
(points x KPIs) array (:class:`gatesim.experiment.sensitivity_run.ScenarioModel` simulates the
scenario with common random numbers; tests use closed forms).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from gatesim.core.errors import ScenarioError
from gatesim.experiment.sensitivity_result import OTHERS, SensitivityResult
from gatesim.experiment.uncertainty import Factor

Model = Callable[[np.ndarray], np.ndarray]
METHODS = ("morris", "sobol")
MIN_TRAJECTORIES = 2  # σ needs at least two elementary effects per factor
MIN_SOBOL_BASE = 16  # Saltelli base sample: below this the bootstrap CIs mean little
DEFAULT_TRAJECTORIES = 10


@dataclass(frozen=True)
class SensitivityOptions:
    """How to analyse: method, design points per stage, factors carried to Sobol, CIs."""

    method: Literal["morris", "sobol"] = "sobol"
    budget: int | None = None  # None: DEFAULT_TRAJECTORIES Morris trajectories
    sobol_budget: int | None = None  # None: the same as budget (or 64 base samples)
    top: int = 5
    levels: int = 4
    resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            known = ", ".join(METHODS)
            raise ScenarioError(None, "--method", f"must be one of {known}", self.method)
        if self.top < 1:
            raise ScenarioError(None, "--top", "must be at least 1", self.top)
        for option, value in (("--budget", self.budget), ("--sobol-budget", self.sobol_budget)):
            if value is not None and value < 1:
                raise ScenarioError(None, option, "must be a positive integer", value)


def morris_trajectories(factors: int, options: SensitivityOptions) -> int:
    """Trajectories the budget pays for; a budget below two trajectories is refused."""
    points = factors + 1
    budget = options.budget if options.budget is not None else DEFAULT_TRAJECTORIES * points
    if budget < MIN_TRAJECTORIES * points:
        raise ScenarioError(
            None, "--budget", f"too small for Morris over {factors} uncertain values: it needs "
            f"at least {MIN_TRAJECTORIES} trajectories x {points} = {MIN_TRAJECTORIES * points} "
            "design points", budget,
        )  # fmt: skip
    return budget // points


def sobol_base(groups: int, options: SensitivityOptions) -> int:
    """The Saltelli base sample size: the largest power of two the budget pays for."""
    per_base = groups + 2
    given = options.sobol_budget if options.sobol_budget is not None else options.budget
    budget = given if given is not None else MIN_SOBOL_BASE * 4 * per_base
    option = "--sobol-budget" if options.sobol_budget is not None else "--budget"
    if budget < MIN_SOBOL_BASE * per_base:
        raise ScenarioError(
            None, option, f"too small for Sobol indices of {groups} groups: it needs at "
            f"least {MIN_SOBOL_BASE} x ({groups} + 2) = {MIN_SOBOL_BASE * per_base} design "
            "points", budget,
        )  # fmt: skip
    return 1 << int(np.floor(np.log2(budget // per_base)))


def check_budget(factors: int, kpis: int, options: SensitivityOptions) -> None:
    """Refuse a budget too small for either stage, before anything runs."""
    morris_trajectories(factors, options)
    if options.method == "sobol":
        most = options.top * kpis  # selected factors at most, plus the others' group
        sobol_base(factors if factors <= most else most + 1, options)


def _problem(factors: Sequence[Factor], groups: Sequence[str] | None = None) -> dict[str, Any]:
    problem: dict[str, Any] = {
        "num_vars": len(factors),
        "names": [f.name for f in factors],
        "bounds": [[0.0, 1.0]] * len(factors),
    }
    if groups is not None:
        problem["groups"] = list(groups)
    return problem


def analyse(
    factors: Sequence[Factor], model: Model, kpis: Sequence[str], options: SensitivityOptions
) -> SensitivityResult:
    """Morris screening of every factor, then (``method='sobol'``) Sobol indices of the
    ``top`` factors of each KPI by μ*, the others as one group."""
    check_budget(len(factors), len(kpis), options)
    morris = morris_stage(factors, model, kpis, options)
    design: dict[str, Any] = {
        "budget_per_stage": options.budget,
        "sobol_budget": options.sobol_budget,
        "morris_trajectories": morris_trajectories(len(factors), options),
        "morris_levels": options.levels,
        "morris_points": len(morris.design),
        "seed": options.seed,
        "bootstrap_resamples": options.resamples,
        "confidence": options.confidence,
    }
    result = SensitivityResult(list(factors), list(kpis), options.method, morris.rows)
    result.design = design
    if options.method == "morris":
        return result
    result.selected = select_factors(morris.rows, kpis, options.top)
    if not result.selected:  # nothing moves any KPI: every Sobol index would be 0
        return result
    sobol = sobol_stage(factors, model, kpis, result.selected, options)
    result.sobol_rows = sobol.rows
    design["sobol_groups"] = len({r["factor"] for r in sobol.rows})
    design["sobol_base_sample"] = len(sobol.design) // (design["sobol_groups"] + 2)
    design["sobol_points"] = len(sobol.design)
    return result


@dataclass
class StageResult:
    """One stage's design and its per-KPI indices (tidy rows)."""

    design: np.ndarray
    outputs: np.ndarray
    rows: list[dict[str, Any]] = field(default_factory=list)


def morris_stage(
    factors: Sequence[Factor], model: Model, kpis: Sequence[str], options: SensitivityOptions
) -> StageResult:
    """Elementary effects of every factor on every KPI (μ* with its bootstrap CI, σ, μ)."""
    from SALib.analyze import morris as analyse
    from SALib.sample import morris as sample

    problem = _problem(factors)
    trajectories = morris_trajectories(len(factors), options)
    design = sample.sample(problem, trajectories, num_levels=options.levels, seed=options.seed)
    outputs = _evaluated(model, design, kpis)
    stage = StageResult(design, outputs)
    for j, kpi in enumerate(kpis):
        found = analyse.analyze(
            problem, design, outputs[:, j], num_resamples=options.resamples,
            conf_level=options.confidence, num_levels=options.levels, seed=options.seed,
        )  # fmt: skip
        for i, f in enumerate(factors):
            stage.rows.append(
                {
                    "kpi": kpi,
                    "factor": f.name,
                    "mu_star": float(found["mu_star"][i]),
                    "mu_star_ci": float(found["mu_star_conf"][i]),
                    "sigma": float(found["sigma"][i]),
                    "mu": float(found["mu"][i]),
                }
            )
    return stage


def select_factors(rows: Sequence[dict[str, Any]], kpis: Sequence[str], top: int) -> list[str]:
    """The ``top`` factors by μ* of each KPI (a factor with μ* = 0 never), in ranking order."""
    chosen: list[str] = []
    for kpi in kpis:
        ranked = sorted((r for r in rows if r["kpi"] == kpi), key=lambda r: -r["mu_star"])
        for row in ranked[:top]:
            if row["mu_star"] > 0 and row["factor"] not in chosen:
                chosen.append(row["factor"])
    return chosen


def sobol_stage(
    factors: Sequence[Factor],
    model: Model,
    kpis: Sequence[str],
    selected: Sequence[str],
    options: SensitivityOptions,
) -> StageResult:
    """First-order and total Sobol indices of the selected factors and of the others as one
    group (every factor varies, so the indices are shares of the KPI's full variance)."""
    from SALib.analyze import sobol as analyse
    from SALib.sample import sobol as sample

    groups = [f.name if f.name in selected else OTHERS for f in factors]
    names = list(dict.fromkeys(groups))
    problem = _problem(factors, groups if len(names) < len(factors) else None)
    base = sobol_base(len(names), options)
    design = sample.sample(problem, base, calc_second_order=False, seed=options.seed)
    outputs = _evaluated(model, design, kpis)
    stage = StageResult(design, outputs)
    for j, kpi in enumerate(kpis):
        found = _sobol_indices(analyse, problem, outputs[:, j], options)
        for i, name in enumerate(names):
            stage.rows.append({"kpi": kpi, "factor": name, **{k: v[i] for k, v in found.items()}})
    return stage


def _sobol_indices(
    analyse: Any, problem: dict[str, Any], y: np.ndarray, options: SensitivityOptions
) -> dict[str, list[float]]:
    if np.ptp(y) == 0.0:  # the KPI does not move at all: every index is 0 (SALib gives NaN)
        zeros = [0.0] * len(dict.fromkeys(problem.get("groups", problem["names"])))
        return {"S1": zeros, "S1_ci": zeros, "ST": zeros, "ST_ci": zeros}
    found = analyse.analyze(
        problem, y, calc_second_order=False, num_resamples=options.resamples,
        conf_level=options.confidence, seed=options.seed,
    )  # fmt: skip
    return {
        "S1": [float(v) for v in found["S1"]],
        "S1_ci": [float(v) for v in found["S1_conf"]],
        "ST": [float(v) for v in found["ST"]],
        "ST_ci": [float(v) for v in found["ST_conf"]],
    }


def _evaluated(model: Model, design: np.ndarray, kpis: Sequence[str]) -> np.ndarray:
    outputs = np.asarray(model(design), dtype=float)
    if outputs.shape != (len(design), len(kpis)):
        expected = (len(design), len(kpis))
        raise ValueError(f"model returned shape {outputs.shape}, expected {expected}")
    for j, kpi in enumerate(kpis):
        undefined = int(np.count_nonzero(~np.isfinite(outputs[:, j])))
        if undefined:
            raise ScenarioError(
                None, "--kpi", f"undefined (NaN) at {undefined} of {len(design)} design points, "
                "so no index can be computed; choose a KPI every design point defines", kpi,
            )  # fmt: skip
    return outputs
