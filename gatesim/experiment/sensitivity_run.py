"""Sensitivity of a scenario's KPIs: design points simulated on any executor, with CRN.

Every design point runs replications ``0 .. R-1`` of its scenario with the scenario's seed, so
all design points see the same trucks and the same service draws wherever the factors leave
them alone (common random numbers: a factor that does not matter has an elementary effect of
exactly 0, not noise). A point's KPI is the mean over its replications. Each (design point,
replication) is one task for :func:`gatesim.experiment.executors.run_tasks`; results come back
in task order, so serial, ``--jobs`` and Dask give identical tables. Finished replications are
kept in a :class:`PartialStore` (keyed by the design point's scenario hash) when one is given,
so an interrupted analysis resumes where it stopped.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from gatesim.core.errors import ScenarioError, UsageError
from gatesim.experiment.executors import ExecutorError, run_tasks
from gatesim.experiment.output import scenario_hash
from gatesim.experiment.progress import ProgressBar
from gatesim.experiment.runner import ReplicationOutcome
from gatesim.experiment.sensitivity import SensitivityOptions, analyse, check_budget
from gatesim.experiment.sensitivity_result import SensitivityResult
from gatesim.experiment.store import PartialStore
from gatesim.experiment.study import Execution, scheduler_address
from gatesim.experiment.uncertainty import DesignSpace
from gatesim.model.engine import simulate
from gatesim.scenario.schema import Scenario
from gatesim.stats.kpis import replication_kpis

KpiTask = tuple[Scenario, int, tuple[str, ...]]


def kpi_task(task: KpiTask) -> ReplicationOutcome:
    """One replication of one design point, keeping only the analysed KPIs (picklable)."""
    scenario, replication, kpis = task
    started = time.perf_counter()
    values = replication_kpis(simulate(scenario, replication))
    return ReplicationOutcome(
        replication=replication,
        kpis={k: values[k] for k in kpis},
        stations={},
        conservation={},
        cleared_by_day=[],
        cleared_by_hour=[],
        in_system_by_hour=[],
        wall_seconds=time.perf_counter() - started,
    )


class ScenarioModel:
    """The KPIs of a scenario's design points (a ``Model`` for ``sensitivity.analyse``)."""

    def __init__(
        self,
        space: DesignSpace,
        kpis: Sequence[str],
        replications: int,
        execution: Execution | None = None,
        store: PartialStore | None = None,
        progress: ProgressBar | None = None,
    ) -> None:
        self.space = space
        self.kpis = tuple(kpis)
        self.replications = replications
        self.execution = execution or Execution()
        self.store = store
        self.progress = progress
        self.tasks_run = 0
        self.tasks_reused = 0

    def __call__(self, unit: np.ndarray) -> np.ndarray:
        factors = self.space.factors
        points = [tuple(f.value(u) for f, u in zip(factors, row, strict=True)) for row in unit]
        distinct = list(dict.fromkeys(points))  # Morris trajectories may revisit a point
        scenarios = [self.space.scenario_at(p) for p in distinct]  # all validated before running
        means = self.point_kpis(scenarios)
        row_of = {p: i for i, p in enumerate(distinct)}
        return np.array([means[row_of[p]] for p in points], dtype=float).reshape(len(points), -1)

    def point_kpis(self, scenarios: Sequence[Scenario]) -> np.ndarray:
        """(scenarios x KPIs): each KPI's mean over replications 0..R-1 of each scenario."""
        keys = [scenario_hash(s) for s in scenarios]
        outcomes: dict[tuple[int, int], ReplicationOutcome] = {}
        tasks: list[KpiTask] = []
        where: list[tuple[int, int]] = []
        for i, scenario in enumerate(scenarios):
            for r in range(self.replications):
                kept = self._stored(keys[i], r)
                if kept is not None:
                    outcomes[i, r] = kept
                    continue
                tasks.append((scenario, r, self.kpis))
                where.append((i, r))
        self.tasks_reused += len(outcomes)

        def arrived(index: int, outcome: ReplicationOutcome) -> None:
            i, r = where[index]
            outcomes[i, r] = outcome
            if self.store is not None:
                self.store.save(keys[i], outcome)
            if self.progress is not None:
                self.progress.advance(group_finished=False)

        if self.progress is not None:
            self.progress.batch(f"{len(scenarios)} design points", len(tasks), 0)
        ex = self.execution
        run_tasks(kpi_task, tasks, jobs=ex.jobs, dask_address=ex.dask_address, on_result=arrived)
        self.tasks_run += len(tasks)
        runs = range(self.replications)
        return np.array(
            [
                [np.mean([outcomes[i, r].kpis[k] for r in runs]) for k in self.kpis]
                for i in range(len(scenarios))
            ],
            dtype=float,
        )

    def _stored(self, key: str, replication: int) -> ReplicationOutcome | None:
        kept = self.store.load(key, replication) if self.store is not None else None
        return kept if kept is not None and set(self.kpis) <= set(kept.kpis) else None


def check_kpis(space: DesignSpace, kpis: Sequence[str]) -> None:
    """Refuse a KPI the scenario does not report, from a one-day pilot at the nominal values."""
    if not kpis:
        raise ScenarioError(None, "--kpi", "give at least one KPI to analyse")
    pilot = space.scenario.model_copy(update={"days": 1, "warmup_days": 0.0})
    known = replication_kpis(simulate(pilot, 0))
    for kpi in kpis:
        if kpi not in known:
            close = difflib.get_close_matches(kpi, list(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ScenarioError(None, "--kpi", f"unknown KPI{hint}", kpi)


def sensitivity(
    scenario: str | Path,
    kpis: Sequence[str],
    options: SensitivityOptions | None = None,
    overrides: Mapping[str, Any] | None = None,
    replications: int | None = None,
    jobs: int = 1,
    dask_address: str | None = None,
    store: PartialStore | None = None,
    progress: ProgressBar | None = None,
) -> SensitivityResult:
    """Global sensitivity of ``kpis`` to the ``uncertain:`` values of a scenario file.

    Morris screening of every uncertain value, then (``options.method == 'sobol'``, the
    default) Sobol indices of the few that matter; see :mod:`gatesim.experiment.sensitivity`.
    ``overrides`` are ``--set`` assignments; ``replications`` (default: the scenario's) runs
    per design point. Identical results on every executor (an unusable Dask scheduler is a
    ``UsageError`` on ``dask``). Raises ScenarioError on bad input
    (before anything is simulated, except an unknown KPI, found by a one-day pilot).
    """
    options = options or SensitivityOptions()
    space = DesignSpace(Path(scenario), overrides)
    check_budget(len(space.factors), len(kpis), options)
    check_kpis(space, kpis)
    count = replications if replications is not None else space.scenario.replications
    execution = Execution(jobs=jobs, dask_address=dask_address)
    started = time.perf_counter()
    try:
        context = scheduler_address(execution) if dask_address else nullcontext(None)
        with context as address:
            model = ScenarioModel(space, kpis, count, Execution(jobs, address), store, progress)
            result = analyse(space.factors, model, kpis, options)
    except ExecutorError as exc:
        raise UsageError("dask", str(exc)) from None
    result.scenario = space.scenario
    result.design.update(
        {
            "replications_per_point": count,
            "simulation_seed": space.scenario.seed,
            "common_random_numbers": True,
            "tasks_run": model.tasks_run,
            "tasks_reused": model.tasks_reused,
            "executor": execution.executor,
            "wall_seconds": round(time.perf_counter() - started, 3),
        }
    )
    return result
