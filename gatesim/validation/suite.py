"""Run the analytic checks and judge them: simulated mean, t-interval, analytic value, pass.

A metric passes when its analytic value lies inside the t-interval over replications at the
*per-metric* confidence ``1 − (1 − family_confidence) / m`` (Bonferroni over the m metrics of
the suite), so that a correct engine passes the whole suite with probability ≥ 95 %. The plain
95 % interval is reported too (``in_ci95``); with about 20 metrics, one of them falling just
outside its 95 % interval is expected once in every other run of a correct engine.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gatesim.experiment.runner import run_experiment
from gatesim.scenario.schema import Scenario
from gatesim.stats.intervals import t_interval
from gatesim.validation.checks import CHECKS, Check, Metric

FAMILY_CONFIDENCE = 0.95
Perturb = Callable[[Scenario], Scenario]


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one metric of one check."""

    name: str
    check: str
    title: str
    unit: str
    values: tuple[float, ...]
    mean: float
    ci95: tuple[float, float]
    ci_pass: tuple[float, float]
    pass_confidence: float
    analytic: float
    replications: int
    days: int
    warmup_days: float
    load: str
    seconds: float

    @property
    def passed(self) -> bool:
        return self.ci_pass[0] <= self.analytic <= self.ci_pass[1]

    @property
    def in_ci95(self) -> bool:
        return self.ci95[0] <= self.analytic <= self.ci95[1]

    @property
    def rel_half_width(self) -> float:
        half = (self.ci95[1] - self.ci95[0]) / 2.0
        return half / abs(self.mean) if self.mean else (0.0 if half == 0.0 else math.inf)

    @property
    def rel_error(self) -> float:
        return (self.mean - self.analytic) / self.analytic if self.analytic else self.mean


def per_metric_confidence(metrics: int, family: float = FAMILY_CONFIDENCE) -> float:
    """Bonferroni: each of ``metrics`` intervals at 1 − (1 − family)/metrics."""
    return 1.0 - (1.0 - family) / max(metrics, 1)


def scaled_replications(scenario: Scenario, scale: float) -> int:
    return max(2, round(scenario.replications * scale))


def describe_load(check: Check, scenario: Scenario) -> str:
    loads = check.loads(scenario)
    return ", ".join(f"{name} {rho:.2f}" for name, rho in loads.items())


def run_check(
    check: Check,
    replications: int | None = None,
    jobs: int = 1,
    confidence: float = FAMILY_CONFIDENCE,
    perturb: Perturb | None = None,
) -> list[CheckResult]:
    """Simulate one check and judge each of its metrics at ``confidence``.

    ``perturb`` changes the scenario the engine runs but not the one the analytic values come
    from: a way to show that the checks detect a wrong model.
    """
    scenario = check.scenario()
    engine_scenario = perturb(scenario) if perturb else scenario
    started = time.perf_counter()
    result = run_experiment(engine_scenario, replications, jobs=jobs)
    seconds = time.perf_counter() - started
    load = describe_load(check, scenario)
    return [
        _judge(check, metric, metric.extract(result), scenario, confidence, load, seconds)
        for metric in check.metrics
    ]


def _judge(
    check: Check,
    metric: Metric,
    values: Sequence[float],
    scenario: Scenario,
    confidence: float,
    load: str,
    seconds: float,
) -> CheckResult:
    mean, lo95, hi95 = t_interval(values, 0.95)
    _, lo, hi = t_interval(values, confidence)
    return CheckResult(
        name=f"{check.name}.{metric.name}",
        check=check.name,
        title=check.title,
        unit=metric.unit,
        values=tuple(float(v) for v in values),
        mean=mean,
        ci95=(lo95, hi95),
        ci_pass=(lo, hi),
        pass_confidence=confidence,
        analytic=metric.analytic(scenario),
        replications=len(values),
        days=scenario.days,
        warmup_days=scenario.warmup_days,
        load=load,
        seconds=seconds,
    )


def run_suite(
    replications_scale: float = 1.0,
    jobs: int = 1,
    checks: Sequence[Check] = CHECKS,
    family_confidence: float = FAMILY_CONFIDENCE,
    on_check: Callable[[list[CheckResult]], None] | None = None,
) -> list[CheckResult]:
    """Run every check (replications scaled from each scenario's own count)."""
    confidence = per_metric_confidence(sum(len(c.metrics) for c in checks), family_confidence)
    results: list[CheckResult] = []
    for check in checks:
        reps = scaled_replications(check.scenario(), replications_scale)
        batch = run_check(check, reps, jobs=jobs, confidence=confidence)
        if on_check is not None:
            on_check(batch)
        results.extend(batch)
    return results


def scale_service(factor: float) -> Perturb:
    """A perturbation: every station's service-time mean (exponential) multiplied by factor."""

    def perturb(scenario: Scenario) -> Scenario:
        raw = scenario.model_dump(by_alias=True)
        for station in raw["stations"].values():
            station["service"]["mean"] *= factor
        return Scenario.model_validate(raw)

    return perturb


# --------------------------------------------------------------------------- command line
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="validate-model",
        description="Compare simulated queue statistics with closed-form queueing results.",
    )
    p.add_argument("--scale", type=float, default=1.0, help="replications multiplier (1.0)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (2)")
    p.add_argument("--only", action="append", default=[], metavar="CHECK", help="run one check")
    p.add_argument(
        "--confidence",
        type=float,
        default=FAMILY_CONFIDENCE,
        help="family-wise confidence of the pass verdicts (0.95)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``validate-model``: print the table; exit status 1 if any check fails."""
    from gatesim.validation.report import text_table

    args = _parser().parse_args(argv)
    checks = [c for c in CHECKS if not args.only or c.name in args.only]
    if not checks:
        _parser().error(f"no check named {args.only}; known: {[c.name for c in CHECKS]}")
    started = time.perf_counter()
    results = run_suite(args.scale, args.jobs, checks, args.confidence)
    print(text_table(results))
    failed = [r.name for r in results if not r.passed]
    print(
        f"\n{len(results) - len(failed)}/{len(results)} passed in "
        f"{time.perf_counter() - started:.0f} s"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
