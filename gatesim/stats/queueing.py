"""Closed-form queueing results, used to validate stations and in tests.

Rates (lam, mu) are per unit time; waits come back in the same unit as 1/rate. "Wait" means
time in queue before service starts (Wq), not sojourn, unless the name says sojourn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "cobham_priority_waits",
    "erlang_b",
    "erlang_c",
    "gim1_sigma",
    "gim1_wait",
    "jackson_tandem_sojourn",
    "md1_wait",
    "mg1_wait",
    "mm1_wait",
    "mmc_wait",
    "mmck_blocking",
    "mmck_number",
    "mmck_wait",
    "preemptive_resume_waits",
    "tandem_blocking_throughput",
]


def _check_rates(c: int, lam: float, mu: float) -> None:
    if c < 1:
        raise ValueError(f"need at least one server, got c={c!r}")
    if lam < 0.0 or not mu > 0.0:
        raise ValueError(f"need lam >= 0 and mu > 0, got lam={lam!r}, mu={mu!r}")


def _check_stable(c: int, lam: float, mu: float) -> None:
    _check_rates(c, lam, mu)
    if lam >= c * mu:
        raise ValueError(f"unstable queue: lam={lam!r} >= c*mu={c * mu!r}")


def erlang_b(c: int, a: float) -> float:
    """Erlang B blocking probability for c servers and offered load a = lam/mu.

    Uses the recursion B_k = a·B_{k−1} / (k + a·B_{k−1}), which stays in [0, 1] (no factorials).
    """
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, lam: float, mu: float) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C)."""
    _check_stable(c, lam, mu)
    a = lam / mu
    b = erlang_b(c, a)
    return b / (1.0 - (a / c) * (1.0 - b))


def mmc_wait(c: int, lam: float, mu: float) -> float:
    """Mean wait in queue Wq of M/M/c: C(c, a) / (c·mu − lam)."""
    return erlang_c(c, lam, mu) / (c * mu - lam)


def mm1_wait(lam: float, mu: float) -> float:
    """Mean wait in queue Wq of M/M/1: rho / (mu − lam)."""
    _check_stable(1, lam, mu)
    return (lam / mu) / (mu - lam)


def mg1_wait(lam: float, mean_s: float, var_s: float) -> float:
    """Pollaczek–Khinchine mean wait in queue of M/G/1: lam·E[S²] / (2(1 − rho))."""
    if lam < 0.0 or not mean_s > 0.0 or var_s < 0.0:
        raise ValueError(
            f"need lam >= 0, mean_s > 0, var_s >= 0; got {lam!r}, {mean_s!r}, {var_s!r}"
        )
    rho = lam * mean_s
    if rho >= 1.0:
        raise ValueError(f"unstable queue: rho={rho!r} >= 1")
    return lam * (var_s + mean_s * mean_s) / (2.0 * (1.0 - rho))


def md1_wait(lam: float, d: float) -> float:
    """Mean wait in queue of M/D/1 with constant service time d."""
    return mg1_wait(lam, d, 0.0)


def _mmck_probs(c: int, K: int, lam: float, mu: float) -> np.ndarray:
    """Stationary distribution p_0 … p_K of the M/M/c/K birth–death chain (log-space, stable)."""
    _check_rates(c, lam, mu)
    if c > K:
        raise ValueError(f"capacity K={K!r} must be >= servers c={c!r}")
    if lam == 0.0:
        return np.eye(K + 1)[0]
    n = np.arange(1, K + 1)
    log_ratio = math.log(lam) - np.log(np.minimum(n, c) * mu)  # p_n / p_{n-1}
    log_p = np.concatenate(([0.0], np.cumsum(log_ratio)))
    p = np.exp(log_p - log_p.max())
    return p / p.sum()


def mmck_blocking(c: int, K: int, lam: float, mu: float) -> float:
    """Blocking probability p_K of M/M/c/K (K = servers + waiting places); any load allowed."""
    return float(_mmck_probs(c, K, lam, mu)[-1])


def mmck_number(c: int, K: int, lam: float, mu: float) -> float:
    """Mean number in system (waiting and in service) of M/M/c/K."""
    p = _mmck_probs(c, K, lam, mu)
    return float(np.dot(np.arange(K + 1), p))


def mmck_wait(c: int, K: int, lam: float, mu: float) -> float:
    """Mean wait in queue of admitted customers of M/M/c/K: Lq / (lam·(1 − p_K)) by Little."""
    p = _mmck_probs(c, K, lam, mu)
    if lam == 0.0:
        return 0.0
    lq = float(np.dot(np.maximum(np.arange(K + 1) - c, 0), p))
    return lq / (lam * (1.0 - p[-1]))


def cobham_priority_waits(
    lams: Sequence[float],
    mean_s: Sequence[float],
    second_moments: Sequence[float],
    c: int = 1,
) -> list[float]:
    """Mean waits per class in a non-preemptive priority M/G/1 queue (Cobham 1954).

    Class 0 has the highest priority. W_k = W0 / ((1 − σ_{k−1})(1 − σ_k)) with
    W0 = Σ_i lam_i·E[S_i²] / 2 and σ_k = Σ_{i<=k} lam_i·E[S_i]. Only c = 1 is supported.
    """
    if c != 1:
        raise ValueError(f"cobham_priority_waits supports a single server only, got c={c!r}")
    if not len(lams) == len(mean_s) == len(second_moments):
        raise ValueError("lams, mean_s and second_moments must have equal lengths")
    rho = [lam * s for lam, s in zip(lams, mean_s, strict=True)]
    if sum(rho) >= 1.0:
        raise ValueError(f"unstable queue: total rho={sum(rho)!r} >= 1")
    w0 = sum(lam * s2 for lam, s2 in zip(lams, second_moments, strict=True)) / 2.0
    waits, sigma_prev = [], 0.0
    for r in rho:
        sigma = sigma_prev + r
        waits.append(w0 / ((1.0 - sigma_prev) * (1.0 - sigma)))
        sigma_prev = sigma
    return waits


def jackson_tandem_sojourn(lam: float, stations: Sequence[tuple[int, float]]) -> float:
    """Mean total sojourn (waits + services) through M/M/c stations (c, mu) in series.

    By Burke's theorem each station's input is Poisson(lam), so sojourns simply add.
    """
    return sum(mmc_wait(c, lam, mu) + 1.0 / mu for c, mu in stations)


def preemptive_resume_waits(
    lams: Sequence[float], mean_s: Sequence[float], second_moments: Sequence[float]
) -> list[float]:
    """Mean waits (time in system less the class's mean service) per class of a preemptive-resume
    priority M/G/1 queue; class 0 first (e.g. Harchol-Balter 2013, §32.3).

    T_k = E[S_k] / (1 − σ_{k−1}) + R_k / ((1 − σ_{k−1})(1 − σ_k)), R_k = Σ_{i<=k} lam_i·E[S_i²]/2,
    σ_k = Σ_{i<=k} lam_i·E[S_i]: class k sees only classes 0..k. With exponential service
    class 0's T_0 = E[S_0]/(1 − ρ_0), its M/M/1 alone.
    """
    if not len(lams) == len(mean_s) == len(second_moments):
        raise ValueError("lams, mean_s and second_moments must have equal lengths")
    if sum(lam * s for lam, s in zip(lams, mean_s, strict=True)) >= 1.0:
        raise ValueError("unstable queue: total rho >= 1")
    waits, sigma_prev, residual = [], 0.0, 0.0
    for lam, s, s2 in zip(lams, mean_s, second_moments, strict=True):
        sigma = sigma_prev + lam * s
        residual += lam * s2 / 2.0
        sojourn = s / (1.0 - sigma_prev) + residual / ((1.0 - sigma_prev) * (1.0 - sigma))
        waits.append(sojourn - s)
        sigma_prev = sigma
    return waits


def tandem_blocking_throughput(mu1: float, mu2: float, places: int) -> float:
    """Throughput of two exponential single servers in series, the first saturated (never
    starved), with ``places`` waiting places before the second and blocking after service.

    The state n = trucks held for station 2 (its waiting room and server, plus one blocked on
    server 1 when n = places + 2) is a birth–death chain on 0..N, N = places + 2, birth μ1,
    death μ2: p_n = p_0·r^n with r = μ1/μ2, p_0 = (1 − r)/(1 − r^(N+1)) (1/(N+1) when r = 1).
    Throughput = μ2·(1 − p_0).
    """
    if places < 0 or not (mu1 > 0.0 and mu2 > 0.0):
        raise ValueError(f"need places >= 0 and positive rates, got {places}, {mu1}, {mu2}")
    n = places + 2
    r = mu1 / mu2
    p0 = 1.0 / (n + 1) if r == 1.0 else (1.0 - r) / (1.0 - r ** (n + 1))
    return mu2 * (1.0 - p0)


def gim1_sigma(laplace: Callable[[float], float], mu: float) -> float:
    """σ of a GI/M/1 queue: the root in (0, 1) of σ = A*(μ(1 − σ)), A* the Laplace–Stieltjes
    transform of the interarrival time. The probability an arrival finds the server busy.

    σ ↦ A*(μ(1 − σ)) is increasing and convex on [0, 1] with a fixed point at 1; when
    ρ = 1/(μ E[A]) < 1 there is exactly one more in (0, 1), found by bisection on
    g(σ) = A*(μ(1 − σ)) − σ (positive below the root, negative between it and 1).
    """
    if not mu > 0.0:
        raise ValueError(f"need mu > 0, got {mu!r}")
    lo, hi = 0.0, 1.0 - 1e-12
    if laplace(mu * (1.0 - hi)) - hi >= 0.0:
        raise ValueError("unstable GI/M/1 queue: no root of sigma = A*(mu(1 - sigma)) below 1")
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if laplace(mu * (1.0 - mid)) - mid > 0.0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def gim1_wait(laplace: Callable[[float], float], mu: float) -> float:
    """Mean wait in queue of a GI/M/1 queue: W = σ / (μ (1 − σ))."""
    sigma = gim1_sigma(laplace, mu)
    return sigma / (mu * (1.0 - sigma))
