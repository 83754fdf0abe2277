"""Experiments over one or more scenarios: executor, resumable replications, automatic warm-up
and automatic replication count.

Replication ``r`` of every scenario uses the seed material ``(scenario.seed, r, stream)``, so
scenarios that share a seed and replication indices are compared under common random numbers.
All scenarios of a study run the same replication indices 0 … n−1 and, with ``--warmup auto``,
the same truncation, so paired differences are always defined.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gatesim.core.errors import UsageError
from gatesim.experiment.executors import local_cluster
from gatesim.experiment.output import scenario_document, scenario_hash
from gatesim.experiment.parts import independent_parts
from gatesim.experiment.progress import ProgressBar
from gatesim.experiment.runner import (
    ExperimentResult,
    Only,
    ReplicationOutcome,
    run_replications,
)
from gatesim.experiment.store import PartialStore
from gatesim.scenario.schema import Scenario
from gatesim.stats.intervals import relative_half_width, t_quantile
from gatesim.stats.warmup import BATCH, mser5

AUTO_FIRST_BATCH = 3  # at least this many replications before the first precision check
Outcomes = list[ReplicationOutcome]


@dataclass(frozen=True)
class Execution:
    """Where replications run; never changes what they return."""

    jobs: int = 1
    dask_address: str | None = None

    @property
    def executor(self) -> str:
        if self.dask_address is not None:
            return "dask"
        return "processes" if self.jobs > 1 else "serial"

    def describe(self) -> dict[str, Any]:
        return {"executor": self.executor, "jobs": self.jobs, "dask_address": self.dask_address}


@contextmanager
def scheduler_address(execution: Execution) -> Iterator[str | None]:
    """The Dask address to use; ``local`` starts one LocalCluster for the whole study."""
    if execution.dask_address != "local":
        yield execution.dask_address
        return
    with local_cluster(execution.jobs) as cluster:
        yield str(cluster.scheduler_address)


@dataclass(frozen=True)
class Design:
    """How many replications and which warm-up (fixed values are already in the scenarios)."""

    auto_replications: bool = False
    auto_warmup: bool = False
    target_kpi: str = "throughput_per_day"
    target_rel: float = 0.05
    max_replications: int = 50


def replication_key(scenario: Scenario, only: Only = None) -> str:
    """Identifies a replication's inputs: the resolved scenario except its replication count.

    Restricted to some parts (``only``), the key covers those parts' stations, streams and
    routes and everything not tied to one part, so a part whose inputs did not change (another
    lane's load moved) is found again; its results cannot depend on the rest
    (:mod:`gatesim.model.parts`)."""
    resolved = scenario.model_copy(update={"replications": 1})
    if only is None:
        return scenario_hash(resolved)
    parts = [independent_parts(scenario)[i] for i in only]
    stations = {name for part in parts for name in part.stations}
    streams = {name for part in parts for name in part.streams}
    document = scenario_document(resolved)
    document["stations"] = {k: v for k, v in document["stations"].items() if k in stations}
    document["arrivals"] = {k: v for k, v in document["arrivals"].items() if k in streams}
    used = {a.route for n, a in scenario.arrivals.items() if n in streams}
    used |= {a.returns.route for n, a in scenario.arrivals.items() if n in streams and a.returns}
    document["routes"] = {k: v for k, v in document["routes"].items() if k in used}
    document["parts"] = [[list(p.stations), list(p.streams)] for p in parts]
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class ReplicationRunner:
    """Runs (scenario, replication) tasks once each: from memory, the partial store or anew."""

    execution: Execution = field(default_factory=Execution)
    address: str | None = None
    store: PartialStore | None = None
    resume: bool = False
    progress: ProgressBar = field(default_factory=lambda: ProgressBar(False))
    resumed: set[tuple[str, int]] = field(default_factory=set)
    #: a store kept across commands (``--cache``): read and written, never removed
    cache: PartialStore | None = None
    cached: set[tuple[str, int]] = field(default_factory=set)
    _cache: dict[tuple[str, int], ReplicationOutcome] = field(default_factory=dict)

    def outcomes(
        self,
        scenarios: Sequence[Scenario],
        counts: Sequence[int],
        description: str,
        only: Sequence[Only] | None = None,
    ) -> list[Outcomes]:
        """Replications 0 … counts[i]−1 of every scenario, in replication order; ``only[i]``
        restricts scenario i to those independent parts (:func:`run_replications`)."""
        parts = list(only) if only is not None else [None] * len(scenarios)
        keys = [replication_key(s, o) for s, o in zip(scenarios, parts, strict=True)]
        todo = self._missing(list(zip(scenarios, parts, strict=True)), keys, counts)
        self._compute(todo, description)
        return [[self._cache[(k, r)] for r in range(n)] for k, n in zip(keys, counts, strict=True)]

    def discard_store(self) -> None:
        """Remove the partial store (after the final results were written)."""
        if self.store is not None:
            self.store.remove()

    def resumed_count(self, scenario: Scenario, count: int) -> int:
        key = replication_key(scenario)
        return sum((key, r) in self.resumed for r in range(count))

    def _missing(
        self, scenarios: Sequence[tuple[Scenario, Only]], keys: list[str], counts: Sequence[int]
    ) -> list[tuple[str, tuple[Scenario, Only], int]]:
        todo: dict[tuple[str, int], tuple[Scenario, Only]] = {}
        for scenario, key, count in zip(scenarios, keys, counts, strict=True):
            for r in range(count):
                if (key, r) not in self._cache and (key, r) not in todo and not self._reuse(key, r):
                    todo[(key, r)] = scenario
        return [(key, scenario, r) for (key, r), scenario in todo.items()]

    def _reuse(self, key: str, replication: int) -> bool:
        """Found in the partial store (with resume) or in the cache kept across commands."""
        for store, found in (
            (self.store if self.resume else None, self.resumed),
            (self.cache, self.cached),
        ):
            outcome = None if store is None else store.load(key, replication)
            if outcome is not None:
                self._cache[(key, replication)] = outcome
                found.add((key, replication))
                return True
        return False

    def _compute(
        self, todo: list[tuple[str, tuple[Scenario, Only], int]], description: str
    ) -> None:
        if not todo:
            return
        remaining = Counter(key for key, _, _ in todo)
        self.progress.batch(description, len(todo), len(remaining))

        def on_result(index: int, outcome: ReplicationOutcome) -> None:
            key = todo[index][0]
            self._cache[(key, outcome.replication)] = outcome
            for store in (self.store, self.cache):
                if store is not None:
                    store.save(key, outcome)
            remaining[key] -= 1
            self.progress.advance(remaining[key] == 0)

        tasks = [(scenario, r) for _, (scenario, _), r in todo]
        only = [parts for _, (_, parts), _ in todo]
        run_replications(
            tasks,
            jobs=self.execution.jobs,
            dask_address=self.address,
            on_result=on_result,
            only=only if any(o is not None for o in only) else None,
        )


def run_study(
    scenarios: Sequence[Scenario], design: Design, runner: ReplicationRunner
) -> list[ExperimentResult]:
    """Run every scenario (warm-up pilot and replication batches as the design asks)."""
    chosen = list(scenarios)
    counts = [s.replications for s in chosen]
    if design.auto_replications:
        first = min(design.max_replications, max(AUTO_FIRST_BATCH, *counts))
        counts = [first] * len(chosen)
    warmups: list[dict[str, Any] | None] = [None] * len(chosen)
    if design.auto_warmup:
        chosen, warmups = choose_warmup(chosen, counts, runner)
    if design.auto_replications:
        outcomes, controls = control_replications(chosen, counts[0], design, runner)
    else:
        outcomes, controls = runner.outcomes(chosen, counts, "replications"), [None] * len(chosen)
    return [
        ExperimentResult(
            scenario=s.model_copy(update={"replications": len(o)}),
            outcomes=o,
            executor=runner.execution.executor,
            warmup=w,
            replication_control=c,
        )
        for s, o, w, c in zip(chosen, outcomes, warmups, controls, strict=True)
    ]


# --------------------------------------------------------------------------- warm-up
def choose_warmup(
    scenarios: list[Scenario], counts: list[int], runner: ReplicationRunner
) -> tuple[list[Scenario], list[dict[str, Any] | None]]:
    """MSER-5 on each scenario's mean daily cleared series (pilot = the first batch).

    All scenarios get the largest truncation found, so they are measured over the same days.
    A run shorter than two batches (10 days) keeps its own warm-up: MSER-5 cannot judge it.
    """
    pilots = runner.outcomes(scenarios, counts, "warm-up pilot")
    found = [_truncation(s, o) for s, o in zip(scenarios, pilots, strict=True)]
    days = max(found)
    _check_shorter_than_runs(days, scenarios)
    reports: list[dict[str, Any] | None] = [
        {
            "method": "mser5",
            "days": days,
            "series": "trucks cleared per day, mean over pilot replications",
            "pilot_replications": n,
            "mser5_days": d,
            "search_limit_days": float(search_limit(s.days)),
            "at_search_limit": 0 < d == search_limit(s.days),
            **({} if search_limit(s.days) else {"note": TOO_SHORT}),
        }
        for s, n, d in zip(scenarios, counts, found, strict=True)
    ]
    return [s.model_copy(update={"warmup_days": days}) for s in scenarios], reports


def _check_shorter_than_runs(days: float, scenarios: list[Scenario]) -> None:
    for scenario in scenarios:
        if days >= scenario.days:
            raise UsageError(
                "warmup",
                f"the common auto warm-up ({days:g} days) is not shorter than the run of "
                f"'{scenario.name}' ({scenario.days} days); give all scenarios the same {{days}}",
            )


TOO_SHORT = "run shorter than 10 days: MSER-5 not applicable, the scenario's warm-up was kept"


def _truncation(scenario: Scenario, pilot: Outcomes) -> float:
    if search_limit(scenario.days) == 0:
        return float(scenario.warmup_days)
    return float(mser5(mean_daily_cleared(pilot)))


def mean_daily_cleared(outcomes: Outcomes) -> list[float]:
    return [float(x) for x in np.mean([o.cleared_by_day for o in outcomes], axis=0)]


def search_limit(days: int, max_fraction: float = 0.5) -> int:
    """The largest truncation mser5 can return for a series of ``days`` values."""
    n = days // BATCH
    return 0 if n < 2 else BATCH * min(int(max_fraction * n), n - 2)


# --------------------------------------------------------------------------- replication count
def control_replications(
    scenarios: list[Scenario], first: int, design: Design, runner: ReplicationRunner
) -> tuple[list[Outcomes], list[dict[str, Any] | None]]:
    """Add replications (to every scenario alike) until each reaches the target precision of
    ``design.target_kpi`` or ``design.max_replications`` is reached."""
    n, batches = first, []
    while True:
        batches.append(n)
        outcomes = runner.outcomes(scenarios, [n] * len(scenarios), f"replications (n={n})")
        values = [target_values(o, design.target_kpi) for o in outcomes]
        achieved = [relative_half_width(v) for v in values]
        if all(a <= design.target_rel for a in achieved) or n >= design.max_replications:
            break
        n = next_count(values, achieved, n, design)
    controls: list[dict[str, Any] | None] = [
        {
            "target_kpi": design.target_kpi,
            "target_rel": design.target_rel,
            "achieved_rel": a,
            "cap_hit": not a <= design.target_rel,
            "max_replications": design.max_replications,
            "batches": batches,
        }
        for a in achieved
    ]
    return outcomes, controls


def target_values(outcomes: Outcomes, kpi: str) -> list[float]:
    if kpi not in outcomes[0].kpis:
        import difflib

        close = difflib.get_close_matches(kpi, list(outcomes[0].kpis), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UsageError("target_kpi", f"unknown KPI{hint}", kpi)
    return [o.kpis[kpi] for o in outcomes]


def next_count(values: list[list[float]], achieved: list[float], n: int, design: Design) -> int:
    """The next total: enough replications for every scenario still short of the target, capped.

    For each such scenario: the smallest i > n with t(0.975, i−1)·s/√i ≤ target·|mean| (Law,
    *Simulation Modeling and Analysis*, §9.4.1), using the current mean and s. Unlike n·(h/h*)²
    this lets the t quantile shrink with i, so it does not overshoot from a small first batch.
    """
    wanted = n + 1
    for sample, rel in zip(values, achieved, strict=True):
        if rel <= design.target_rel:
            continue
        try:
            wanted = max(
                wanted, replications_for(sample, design.target_rel, design.max_replications)
            )
        except ValueError:  # undefined precision (NaN, or zero mean with spread): double
            wanted = max(wanted, 2 * n)
    return min(wanted, design.max_replications)


def replications_for(sample: Sequence[float], target_rel: float, cap: int) -> int:
    """Smallest i in (n, cap] whose projected relative half-width meets ``target_rel``; else cap."""
    x = np.asarray(sample, dtype=float)
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if x.size > 1 else math.nan
    if not (math.isfinite(mean) and math.isfinite(sd)) or mean == 0.0:
        raise ValueError("relative half-width is undefined")
    i = np.arange(x.size + 1, max(cap, x.size + 1) + 1)
    t = np.array([t_quantile(0.95, float(n - 1)) for n in i])
    ok = t * sd / np.sqrt(i) <= target_rel * abs(mean)
    return int(i[np.argmax(ok)]) if ok.any() else cap
