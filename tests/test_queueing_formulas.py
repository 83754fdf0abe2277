"""Closed-form queueing results against textbook and hand-computed values."""

from __future__ import annotations

import math

import pytest

from gatesim.stats.queueing import (
    cobham_priority_waits,
    erlang_b,
    erlang_c,
    jackson_tandem_sojourn,
    md1_wait,
    mg1_wait,
    mm1_wait,
    mmc_wait,
    mmck_blocking,
    mmck_wait,
)

pytestmark = pytest.mark.validation


def erlang_c_direct(c: int, lam: float, mu: float) -> float:
    """Textbook factorial form, fine for small c."""
    a, rho = lam / mu, lam / (c * mu)
    top = a**c / math.factorial(c) / (1.0 - rho)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def test_erlang_c_hand_computed() -> None:
    # c=2, λ=1, μ=0.625: a = 1.6, ρ = 0.8.
    # top = a²/2! / (1-ρ) = 1.28 / 0.2 = 6.4; bottom = 1 + 1.6 + 6.4 = 9; C = 6.4/9 = 0.7111…
    assert erlang_c(2, 1.0, 0.625) == pytest.approx(6.4 / 9.0)
    # Wq = C / (cμ − λ) = 0.7111 / 0.25 = 2.8444…
    assert mmc_wait(2, 1.0, 0.625) == pytest.approx(6.4 / 9.0 / 0.25)


def test_erlang_c_single_server_is_rho() -> None:
    assert erlang_c(1, 0.7, 1.0) == pytest.approx(0.7)


@pytest.mark.parametrize(("c", "lam", "mu"), [(3, 2.0, 1.0), (10, 8.5, 1.0), (25, 20.0, 0.9)])
def test_erlang_c_matches_factorial_form(c: int, lam: float, mu: float) -> None:
    assert erlang_c(c, lam, mu) == pytest.approx(erlang_c_direct(c, lam, mu), rel=1e-12)


def test_erlang_c_large_c_is_stable() -> None:
    p = erlang_c(500, 490.0, 1.0)  # factorials would overflow here
    assert 0.0 < p < 1.0
    assert erlang_c(500, 400.0, 1.0) < 1e-6  # light load: waiting is rare
    assert erlang_b(1, 1.0) == pytest.approx(0.5)


def test_erlang_c_rejects_unstable() -> None:
    with pytest.raises(ValueError, match="unstable"):
        erlang_c(2, 2.0, 1.0)
    with pytest.raises(ValueError):
        erlang_c(0, 0.5, 1.0)


def test_mm1_wait() -> None:
    lam, mu = 0.8, 1.0
    assert mm1_wait(lam, mu) == pytest.approx(0.8 / 0.2)  # ρ/(μ−λ) = 4
    assert mmc_wait(1, lam, mu) == pytest.approx(mm1_wait(lam, mu))
    assert mm1_wait(0.0, 1.0) == 0.0


def test_pollaczek_khinchine() -> None:
    # exponential service (var = mean²) gives M/M/1
    assert mg1_wait(0.8, 1.0, 1.0) == pytest.approx(mm1_wait(0.8, 1.0))
    # M/D/1 waits half as long as M/M/1: λd²/(2(1−ρ)) = 0.8/(2·0.2) = 2
    assert md1_wait(0.8, 1.0) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="unstable"):
        mg1_wait(1.0, 1.0, 0.0)


@pytest.mark.parametrize(("lam", "mu", "K"), [(0.5, 1.0, 1), (0.9, 1.0, 5), (1.5, 1.0, 8)])
def test_mmck_single_server_matches_mm1k(lam: float, mu: float, K: int) -> None:
    rho = lam / mu
    expected = (1 - rho) * rho**K / (1 - rho ** (K + 1))
    assert mmck_blocking(1, K, lam, mu) == pytest.approx(expected)


def test_mm1k_at_rho_one_is_uniform() -> None:
    assert mmck_blocking(1, 4, 1.0, 1.0) == pytest.approx(1 / 5)


def test_mmck_wait_hand_computed() -> None:
    # M/M/1/2, λ=μ=1: p = (1/3, 1/3, 1/3); Lq = 1·p2 = 1/3; λ_eff = 2/3 → Wq = 1/2
    assert mmck_wait(1, 2, 1.0, 1.0) == pytest.approx(0.5)
    # M/M/2/2 (Erlang loss): nobody waits, blocking = Erlang B
    assert mmck_wait(2, 2, 3.0, 1.0) == 0.0
    assert mmck_blocking(2, 2, 3.0, 1.0) == pytest.approx(erlang_b(2, 3.0))


def test_mmck_approaches_mmc_for_large_k() -> None:
    assert mmck_wait(3, 400, 2.5, 1.0) == pytest.approx(mmc_wait(3, 2.5, 1.0), rel=1e-9)
    assert mmck_blocking(3, 400, 2.5, 1.0) < 1e-12
    assert mmck_blocking(1, 3, 0.0, 1.0) == 0.0
    with pytest.raises(ValueError):
        mmck_blocking(3, 2, 1.0, 1.0)


def test_mmck_heavy_overload_is_finite() -> None:
    b = mmck_blocking(2, 300, 50.0, 1.0)  # ratios up to 25^300 would overflow without logs
    assert b == pytest.approx(1 - 2.0 / 50.0)  # throughput → cμ


def test_cobham_one_class_is_pollaczek_khinchine() -> None:
    # exponential service mean 1: E[S²] = 2
    assert cobham_priority_waits([0.8], [1.0], [2.0]) == pytest.approx([mg1_wait(0.8, 1.0, 1.0)])


def test_cobham_two_classes_hand_computed() -> None:
    # λ = (0.3, 0.4), E[S] = (1, 1), E[S²] = (2, 2): W0 = (0.6 + 0.8)/2 = 0.7
    # W_0 = 0.7/(1·0.7) = 1; W_1 = 0.7/(0.7·0.3) = 10/3
    waits = cobham_priority_waits([0.3, 0.4], [1.0, 1.0], [2.0, 2.0])
    assert waits == pytest.approx([1.0, 10.0 / 3.0])
    # conservation: the ρ-weighted mean wait equals FCFS M/M/1 with λ = 0.7
    assert (0.3 * waits[0] + 0.4 * waits[1]) / 0.7 == pytest.approx(mm1_wait(0.7, 1.0))


def test_cobham_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="single server"):
        cobham_priority_waits([0.1], [1.0], [2.0], c=2)
    with pytest.raises(ValueError, match="unstable"):
        cobham_priority_waits([0.5, 0.5], [1.0, 1.0], [2.0, 2.0])
    with pytest.raises(ValueError, match="lengths"):
        cobham_priority_waits([0.5], [1.0, 1.0], [2.0])


def test_jackson_tandem() -> None:
    # M/M/1 (μ=2) then M/M/2 (μ=0.625) at λ=1: (W=1/(2−1)=1) + (2.8444 + 1.6)
    expected = 1.0 + 6.4 / 9.0 / 0.25 + 1.6
    assert jackson_tandem_sojourn(1.0, [(1, 2.0), (2, 0.625)]) == pytest.approx(expected)
    assert jackson_tandem_sojourn(1.0, []) == 0.0
