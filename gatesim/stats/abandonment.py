"""Closed forms for queues whose customers abandon: M/M/c+M (Erlang-A, Palm's model).

Arrivals Poisson(λ), c exponential servers (rate μ each), FIFO, and each waiting customer
abandons after an exponential patience of rate θ (mean 1/θ); a customer in service stays.
Two computations that share no code:

* :func:`erlang_a_abandonment`: the stationary distribution in closed form. For n ≤ c,
  p_n ∝ (λ/μ)^n / n!; above c the tail sums to p_c · A(x, y) with x = cμ/θ, y = λ/θ and
  A(x, y) = Σ_j y^j / ((x+1)…(x+j)) = e^y y^(−x) Γ(x+1) P(x, y) (P: the regularised lower
  incomplete gamma function). Abandonment = 1 − (carried load)/(offered load) =
  1 − μ·E[busy servers]/λ (Mandelbaum & Zeltyn 2007, "Service engineering in action: the
  Palm/Erlang-A queue").
* :func:`erlang_a_tagged`: a tagged arrival (PASTA) that finds j customers waiting ahead moves
  up as those ahead are served or abandon (rate cμ + jθ) and abandons itself at rate θ; a
  recursion over j gives its probability of service and its mean wait when served, averaged
  over the birth–death chain truncated where its tail is below 1e-15.

Rates per unit time; waits in the unit of 1/rate.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammainc, gammaln

__all__ = ["erlang_a_abandonment", "erlang_a_chain", "erlang_a_tagged"]


def _check(c: int, lam: float, mu: float, theta: float) -> None:
    if c < 1 or lam <= 0.0 or mu <= 0.0 or theta <= 0.0:
        raise ValueError(f"need c >= 1 and positive rates, got c={c}, λ={lam}, μ={mu}, θ={theta}")


def erlang_a_abandonment(c: int, lam: float, mu: float, theta: float) -> float:
    """Share of arrivals that abandon in M/M/c+M, from the incomplete gamma function."""
    _check(c, lam, mu, theta)
    n = np.arange(c + 1)
    log_p = n * math.log(lam / mu) - gammaln(n + 1)  # unnormalised p_0..p_c, in logs
    x, y = c * mu / theta, lam / theta
    regularised = float(gammainc(x, y))
    if regularised <= 0.0:  # underflow: patience very long against the service (θ ≪ cμ)
        raise ValueError(f"θ={theta} too small for the incomplete-gamma form; see erlang_a_tagged")
    log_tail = y - x * math.log(y) + gammaln(x + 1) + math.log(regularised)  # log A(x, y)
    top = max(log_p.max(), log_p[c] + log_tail)
    below = np.exp(log_p[:c] - top)  # p_0 .. p_{c-1}
    from_c = math.exp(log_p[c] + log_tail - top)  # p_c · A: all states with c busy servers
    total = below.sum() + from_c
    busy = (float(np.dot(n[:c], below)) + c * from_c) / total
    return float(1.0 - mu * busy / lam)


def erlang_a_chain(c: int, lam: float, mu: float, theta: float) -> np.ndarray:
    """Stationary p_0, p_1, … of the M/M/c+M birth–death chain (death rate min(n,c)μ +
    (n−c)⁺θ), truncated once the terms fall below 1e-15 of the largest."""
    _check(c, lam, mu, theta)
    log_p = [0.0]
    n = 0
    while True:
        n += 1
        death = min(n, c) * mu + max(n - c, 0) * theta
        log_p.append(log_p[-1] + math.log(lam / death))
        if n > c and log_p[-1] < max(log_p) - 35.0 * math.log(10.0):
            break
    p = np.exp(np.asarray(log_p) - max(log_p))
    return p / p.sum()


def erlang_a_tagged(c: int, lam: float, mu: float, theta: float) -> tuple[float, float]:
    """(share of arrivals that abandon, mean wait of those served) in M/M/c+M, from a tagged
    arrival's race against the customers ahead of it (FIFO)."""
    p = erlang_a_chain(c, lam, mu, theta)
    served = p[:c].sum()  # found a free server: served at once, wait 0
    wait_and_served = 0.0
    p_serve, t_serve = 1.0, 0.0  # j = -1: in service (probability 1, no more wait)
    for j in range(len(p) - c):
        ahead = c * mu + j * theta  # rate at which the queue ahead moves up one place
        rate = ahead + theta  # ... or the tagged customer gives up
        p_serve = ahead / rate * p_serve  # P(served) from j: cμ / (cμ + (j+1)θ)
        t_serve = p_serve / rate + ahead / rate * t_serve  # E[wait · 1{served}] from j
        served += p[c + j] * p_serve
        wait_and_served += p[c + j] * t_serve
    return float(1.0 - served), float(wait_and_served / served)
