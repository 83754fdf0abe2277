"""The engine against closed-form queueing results (gatesim.validation), and the suite's power.

The full suite takes a couple of minutes on two cores; GATESIM_VALIDATION_SCALE (default 1.0)
scales its replication counts, GATESIM_VALIDATION_JOBS (default 2) its worker processes.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from gatesim.stations.base import Sampler
from gatesim.validation import CHECKS, get_check, run_check, run_suite, scale_service
from gatesim.validation.report import text_table
from gatesim.validation.suite import per_metric_confidence

pytestmark = pytest.mark.validation

SCALE = float(os.environ.get("GATESIM_VALIDATION_SCALE", "1.0"))
JOBS = int(os.environ.get("GATESIM_VALIDATION_JOBS", "2"))


def test_analytic_values_match_hand_computation() -> None:
    """The oracle side, from the scenario files, against numbers worked out by hand."""
    expected = {
        "mm1": [4.0, 0.8],  # rho/(mu - lam) = 0.8/0.2
        "md1": [0.85 / (2 * 0.15)],  # lam d^2 / (2(1 - rho))
        "mg1_lognormal": [0.7 * 3.25 / (2 * 0.3)],  # E[S^2] = 1 + cv^2
        "mg1_triangular": [0.8 * (7.1875 / 6) / (2 * 0.2)],  # E[S^2] = (a²+b²+c²+ab+ac+bc)/6
        # class hi: its own M/M/1, rho_1/(mu_1 - lam_1); class lo: 1.25/(1 - 0.3) + R/((1 -
        # 0.3)(1 - 0.8)) - 1.25 with R = 0.4·2·0.75²/2 + 0.4·2·1.25²/2 = 0.85
        "preemptive": [0.3 / (1 / 0.75 - 0.4), 1.25 / 0.7 + 0.85 / (0.7 * 0.2) - 1.25],
        # r = 1/0.8 = 1.25, N = 2 + 2: p0 = 0.25 / (1.25**5 - 1); throughput 0.8(1 - p0), p_N
        "tandem_blocking": [0.8 * (1 - 0.25 / (1.25**5 - 1)), 0.25 / (1.25**5 - 1) * 1.25**4],
        # W0 = 0.85, sigma = 0.3, 0.8; from the records, then from streaming statistics
        "priority": [0.85 / 0.7, 0.85 / (0.7 * 0.2)] * 2,
        # sigma/(1 - sigma), sigma by fixed-point iteration of exp(-1.25(1 - sigma)) and of
        # (2.4/(3.4 - sigma))^3 to 16 digits (not the suite's bisection)
        "dm1": [0.6286297964969464 / (1 - 0.6286297964969464)],
        "ekm1": [0.7109344408552809 / (1 - 0.7109344408552809)],
        "feedback": [1 / (1.0 * (1 - 0.25) - 0.6), (1 - 0.25**61) / (1 - 0.25)],
        "profile": [0.0, 2400 / 46, 2 * 2400 / 46, 3 * 2400 / 46, 5 * 2400 / 46],
    }
    for name, values in expected.items():
        check = get_check(name)
        scenario = check.scenario()
        got = [m.analytic(scenario) for m in check.metrics]
        assert got == pytest.approx(values, rel=1e-12), name


def test_suite_passes() -> None:
    results = run_suite(SCALE, jobs=JOBS)
    assert len(results) == sum(len(c.metrics) for c in CHECKS)
    failed = [r.name for r in results if not r.passed]
    assert not failed, f"failed: {failed}\n{text_table(results)}"


def _slow_draws(factor: float) -> Callable[[Sampler], float]:
    """Every service-time draw of the engine silently scaled: each block a station's sampler
    starts hands out scaled draws (stations call ``Sampler.next`` directly, not ``draw``)."""
    original = Sampler.refill

    def refill(self: Sampler) -> float:
        first = original(self)
        unscaled = self.next
        self.next = lambda: factor * unscaled()  # StopIteration still ends the block
        return factor * first

    return refill


def test_a_wrong_engine_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """Service silently 20 % slower inside the engine: the M/M/1 check must catch it."""
    monkeypatch.setattr(Sampler, "refill", _slow_draws(1.2))
    confidence = per_metric_confidence(sum(len(c.metrics) for c in CHECKS))
    results = run_check(get_check("mm1"), replications=10, jobs=1, confidence=confidence)
    verdicts = {r.name: r for r in results}
    wait, util = verdicts["mm1.s1.wait_q"], verdicts["mm1.s1.utilization"]
    assert not wait.passed and wait.mean > wait.analytic
    assert not util.passed and util.mean > util.analytic


def test_a_perturbed_scenario_fails() -> None:
    """The engine runs a 5 % slower server than the analytic side assumes: still detected."""
    confidence = per_metric_confidence(sum(len(c.metrics) for c in CHECKS))
    results = run_check(get_check("mm1"), 10, JOBS, confidence, perturb=scale_service(1.05))
    assert [r.passed for r in results] == [False, False]
