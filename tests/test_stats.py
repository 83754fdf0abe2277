"""Monitors, confidence intervals and MSER-5, against hand-computed values."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from gatesim.core.monitors import HourlyProfile, TimeWeighted
from gatesim.stats.intervals import (
    paired_difference,
    relative_half_width,
    replications_needed,
    summarise,
    t_interval,
    welch_interval,
)
from gatesim.stats.warmup import mser5

# --- TimeWeighted ------------------------------------------------------------------------------


def step_monitor() -> TimeWeighted:
    """Level 0 on [0,2), 3 on [2,5), 1 on [5,9), 4 from 9 on."""
    m = TimeWeighted()
    m.update(2.0, 3.0)
    m.update(5.0, 1.0)
    m.update(9.0, 4.0)
    return m


def test_time_weighted_step_function() -> None:
    m = step_monitor()
    # area to 10: 0*2 + 3*3 + 1*4 + 4*1 = 17; the open segment [9,10] is included
    assert m.area(10.0) == pytest.approx(17.0)
    assert m.mean(10.0) == pytest.approx(1.7)
    assert m.max == 4.0
    assert m.level == 4.0


def test_time_weighted_reset_truncates_warmup() -> None:
    m = TimeWeighted()
    m.update(2.0, 3.0)
    m.update(5.0, 1.0)
    m.reset(6.0)  # level 1 carries on; max restarts from it
    assert m.max == 1.0
    assert m.mean(6.0) == 0.0  # no time elapsed since the reset
    m.update(9.0, 4.0)
    # [6,9) at 1, [9,12) at 4: area 3 + 12 = 15 over 6
    assert m.mean(12.0) == pytest.approx(2.5)
    assert m.max == 4.0


def test_time_weighted_nonzero_start() -> None:
    m = TimeWeighted(t0=100.0, level=2.0)
    assert m.max == 2.0
    assert m.mean(100.0) == 0.0
    m.update(104.0, 6.0)
    assert m.mean(106.0) == pytest.approx((2 * 4 + 6 * 2) / 6)


def test_time_weighted_has_no_instance_dict() -> None:
    with pytest.raises(AttributeError):
        TimeWeighted().__dict__  # noqa: B018 (__slots__ keeps the hot-path object small)


@given(st.lists(st.tuples(st.floats(0.0, 10.0), st.floats(0.0, 50.0)), min_size=1, max_size=40))
def test_time_weighted_matches_direct_integral(steps: list[tuple[float, float]]) -> None:
    m, t, area, levels = TimeWeighted(), 0.0, 0.0, [0.0]
    for dt, level in steps:
        area += m.level * dt
        t += dt
        m.update(t, level)
        levels.append(level)
    assert m.area(t + 1.0) == pytest.approx(area + steps[-1][1], rel=1e-9, abs=1e-9)
    assert m.max == max(levels)


# --- HourlyProfile -----------------------------------------------------------------------------


def test_hourly_profile_hand_computed() -> None:
    p = HourlyProfile()  # minutes; time 0 = midnight
    p.update(30.0, 2.0)  # 00:00-00:30 at 0
    p.update(150.0, 5.0)  # 00:30-02:30 at 2
    means = p.means(180.0)  # 02:30-03:00 at 5 (open segment)
    assert means[0] == pytest.approx(1.0)  # (0*30 + 2*30)/60
    assert means[1] == pytest.approx(2.0)
    assert means[2] == pytest.approx(3.5)  # (2*30 + 5*30)/60
    assert np.isnan(means[3:]).all()  # hours never observed


def test_hourly_profile_multi_day_constant_level() -> None:
    p = HourlyProfile(t0=90.0, level=3.0)
    means = p.means(90.0 + 3 * 1440.0 + 45.0)
    assert np.allclose(means, 3.0)
    hours = p.hours_observed(90.0 + 3 * 1440.0 + 45.0)
    assert hours.sum() == pytest.approx(3 * 1440.0 + 45.0)
    # 3 whole days, then 01:30-02:15: hour 1 gets 30 more minutes, hour 2 gets 15
    assert hours[1] == pytest.approx(3 * 60.0 + 30.0)
    assert hours[2] == pytest.approx(3 * 60.0 + 15.0)
    assert hours[0] == pytest.approx(3 * 60.0)


def test_hourly_profile_reset_and_wrap() -> None:
    p = HourlyProfile(hour_length=1.0)  # hours as the time unit
    p.update(23.5, 10.0)
    p.reset(23.5)
    p.update(24.5, 0.0)  # 23:30-00:30 at 10, wrapping midnight
    means = p.means(25.0)
    assert means[23] == pytest.approx(10.0)
    assert means[0] == pytest.approx(5.0)  # 30 min at 10 then 30 min at 0
    assert np.isnan(means[1:23]).all()


def test_hourly_profile_agrees_with_time_weighted() -> None:
    rng = np.random.default_rng(3)
    p, m, t = HourlyProfile(), TimeWeighted(), 0.0
    for _ in range(500):
        t += float(rng.exponential(40.0))
        level = float(rng.integers(0, 20))
        p.update(t, level)
        m.update(t, level)
    hours = p.hours_observed(t)
    assert np.nansum(p.means(t) * hours) == pytest.approx(m.area(t))


def test_hourly_profile_rejects_bad_hour_length() -> None:
    with pytest.raises(ValueError, match="hour_length"):
        HourlyProfile(hour_length=0.0)


# --- intervals ---------------------------------------------------------------------------------


def test_t_interval_hand_computed() -> None:
    # values 2, 4, 6, 8: mean 5, s² = (9+1+1+9)/3 = 20/3, s/√n = √(20/3)/2
    m, lo, hi = t_interval([2.0, 4.0, 6.0, 8.0])
    half = sps.t.ppf(0.975, 3) * math.sqrt(20.0 / 3.0) / 2.0  # t_{0.975,3} = 3.182446
    assert m == 5.0
    assert (lo, hi) == pytest.approx((5.0 - half, 5.0 + half))
    assert half == pytest.approx(3.182446 * 1.290994, rel=1e-6)


def test_t_interval_edge_cases() -> None:
    m, lo, hi = t_interval([3.0])
    assert m == 3.0 and math.isnan(lo) and math.isnan(hi)
    assert t_interval([7.0, 7.0, 7.0]) == (7.0, 7.0, 7.0)
    with pytest.raises(ValueError):
        t_interval([])
    with pytest.raises(ValueError, match="confidence"):
        t_interval([1.0, 2.0], confidence=1.0)


def test_t_interval_narrows_with_lower_confidence() -> None:
    x = [1.0, 3.0, 2.0, 5.0]
    _, lo90, hi90 = t_interval(x, 0.90)
    _, lo99, hi99 = t_interval(x, 0.99)
    assert lo99 < lo90 < hi90 < hi99


def test_paired_is_narrower_than_welch_under_crn() -> None:
    rng = np.random.default_rng(7)
    common = rng.normal(100.0, 20.0, size=30)  # shared noise, as common random numbers give
    a = common + rng.normal(0.0, 1.0, size=30)
    b = common + 5.0 + rng.normal(0.0, 1.0, size=30)
    dp, plo, phi = paired_difference(a.tolist(), b.tolist())
    dw, wlo, whi = welch_interval(a.tolist(), b.tolist())
    assert dp == pytest.approx(dw)  # same point estimate, mean(b) - mean(a)
    assert plo < 5.0 < phi
    assert (phi - plo) < 0.2 * (whi - wlo)


def test_welch_hand_computed() -> None:
    a, b = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0, 8.0]
    va, vb = 1.0 / 3.0, (20.0 / 3.0) / 4.0  # s²/n for each sample
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 3)
    half = sps.t.ppf(0.975, df) * math.sqrt(va + vb)
    d, lo, hi = welch_interval(a, b)
    assert d == pytest.approx(3.0)
    assert (lo, hi) == pytest.approx((3.0 - half, 3.0 + half))
    assert welch_interval([1.0, 1.0], [2.0, 2.0]) == (1.0, 1.0, 1.0)


def test_paired_difference_requires_equal_lengths() -> None:
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference([1.0, 2.0], [1.0])


def test_relative_half_width_and_replications() -> None:
    x = [2.0, 4.0, 6.0, 8.0]
    h = relative_half_width(x)
    assert h == pytest.approx(sps.t.ppf(0.975, 3) * math.sqrt(20.0 / 3.0) / 2.0 / 5.0)
    assert replications_needed(x, h / 2.0) == 16  # halving the width: 4 times the runs
    assert replications_needed(x, 10.0) == 4  # already precise enough: never fewer than n
    assert relative_half_width([1.0]) == math.inf
    assert relative_half_width([-1.0, 1.0]) == math.inf
    assert relative_half_width([0.0, 0.0]) == 0.0
    with pytest.raises(ValueError):
        replications_needed([1.0], 0.1)
    with pytest.raises(ValueError):
        replications_needed(x, 0.0)


def test_summarise_is_json_ready() -> None:
    s = summarise([2.0, 4.0, 6.0, 8.0])
    m, lo, hi = t_interval([2.0, 4.0, 6.0, 8.0])
    assert s == {"mean": m, "ci95": [lo, hi]}
    assert all(type(v) is float for v in [s["mean"], *s["ci95"]])
    assert summarise([np.float64(3.0)]) == {"mean": 3.0, "ci95": [None, None]}
    assert summarise([]) == {"mean": None, "ci95": [None, None]}
    json.dumps(summarise([1.0]), allow_nan=False)


# --- MSER-5 ------------------------------------------------------------------------------------


def test_mser5_finds_obvious_transient() -> None:
    rng = np.random.default_rng(11)
    series = np.concatenate([np.full(50, 100.0), rng.normal(10.0, 2.0, size=500)])
    d = mser5(series.tolist())
    assert 50 <= d <= 60
    assert d % 5 == 0


def test_mser5_stationary_series_truncates_little() -> None:
    rng = np.random.default_rng(5)
    assert mser5(rng.normal(0.0, 1.0, size=2000).tolist()) < 1000


def test_mser5_short_and_limits() -> None:
    assert mser5([]) == 0
    assert mser5([1.0] * 9) == 0  # one batch only
    series = [100.0] * 30 + [0.0] * 70  # 20 batches, the first 6 transient
    assert mser5(series) == 30
    assert mser5(series, max_fraction=0.25) == 25  # minimum sits at the search limit
    # MSER prefers keeping data: a transient over most of the run is not cut
    assert mser5([100.0] * 80 + [0.0] * 20) == 0
    with pytest.raises(ValueError):
        mser5(series, max_fraction=0.0)


def test_mser5_matches_direct_definition() -> None:
    rng = np.random.default_rng(2)
    series = np.concatenate([np.linspace(30.0, 5.0, 100), rng.exponential(5.0, size=400)])
    batches = series.reshape(-1, 5).mean(axis=1)
    n = batches.size
    stats = [((batches[d:] - batches[d:].mean()) ** 2).sum() / (n - d) ** 2 for d in range(n // 2)]
    assert mser5(series.tolist()) == 5 * int(np.argmin(stats))
