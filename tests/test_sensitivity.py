"""Sensitivity methods on closed forms: Morris and Sobol indices against their known values.

The models here are plain functions of the factors (no simulation), so every expected value is
exact or computed by quadrature; the designs are seeded, so each check is deterministic, and
each also requires the CI to be narrow enough that "within the CI" is a real test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatesim.core.errors import ScenarioError
from gatesim.experiment.sensitivity import (
    SensitivityOptions,
    analyse,
    morris_trajectories,
    sobol_base,
)
from gatesim.experiment.sensitivity_result import OTHERS
from gatesim.experiment.uncertainty import Factor, factor


def function_model(factors: list[Factor], fn):  # type: ignore[no-untyped-def]
    """A Model from ``fn(values array: points x factors) -> points`` (one KPI, 'y')."""

    def model(unit: np.ndarray) -> np.ndarray:
        columns = [np.vectorize(f.value)(unit[:, i]) for i, f in enumerate(factors)]
        values = np.column_stack(columns)
        return np.asarray(fn(values), dtype=float)[:, None]

    return model


def rows_by_factor(rows: list[dict], kpi: str = "y") -> dict[str, dict]:  # type: ignore[type-arg]
    return {r["factor"]: r for r in rows if r["kpi"] == kpi}


# --------------------------------------------------------------------------- factors
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_triangular_quantile_inverts_the_distribution_function(u: float, peak: float) -> None:
    low, high = 2.0, 7.0
    mode = low + peak * (high - low)
    x = Factor("f", ("f",), low, high, "-", mode, "triangular", mode).value(u)
    cdf = (
        (x - low) ** 2 / ((high - low) * (mode - low))
        if x < mode
        else 1 - (high - x) ** 2 / ((high - low) * (high - mode))
        if x < high
        else 1.0
    )
    assert low <= x <= high
    assert cdf == pytest.approx(u, abs=1e-9)


def test_whole_number_factor_gives_each_value_the_same_share() -> None:
    servers = Factor("s", ("s",), 2, 5, "-", 3, integer=True)
    grid = (np.arange(4000) + 0.5) / 4000  # midpoints: 1000 per whole number exactly
    values, counts = np.unique([servers.value(u) for u in grid], return_counts=True)
    assert values.tolist() == [2, 3, 4, 5]
    assert counts.tolist() == [1000, 1000, 1000, 1000]
    assert servers.value(0.0) == 2 and servers.value(1.0) == 5


# --------------------------------------------------------------------------- Morris
def test_morris_of_a_linear_function_is_exact() -> None:
    """Elementary effects of y = 3 x1 + 0.5 x2 are constants: μ* = slope x range, σ = 0; a
    factor the function ignores gets μ* = σ = 0 exactly."""
    factors = [factor("x1", 0.0, 2.0), factor("x2", 10.0, 14.0), factor("x3", -1.0, 1.0)]
    model = function_model(factors, lambda x: 3 * x[:, 0] + 0.5 * x[:, 1])
    options = SensitivityOptions(method="morris", budget=40, resamples=100)
    result = analyse(factors, model, ["y"], options)
    rows = rows_by_factor(result.morris_rows)
    assert rows["x1"]["mu_star"] == pytest.approx(3 * 2.0, rel=1e-12)
    assert rows["x2"]["mu_star"] == pytest.approx(0.5 * 4.0, rel=1e-12)
    assert rows["x3"]["mu_star"] == 0.0 and rows["x3"]["sigma"] == 0.0
    assert max(r["sigma"] for r in rows.values()) < 1e-9
    assert list(result.ranking("y").index) == ["x1", "x2", "x3"]
    assert "2 of 3 assumptions account for 90 %" in result.reading("y")
    assert "1 of the 3 have no effect" in result.reading("y")


# --------------------------------------------------------------------------- Sobol
def test_sobol_of_an_additive_function_matches_its_closed_form() -> None:
    """y = 3 x1 + x2 + 0 x3 on [0, 1]^3: S1 = ST = (0.9, 0.1, 0). x3 (μ* = 0) is not carried
    to the Sobol stage: it varies as "other assumptions", whose total index is 0 exactly."""
    factors = [factor(n, 0.0, 1.0) for n in ("x1", "x2", "x3")]
    model = function_model(factors, lambda x: 3 * x[:, 0] + x[:, 1])
    options = SensitivityOptions(budget=40, sobol_budget=5 * 2**12, top=3, seed=3, resamples=300)
    rows = rows_by_factor(analyse(factors, model, ["y"], options).sobol_rows)
    for name, expected in (("x1", 0.9), ("x2", 0.1)):
        for index in ("S1", "ST"):
            assert abs(rows[name][index] - expected) <= rows[name][f"{index}_ci"] < 0.05
    assert set(rows) == {"x1", "x2", OTHERS}
    assert rows[OTHERS]["ST"] == 0.0


ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}


def test_sobol_of_the_ishigami_function_matches_the_known_indices() -> None:
    """Ishigami (a = 7, b = 0.1) on [-π, π]^3, wrapped as a trivial model: the published
    indices (Saltelli et al. 2008) lie within the bootstrap CIs, and the CIs are narrow."""
    factors = [factor(n, -math.pi, math.pi) for n in ("x1", "x2", "x3")]

    def ishigami(x: np.ndarray) -> np.ndarray:
        return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])

    result = analyse(factors, function_model(factors, ishigami), ["y"], SensitivityOptions(
        budget=40, sobol_budget=5 * 2**13, top=3, seed=11, resamples=300))  # fmt: skip
    rows = rows_by_factor(result.sobol_rows)
    for name in ISHIGAMI_S1:
        assert abs(rows[name]["S1"] - ISHIGAMI_S1[name]) <= rows[name]["S1_ci"] < 0.05
        assert abs(rows[name]["ST"] - ISHIGAMI_ST[name]) <= rows[name]["ST_ci"] < 0.05
    assert list(result.ranking("y").index) == ["x1", "x2", "x3"]


def mm1_wait(lam: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Mean wait in queue of an M/M/1 queue: Wq = λ / (μ (μ - λ))."""
    return lam / (mu * (mu - lam))


def mm1_indices(lam: tuple[float, float], mu: tuple[float, float]) -> dict[str, float]:
    """Sobol indices of Wq for λ, μ uniform on their ranges, by Gauss-Legendre quadrature
    (200 x 200 nodes; Wq is smooth on the stable region, so this is exact to ~1e-12)."""
    nodes, weights = np.polynomial.legendre.leggauss(200)
    x = lam[0] + (nodes + 1) / 2 * (lam[1] - lam[0])
    y = mu[0] + (nodes + 1) / 2 * (mu[1] - mu[0])
    w = weights / 2  # weights of a uniform distribution on the interval
    grid = mm1_wait(x[:, None], y[None, :])  # [λ, μ]
    mean = w @ grid @ w
    variance = w @ (grid - mean) ** 2 @ w
    given_lam, given_mu = grid @ w, w @ grid
    var_within_lam = w @ ((grid - given_mu[None, :]) ** 2) @ w  # E_μ Var_λ(Wq | μ)
    var_within_mu = w @ ((grid - given_lam[:, None]) ** 2) @ w  # E_λ Var_μ(Wq | λ)
    return {
        "S1_lambda": float(w @ (given_lam - mean) ** 2 / variance),
        "S1_mu": float(w @ (given_mu - mean) ** 2 / variance),
        "ST_lambda": float(var_within_lam / variance),
        "ST_mu": float(var_within_mu / variance),
    }


def test_sobol_of_mm1_waiting_time_matches_quadrature() -> None:
    """Wq of an M/M/1 queue over λ in [0.5, 0.8] and μ in [1.0, 1.5]: the sampled Sobol
    indices agree with the ones the closed form gives by quadrature."""
    lam, mu = (0.5, 0.8), (1.0, 1.5)
    exact = mm1_indices(lam, mu)
    assert exact["S1_lambda"] + exact["S1_mu"] < 1 < exact["ST_lambda"] + exact["ST_mu"]
    factors = [factor("lambda", *lam), factor("mu", *mu)]
    model = function_model(factors, lambda x: mm1_wait(x[:, 0], x[:, 1]))
    options = SensitivityOptions(budget=30, sobol_budget=4 * 2**13, top=2, seed=5, resamples=300)
    rows = rows_by_factor(analyse(factors, model, ["y"], options).sobol_rows)
    for name in ("lambda", "mu"):
        for index in ("S1", "ST"):
            estimate, ci = rows[name][index], rows[name][f"{index}_ci"]
            assert abs(estimate - exact[f"{index}_{name}"]) <= ci < 0.05


def test_unselected_factors_form_one_group_whose_total_index_bounds_the_rest() -> None:
    """With top = 1, only x1 gets its own indices; x2 and x3 vary as 'other assumptions',
    whose ST is their joint share: 0.1 for y = 3 x1 + x2 (x3 inert)."""
    factors = [factor(n, 0.0, 1.0) for n in ("x1", "x2", "x3")]
    model = function_model(factors, lambda x: 3 * x[:, 0] + x[:, 1])
    result = analyse(
        factors,
        model,
        ["y"],
        SensitivityOptions(budget=40, sobol_budget=4 * 2**12, top=1, resamples=300),
    )
    rows = rows_by_factor(result.sobol_rows)
    assert set(rows) == {"x1", OTHERS}
    assert abs(rows[OTHERS]["ST"] - 0.1) <= rows[OTHERS]["ST_ci"] < 0.05
    share, _ = result.explained("y") or (0.0, 0.0)
    assert share == pytest.approx(1 - rows[OTHERS]["ST"])
    assert result.reading("y").startswith("1 of 3 assumptions have a total Sobol index")


def test_a_kpi_that_never_moves_gets_zero_indices() -> None:
    factors = [factor(n, 0.0, 1.0) for n in ("x1", "x2")]
    model = function_model(factors, lambda x: np.full(len(x), 4.0))
    result = analyse(factors, model, ["y"], SensitivityOptions(budget=64, top=2))
    assert all(r["mu_star"] == 0 for r in result.morris_rows)
    assert result.sobol_rows == [] and result.selected == []  # nothing to carry to Sobol
    assert "None of the 2 assumptions moves y" in result.reading("y")


# --------------------------------------------------------------------------- budgets
def test_budget_sizes_follow_the_design() -> None:
    options = SensitivityOptions(budget=100)
    assert morris_trajectories(9, options) == 10  # 100 // (9 + 1)
    assert sobol_base(3, options) == 16  # largest power of 2 <= 100 // (3 + 2) = 20
    with pytest.raises(ScenarioError, match="at least 2 trajectories x 51 = 102"):
        morris_trajectories(50, options)
    with pytest.raises(ScenarioError, match=r"at least 16 x \(5 \+ 2\) = 112"):
        sobol_base(5, options)


def test_a_model_returning_nan_is_refused_with_one_line() -> None:
    factors = [factor(n, 0.0, 1.0) for n in ("x1", "x2")]
    model = function_model(factors, lambda x: np.where(x[:, 0] > 0.5, np.nan, 1.0))
    with pytest.raises(ScenarioError, match="undefined \\(NaN\\) at"):
        analyse(factors, model, ["y"], SensitivityOptions(method="morris", budget=30))


def test_the_reading_warns_when_the_sobol_shares_are_imprecise() -> None:
    """y = x1 + 3 sin(20 x2) x3 (an oscillating interaction) with top = 1: a base sample of 16
    leaves the explained share with a CI far above 15 %, and the reading says so; 4096 does
    not."""
    factors = [factor(n, 0.0, 1.0) for n in ("x1", "x2", "x3")]
    model = function_model(factors, lambda x: x[:, 0] + 3 * np.sin(20 * x[:, 1]) * x[:, 2])
    small = analyse(factors, model, ["y"], SensitivityOptions(budget=64, top=1, resamples=300))
    large = analyse(factors, model, ["y"], SensitivityOptions(
        budget=40, sobol_budget=4 * 2**12, top=1, resamples=300))  # fmt: skip
    assert small.design["sobol_base_sample"] == 16 and large.design["sobol_base_sample"] == 4096
    assert (small.explained("y") or (0, 0))[1] > 0.15 > (large.explained("y") or (0, 1))[1]
    assert "These shares are imprecise" in small.reading("y")
    assert "imprecise" not in large.reading("y")
