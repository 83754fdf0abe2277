"""Distributions: analytic moments, sampling accuracy, validation, determinism."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, get_args

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gatesim.core import distributions as D
from gatesim.core.distributions import (
    Deterministic,
    Distribution,
    Empirical,
    Erlang,
    Exponential,
    Gamma,
    Lognormal,
    Mixture,
    Triangular,
    Uniform,
    load_empirical_csv,
    parse_distribution,
)

MIX = {
    "dist": "mixture",
    "components": [
        {"p": 0.3, "dist": {"dist": "deterministic", "value": 2}},
        {"p": 0.7, "dist": {"dist": "exponential", "mean": 10}},
    ],
}

# (spec, analytic mean, analytic variance), all computed by hand.
CASES: list[tuple[dict[str, Any], float, float]] = [
    ({"dist": "deterministic", "value": 3, "shift": 1}, 4.0, 0.0),
    ({"dist": "exponential", "mean": 2, "shift": 0.5}, 2.5, 4.0),
    ({"dist": "uniform", "low": 1, "high": 5}, 3.0, 16 / 12),
    # (1 + 4 + 36 - 2 - 6 - 12) / 18
    ({"dist": "triangular", "low": 1, "mode": 2, "high": 6}, 3.0, 21 / 18),
    ({"dist": "lognormal", "mean": 10, "cv": 0.5}, 10.0, 25.0),
    ({"dist": "lognormal", "mean": 10, "sd": 5, "shift": 2}, 12.0, 25.0),
    ({"dist": "gamma", "mean": 4, "cv": 0.5}, 4.0, 4.0),
    ({"dist": "erlang", "mean": 6, "k": 3}, 6.0, 12.0),
    # mean 16/4; variance (9 + 4 + 1 + 36) / 4
    ({"dist": "empirical", "values": [1, 2, 3, 10]}, 4.0, 12.5),
    # 0.3*2 + 0.7*10; E[X^2] = 0.3*4 + 0.7*(100 + 100) = 141.2, var = 141.2 - 7.6^2
    (MIX, 7.6, 83.44),
]
IDS = [f"{c[0]['dist']}-{i}" for i, c in enumerate(CASES)]

N = 200_000
Z = 5.0  # two-sided normal tail ~6e-7: a failure means a bug, not bad luck


def within(estimate: float, target: float, se: float) -> bool:
    return abs(estimate - target) <= Z * se + 1e-12


@pytest.mark.parametrize(("spec", "mean", "var"), CASES, ids=IDS)
def test_analytic_moments(spec: dict[str, Any], mean: float, var: float) -> None:
    d = parse_distribution(spec)
    assert d.dist == spec["dist"]
    assert d.mean == pytest.approx(mean, rel=1e-12)
    assert d.variance == pytest.approx(var, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(("spec", "mean", "var"), CASES, ids=IDS)
def test_sample_many_moments(spec: dict[str, Any], mean: float, var: float) -> None:
    x = parse_distribution(spec).sample_many(np.random.default_rng(20250101), N)
    assert x.shape == (N,) and x.dtype == np.float64
    assert (x >= 0).all()
    # Mean: standard error from the analytic variance.
    assert within(x.mean(), mean, math.sqrt(var / N))
    # Variance: Var(s^2) ~ (mu4 - sigma^4) / n, with mu4 and sigma^4 estimated from the sample.
    c = x - x.mean()
    s2, m4 = float((c**2).mean()), float((c**4).mean())
    assert within(s2, var, math.sqrt(max(m4 - s2**2, 0.0) / N))


@pytest.mark.parametrize(("spec", "mean", "var"), CASES, ids=IDS)
def test_scalar_sample_mean(spec: dict[str, Any], mean: float, var: float) -> None:
    n = 20_000
    d = parse_distribution(spec)
    rng = np.random.default_rng(7)
    x = np.array([d.sample(rng) for _ in range(n)])
    assert (x >= 0).all()
    assert within(float(x.mean()), mean, math.sqrt(var / n))


def test_deterministic_is_exact() -> None:
    d = Deterministic(value=3, shift=-1)
    rng = np.random.default_rng(0)
    assert d.sample(rng) == 2.0
    assert (d.sample_many(rng, 5) == 2.0).all()


def test_lognormal_numpy_parameters() -> None:
    d = Lognormal(mean=10, cv=0.5)
    assert d.sigma**2 == pytest.approx(math.log(1.25))
    assert d.mu == pytest.approx(math.log(10) - math.log(1.25) / 2)
    assert Lognormal(mean=10, sd=5).cv_value == 0.5


def test_gamma_shape_scale() -> None:
    d = Gamma(mean=4, cv=0.5)
    assert (d.shape, d.scale) == (4.0, 1.0)


@pytest.mark.parametrize("spec", [c[0] for c in CASES], ids=IDS)
def test_determinism_given_seed(spec: dict[str, Any]) -> None:
    d = parse_distribution(spec)
    a, b = np.random.default_rng(42), np.random.default_rng(42)
    assert np.array_equal(d.sample_many(a, 100), d.sample_many(b, 100))
    assert [d.sample(a) for _ in range(50)] == [d.sample(b) for _ in range(50)]


def test_different_seeds_differ() -> None:
    d = Exponential(mean=1)
    x = d.sample_many(np.random.default_rng(1), 10)
    y = d.sample_many(np.random.default_rng(2), 10)
    assert not np.array_equal(x, y)


def test_sample_many_zero_and_negative() -> None:
    rng = np.random.default_rng(0)
    assert parse_distribution(MIX).sample_many(rng, 0).shape == (0,)
    with pytest.raises(ValueError, match="n must be >= 0"):
        Exponential(mean=1).sample_many(rng, -1)


def test_mixture_branch_frequencies() -> None:
    d = parse_distribution(MIX)
    x = d.sample_many(np.random.default_rng(3), N)
    frac = float((x == 2.0).mean())  # the exponential branch hits 2.0 with probability 0
    assert within(frac, 0.3, math.sqrt(0.3 * 0.7 / N))


def test_nested_mixture_and_shift() -> None:
    inner = {
        "dist": "mixture",
        "components": [{"p": 1.0, "dist": {"dist": "uniform", "low": 0, "high": 2}}],
    }
    d = parse_distribution(
        {
            "dist": "mixture",
            "shift": 1,
            "components": [
                {"p": 0.5, "dist": inner},
                {"p": 0.5, "dist": {"dist": "deterministic", "value": 3}},
            ],
        }
    )
    assert isinstance(d, Mixture)
    assert d.mean == pytest.approx(1 + 0.5 * 1 + 0.5 * 3)
    # E[Var] = 0.5 * 4/12; Var[E] = 0.25 * (3 - 1)^2
    assert d.variance == pytest.approx(0.5 * 4 / 12 + 1.0)


def test_mean_alias_round_trip() -> None:
    d = parse_distribution({"dist": "erlang", "mean": 6, "k": 3})
    assert isinstance(d, Erlang) and d.base_mean == 6
    dumped = {"shift": 0.0, "dist": "erlang", "mean": 6.0, "k": 3}
    assert d.model_dump() == d.model_dump(by_alias=True) == dumped
    assert repr(d) == "Erlang(shift=0.0, dist='erlang', mean=6.0, k=3)"
    assert Exponential(mean=2, shift=1).mean == 3.0


@pytest.mark.parametrize("spec", [c[0] for c in CASES], ids=IDS)
def test_round_trips(spec: dict[str, Any]) -> None:
    d = parse_distribution(spec)
    assert parse_distribution(d.model_dump()) == d
    assert parse_distribution(d.model_dump(by_alias=True)) == d
    assert parse_distribution(d) is d
    namespace = {name: getattr(D, name) for name in dir(D)}
    assert eval(repr(d), namespace) == d  # repr is reproducible
    assert hash(d) == hash(parse_distribution(spec))  # frozen => hashable


def test_frozen() -> None:
    d = Uniform(low=1, high=2)
    with pytest.raises(ValidationError):
        d.low = 0  # type: ignore[misc]


NAN, INF = float("nan"), float("inf")

# (spec, text that must appear in the error: the offending field or rule)
INVALID: list[tuple[dict[str, Any], str]] = [
    ({"dist": "deterministic", "value": -1}, "value"),
    ({"dist": "deterministic", "value": 1, "shift": -2}, "shift"),
    ({"dist": "deterministic", "value": NAN}, "finite"),
    ({"dist": "exponential", "mean": 0}, "mean"),
    ({"dist": "exponential", "mean": -1}, "mean"),
    ({"dist": "exponential", "mean": NAN}, "mean"),
    ({"dist": "exponential", "mean": INF}, "finite"),
    ({"dist": "exponential", "mean": 1, "shift": -0.1}, "shift"),
    ({"dist": "exponential", "mean": 1, "shift": NAN}, "shift"),
    ({"dist": "exponential", "rate": 1}, "rate"),  # extra fields forbidden
    ({"dist": "uniform", "low": -1, "high": 2}, "low"),
    ({"dist": "uniform", "low": 3, "high": 2}, "low <= high"),
    ({"dist": "uniform", "low": 1, "high": INF}, "high"),
    ({"dist": "uniform", "low": 1, "high": 2, "shift": -1.5}, "shift"),
    ({"dist": "triangular", "low": 1, "mode": 5, "high": 4}, "mode"),
    ({"dist": "triangular", "low": 1, "mode": 0.5, "high": 4}, "mode"),
    ({"dist": "triangular", "low": 2, "mode": 2, "high": 2}, "low < high"),
    ({"dist": "triangular", "low": -1, "mode": 0, "high": 1}, "low"),
    ({"dist": "lognormal", "mean": 1, "cv": 0.5, "sd": 0.5}, "exactly one of cv, sd"),
    ({"dist": "lognormal", "mean": 1}, "exactly one of cv, sd"),
    ({"dist": "lognormal", "mean": 1, "cv": 0}, "cv"),
    ({"dist": "lognormal", "mean": 1, "sd": -1}, "sd"),
    ({"dist": "lognormal", "mean": -1, "cv": 1}, "mean"),
    ({"dist": "gamma", "mean": 1, "cv": 0}, "cv"),
    ({"dist": "gamma", "mean": 1, "cv": NAN}, "cv"),
    ({"dist": "erlang", "mean": 1, "k": 0}, "k"),
    ({"dist": "erlang", "mean": 1, "k": 2.5}, "k"),
    ({"dist": "empirical", "values": []}, "values"),
    ({"dist": "empirical", "values": [1, -1]}, "values.1"),
    ({"dist": "empirical", "values": [1, NAN]}, "values.1"),
    ({"dist": "empirical"}, "values, or csv + column"),
    ({"dist": "empirical", "csv": "a.csv"}, "together"),
    ({"dist": "empirical", "values": [1], "shift": -2}, "shift"),
    ({"dist": "mixture", "components": []}, "components"),
    (
        {
            "dist": "mixture",
            "components": [
                {"p": 0.5, "dist": {"dist": "deterministic", "value": 1}},
                {"p": 0.4, "dist": {"dist": "deterministic", "value": 2}},
            ],
        },
        "sum to 1",
    ),
    (
        {
            "dist": "mixture",
            "components": [{"p": 0, "dist": {"dist": "deterministic", "value": 1}}],
        },
        "p",
    ),
    (
        {
            "dist": "mixture",
            "components": [{"p": 1.2, "dist": {"dist": "deterministic", "value": 1}}],
        },
        "p",
    ),
    (
        {"dist": "mixture", "components": [{"p": 1, "dist": {"dist": "exponential", "mean": -1}}]},
        "mean",
    ),
    ({"dist": "normal", "mean": 1}, "dist"),
    ({"mean": 1}, "dist"),
]


@pytest.mark.parametrize(
    ("spec", "needle"),
    INVALID,
    ids=[f"{s.get('dist', '?')}-{n}" for s, n in INVALID],
)
def test_invalid_rejected(spec: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_distribution(spec)
    assert needle in str(err.value)


def test_mixture_p_tolerance() -> None:
    third = {"dist": "deterministic", "value": 1}
    ok = {"dist": "mixture", "components": [{"p": 1 / 3, "dist": third}] * 3}
    parse_distribution(ok)  # float rounding of 1/3 is within tolerance
    bad = {"dist": "mixture", "components": [{"p": 1 / 3 - 1e-8, "dist": third}] * 3}
    with pytest.raises(ValidationError, match="sum to 1"):
        parse_distribution(bad)


def test_negative_shift_allowed_when_support_stays_non_negative() -> None:
    assert Uniform(low=2, high=3, shift=-2).sample(np.random.default_rng(0)) >= 0
    assert Empirical(values=[5, 7], shift=-5).mean == 1.0


# ------------------------------------------------------------------------- empirical CSV
def test_empirical_csv_unloaded_then_loaded(tmp_path: Path) -> None:
    f = tmp_path / "times.csv"
    f.write_text("id,minutes,other\n1,2.5,x\n2,3.5,y\n3,,z\n4,6,w\n")
    d = parse_distribution({"dist": "empirical", "csv": "times.csv", "column": "minutes"})
    assert isinstance(d, Empirical)
    rng = np.random.default_rng(0)
    with pytest.raises(RuntimeError, match="with_values"):
        d.sample(rng)
    with pytest.raises(RuntimeError):
        d.sample_many(rng, 3)
    with pytest.raises(RuntimeError):
        _ = d.mean
    values = load_empirical_csv(f, "minutes")
    assert values == (2.5, 3.5, 6.0)  # the blank cell is skipped
    loaded = d.with_values(values)
    assert loaded.mean == 4.0 and loaded.csv == "times.csv"
    assert set(loaded.sample_many(rng, 100)) <= {2.5, 3.5, 6.0}
    with pytest.raises(ValidationError):
        d.with_values([1, -1])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n", "column 'minutes' not found"),
        ("", "column 'minutes' not found"),
        ("minutes\n1\nabc\n", "'abc' is not a number"),
        ("minutes\n1\nnan\n", "not a finite number"),
        ("minutes\n1\n-2\n", "negative value"),
        ("minutes\n\n", "has no values"),
    ],
)
def test_load_empirical_csv_errors(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_empirical_csv(f, "minutes")


def test_load_empirical_csv_reports_line(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("minutes\n1\n2\n-3\n")
    with pytest.raises(ValueError, match=r"bad\.csv:4 column 'minutes'"):
        load_empirical_csv(f, "minutes")


# ------------------------------------------------------------------------- properties
finite = st.floats(min_value=0.01, max_value=100, allow_nan=False)


@st.composite
def leaf(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            [
                "deterministic",
                "exponential",
                "uniform",
                "triangular",
                "lognormal",
                "gamma",
                "erlang",
                "empirical",
            ]
        )
    )
    if kind == "deterministic":
        return {"dist": kind, "value": draw(finite)}
    if kind in ("uniform", "triangular"):
        lo, width = draw(finite), draw(finite)
        spec = {"dist": kind, "low": lo, "high": lo + width, "shift": -lo * draw(st.floats(0, 1))}
        if kind == "triangular":
            spec["mode"] = lo + width * draw(st.floats(0, 1))
        return spec
    if kind == "empirical":
        return {"dist": kind, "values": draw(st.lists(finite, min_size=1, max_size=20))}
    spec = {"dist": kind, "mean": draw(finite), "shift": draw(st.floats(0, 10))}
    if kind == "erlang":
        return spec | {"k": draw(st.integers(1, 20))}
    if kind == "exponential":
        return spec
    return spec | {"cv": draw(st.floats(0.05, 3))}


def mixtures(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        comps = draw(st.lists(children, min_size=1, max_size=3))
        weights = [draw(st.floats(0.1, 1)) for _ in comps]
        ps = [w / sum(weights) for w in weights]
        return {
            "dist": "mixture",
            "components": [{"p": p, "dist": c} for p, c in zip(ps, comps, strict=True)],
        }

    return build()


distributions = st.recursive(leaf(), mixtures, max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(spec=distributions, seed=st.integers(0, 2**32 - 1))
def test_samples_never_negative_and_moments_sane(spec: dict[str, Any], seed: int) -> None:
    d: Distribution = parse_distribution(spec)
    rng = np.random.default_rng(seed)
    x = d.sample_many(rng, 200)
    assert np.isfinite(x).all() and (x >= 0).all()
    assert all(d.sample(rng) >= 0 for _ in range(20))
    assert math.isfinite(d.mean) and d.mean >= 0
    assert math.isfinite(d.variance) and d.variance >= 0
    assert parse_distribution(d.model_dump(by_alias=True)) == d


def test_union_members_and_names() -> None:
    members = get_args(get_args(Distribution)[0])
    assert members == D.DISTRIBUTION_TYPES
    assert D.DISTRIBUTION_NAMES == (
        "deterministic",
        "exponential",
        "uniform",
        "triangular",
        "lognormal",
        "gamma",
        "erlang",
        "empirical",
        "mixture",
    )
    for cls in (
        Deterministic,
        Exponential,
        Uniform,
        Triangular,
        Lognormal,
        Gamma,
        Erlang,
        Empirical,
        Mixture,
    ):
        assert cls.model_config["frozen"] and cls.model_config["extra"] == "forbid"
