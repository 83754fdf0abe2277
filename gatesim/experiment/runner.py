"""Replications of one scenario: seeds, execution, and the per-replication outcome records.

Replication ``r`` draws every random source from ``(scenario.seed, r, source name)``, so two
scenarios run with the same seed see the same trucks (common random numbers), and results do
not depend on which worker ran which replication.

Scheduling: each replication runs whole in one environment, except that on a parallel
executor the last ``jobs`` replications of a batch (all of them when there are fewer
replications than workers) run by their independent parts (:mod:`gatesim.experiment.parts`),
largest expected work first, so ``-r 1 --jobs 2`` uses both cores of a two-lane scenario and
a batch ends on small tasks. A split replication's parts are merged into the result the
whole replication gives, bit for bit.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from gatesim.core.records import Records
from gatesim.core.results import IMPATIENT_EXITS, TRUCK_COLUMNS, VISIT_COLUMNS, RunResult
from gatesim.experiment.executors import run_tasks
from gatesim.experiment.parts import expected_work, independent_parts, merge_parts, simulate_part
from gatesim.model.engine import simulate
from gatesim.model.routes import stations_by_group
from gatesim.scenario.schema import Scenario
from gatesim.stats import saturation
from gatesim.stats.group_means import group_means
from gatesim.stats.intervals import Summary, summarise, t_interval
from gatesim.stats.kpis import HEADLINE, replication_kpis
from gatesim.stats.registry import extra_kpi_document

if TYPE_CHECKING:  # pandas is imported where a table is built: workers and the CLI start faster
    import pandas as pd


@dataclass
class ReplicationOutcome:
    """What one replication contributes to an experiment (small and picklable)."""

    replication: int
    kpis: dict[str, float]
    stations: dict[str, dict[str, float]]
    conservation: dict[str, int]
    cleared_by_day: list[int]
    cleared_by_hour: list[float]
    in_system_by_hour: list[float]
    wall_seconds: float
    #: TRUCK_COLUMNS / VISIT_COLUMNS rows sorted by truck id (None when not kept)
    trucks: Records | None = None
    visits: Records | None = None
    #: snapshots at the top of each hour of the run: {"waiting" | "at_station" |
    #: "spillback_km": {station: days × 24 values, hour of the run order}}
    #: (gatesim.experiment.queues); each series an ``array("d")`` (a year of 50 places is
    #: 1.3 million values: 8 bytes each, not a Python float's 32)
    hourly_queues: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_result(cls, result: RunResult) -> ReplicationOutcome:
        first_day = int(np.ceil(result.warmup_min / 1440.0))
        measured = slice(first_day, None)
        return cls(
            replication=result.replication,
            kpis=replication_kpis(result),
            stations=result.stations,
            conservation=result.conservation(),
            cleared_by_day=result.cleared_by_day_stream.sum(axis=1).tolist(),
            cleared_by_hour=result.cleared_by_day_hour[measured].mean(axis=0).tolist(),
            in_system_by_hour=result.in_system_by_hour[measured].mean(axis=0).tolist(),
            wall_seconds=result.wall_seconds,
            trucks=result.trucks,
            visits=result.visits,
            hourly_queues={
                series: {
                    name: array("d", values.reshape(-1).astype(np.float64).tobytes())
                    for name, values in by_station.items()
                }
                for series, by_station in (
                    ("waiting", result.queue_by_hour),
                    ("at_station", result.at_station_by_hour),
                    ("spillback_km", result.spillback_km_by_hour),
                )
            },
        )


def run_replication(task: tuple[Scenario, int]) -> ReplicationOutcome:
    """One replication as a picklable task (module-level for process pools and Dask)."""
    scenario, replication = task
    return ReplicationOutcome.from_result(simulate(scenario, replication))


@dataclass(frozen=True)
class WholeTask:
    """Run replication ``replication`` in one environment; its outcome comes back."""

    scenario: Scenario
    replication: int


@dataclass(frozen=True)
class PartTask:
    """Run part ``part`` of replication ``replication``; its RunResult comes back (merged
    with the replication's other parts)."""

    scenario: Scenario
    replication: int
    part: int


Task = WholeTask | PartTask


def run_task(task: Task) -> ReplicationOutcome | RunResult:
    """Run one scheduled task (a picklable, module-level function for the executors)."""
    if isinstance(task, WholeTask):
        return run_replication((task.scenario, task.replication))
    return simulate_part(task.scenario, task.replication, task.part)


#: The parts a replication simulates, by index into ``independent_parts``; None = all of them.
Only = tuple[int, ...] | None


def replication_tasks(
    scenario: Scenario, replication: int, split: bool, only: Only = None
) -> list[Task]:
    """The tasks of one replication: the parts ``only`` names (when given), else its parts
    when ``split`` and it has several, else it whole."""
    if only is not None:
        return [PartTask(scenario, replication, k) for k in only]
    count = len(independent_parts(scenario)) if split else 1
    if count <= 1:
        return [WholeTask(scenario, replication)]
    return [PartTask(scenario, replication, k) for k in range(count)]


def schedule(
    tasks: Sequence[tuple[Scenario, int]], jobs: int, only: Sequence[Only] | None = None
) -> list[list[Task]]:
    """The tasks of each replication: the last ``jobs`` replications (all of them when there
    are fewer than ``jobs``) are split into their parts, so no worker idles while another
    finishes a whole replication at the end of the batch; a replication restricted to some
    parts (``only``) runs just those."""
    first_split = len(tasks) - jobs
    chosen = list(only) if only is not None else [None] * len(tasks)
    return [
        replication_tasks(s, r, split=t >= first_split, only=chosen[t])
        for t, (s, r) in enumerate(tasks)
    ]


def submission_order(plan: list[list[Task]]) -> list[tuple[int, int]]:
    """(replication index, task index) pairs: whole replications in order, then parts by
    expected work, largest first (ties in plan order)."""
    whole = [(t, 0) for t, tasks in enumerate(plan) if isinstance(tasks[0], WholeTask)]
    split = [
        (t, k)
        for t, tasks in enumerate(plan)
        if isinstance(tasks[0], PartTask)
        for k in range(len(tasks))
    ]
    split.sort(key=lambda tk: -_expected_work(plan[tk[0]][tk[1]]))  # stable: ties keep order
    return whole + split


def _expected_work(task: Task) -> float:
    assert isinstance(task, PartTask)
    return expected_work(task.scenario, independent_parts(task.scenario)[task.part])


def run_replications(
    tasks: Sequence[tuple[Scenario, int]],
    jobs: int = 1,
    dask_address: str | None = None,
    on_result: Callable[[int, ReplicationOutcome], None] | None = None,
    only: Sequence[Only] | None = None,
) -> list[ReplicationOutcome]:
    """``run_tasks(run_replication, tasks, ...)``, with replications split into parts where
    that keeps the workers busy (:func:`schedule`).

    A replication's parts are merged as soon as the last one arrives, and
    ``on_result(index, outcome)`` is called with the replication's index. Outcomes are
    identical to the serial path's. ``only[i]`` restricts task i to those parts: its outcome
    is then the merge of just them (their lanes' and stations' KPIs are those of the whole
    replication, bit for bit; gate-wide KPIs cover only those parts).
    """
    parallel = jobs > 1 or dask_address is not None
    restricted = only is not None and any(o is not None for o in only)
    plan = schedule(tasks, jobs if parallel else 0, only) if parallel or restricted else []
    if all(isinstance(p[0], WholeTask) for p in plan):  # every replication whole
        return run_tasks(
            run_replication, tasks, jobs=jobs, dask_address=dask_address, on_result=on_result
        )
    order = submission_order(plan)
    waiting: list[dict[int, RunResult]] = [{} for _ in tasks]
    outcomes: list[ReplicationOutcome | None] = [None] * len(tasks)

    def finished(t: int, outcome: ReplicationOutcome) -> None:
        outcomes[t] = outcome
        if on_result is not None:
            on_result(t, outcome)

    def arrived(index: int, result: ReplicationOutcome | RunResult) -> None:
        t, k = order[index]
        if isinstance(result, ReplicationOutcome):
            finished(t, result)
            return
        waiting[t][k] = result
        if len(waiting[t]) == len(plan[t]):
            parts = [waiting[t][i] for i in range(len(plan[t]))]
            waiting[t] = {}
            finished(t, ReplicationOutcome.from_result(merge_parts(tasks[t][0], parts)))

    pending = [plan[t][k] for t, k in order]
    run_tasks(run_task, pending, jobs=jobs, dask_address=dask_address, on_result=arrived)
    return [o for o in outcomes if o is not None]


@dataclass
class ExperimentResult:
    """All replications of one scenario, with tables and the JSON summary."""

    scenario: Scenario
    outcomes: list[ReplicationOutcome] = field(default_factory=list)
    executor: str = "serial"
    #: How the warm-up was chosen: {"method": "fixed"|"mser5", "days": d, ...}; None = fixed.
    warmup: dict[str, Any] | None = None
    #: Set when the replication count was chosen by a precision target (``--replications auto``).
    replication_control: dict[str, Any] | None = None

    def kpi_table(self) -> pd.DataFrame:
        """One row per replication, one column per KPI."""
        import pandas as pd

        return pd.DataFrame(self.kpi_rows()).set_index("replication")

    def kpi_rows(self) -> list[dict[str, Any]]:
        """The rows of :meth:`kpi_table` (and ``replications.csv``): ``replication``, then
        every KPI."""
        return [{"replication": o.replication, **o.kpis} for o in self.outcomes]

    def kpi_names(self) -> list[str]:
        """The columns of :meth:`kpi_table`: every KPI name, in order of first appearance."""
        return list(dict.fromkeys(name for o in self.outcomes for name in o.kpis))

    def kpi_summary(self, names: Sequence[str] | None = None) -> dict[str, Summary]:
        """Mean and 95% interval of each KPI over the replications (a replication without
        the KPI counts as NaN, as in :meth:`kpi_table`); without pandas, for the run."""
        present = self.kpi_names()
        chosen = names if names is not None else present
        return {
            name: summarise([o.kpis.get(name, math.nan) for o in self.outcomes])
            for name in chosen
            if name in present
        }

    def station_table(self) -> pd.DataFrame:
        """One row per (replication, station) with every station statistic."""
        import pandas as pd

        return pd.DataFrame(self.station_rows())

    def station_rows(self) -> list[dict[str, Any]]:
        """The rows of :meth:`station_table` (and ``stations.csv``): ``replication``,
        ``station``, then every statistic."""
        return [
            {"replication": o.replication, "station": name, **stats}
            for o in self.outcomes
            for name, stats in o.stations.items()
        ]

    def station_summary(self) -> dict[str, dict[str, float]]:
        """Each station's statistics averaged over the replications: the numeric columns of
        :meth:`station_table` (less ``replication``) by station, as pandas' grouped mean
        computes them (gatesim.stats.group_means), without pandas."""
        return group_means(self.station_rows(), "station", leave_out=("replication",))

    def conservation(self) -> dict[str, int]:
        """Summed over replications; ``reneged``/``balked`` when some truck did, and with a
        platform ``diverted`` and ``deferred_owed``."""
        keys = ["arrived", "cleared", "lost", "in_system"]
        keys += [k for k in IMPATIENT_EXITS if any(k in o.conservation for o in self.outcomes)]
        keys += [k for k in ("diverted", "deferred_owed") if k in self.outcomes[0].conservation]
        return {k: int(sum(o.conservation.get(k, 0) for o in self.outcomes)) for k in keys}

    def hourly_summary(self) -> pd.DataFrame:
        """:meth:`hourly_summary_rows` as a table."""
        import pandas as pd

        return pd.DataFrame(self.hourly_summary_rows()).astype({"hour": int})

    def hourly_summary_rows(self) -> list[dict[str, float]]:
        """Per hour of day, the mean and 95% t-interval across replications of trucks cleared in
        that hour and of trucks in the system (each averaged over the measured days)."""
        series = {"cleared": "cleared_by_hour", "in_system": "in_system_by_hour"}
        rows = []
        for hour in range(24):
            row: dict[str, float] = {"hour": hour}
            for name, attr in series.items():
                values = [getattr(o, attr)[hour] for o in self.outcomes]
                row[f"{name}_mean"], row[f"{name}_lo"], row[f"{name}_hi"] = t_interval(values)
            rows.append(row)
        return rows

    def trucks_table(self) -> pd.DataFrame | None:
        return records_table(self.outcomes, "trucks", TRUCK_COLUMNS)

    def visits_table(self) -> pd.DataFrame | None:
        return records_table(self.outcomes, "visits", VISIT_COLUMNS)

    def drop_records(self) -> None:
        """Forget the truck and visit records (once written: a year's visits take some
        150 MB); the tables and summary need only the rest."""
        for outcome in self.outcomes:
            outcome.trucks = outcome.visits = None

    def warmup_report(self) -> dict[str, Any]:
        return self.warmup or {"method": "fixed", "days": self.scenario.warmup_days}

    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` document."""
        s = self.scenario
        document: dict[str, Any] = {
            "scenario": s.name,
            "description": s.description,
            "days": s.days,
            "warmup_days": s.warmup_days,
            "replications": len(self.outcomes),
            "seed": s.seed,
            "warmup": self.warmup_report(),
        }
        if self.replication_control is not None:
            document["replication_control"] = self.replication_control
        stations = self.station_summary()
        document.update(
            {
                "headline": list(HEADLINE),
                "kpis": self.kpi_summary(),
                "extra_kpis": extra_kpi_document(s.kpis, self.kpi_names()),
                "stations": stations,
                "conservation": self.conservation(),
                "checks": self.checks(stations),
                "warnings": [w.document() for w in self.lane_warnings(stations)],
            }
        )
        return document

    def lane_warnings(
        self, stations: dict[str, dict[str, float]] | None = None
    ) -> list[saturation.LaneWarning]:
        """Saturated lanes and directions: a growing backlog, or Little's law failing at one
        of their stations (``stations``: the station summary, computed when not given)."""
        stations = self.station_summary() if stations is None else stations
        return saturation.lane_warnings(
            [o.kpis for o in self.outcomes],
            littles_law_failures(stations),
            stations_by_group(self.scenario),
        )

    def checks(self, stations: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
        """Invariants verified on every run, and Little's-law warnings (reported, not fatal).

        Conservation and timestamp order are enforced inside each replication (a violation
        raises); Little's law L = λW per station is exact only when the queue is empty at both
        ends of the measured period, so a gap above the tolerance is a warning.
        """
        stations = self.station_summary() if stations is None else stations
        warnings = [
            f"{name}: Little's law off by {stations[name]['littles_law_gap']:.1%} "
            f"(queue mean {stations[name]['queue_mean']:.1f})"
            for name in littles_law_failures(stations)
        ]
        return {
            "conservation": "ok",
            "timestamps": "ok",
            "littles_law_tolerance": LITTLE_TOLERANCE,
            "littles_law_max_gap": max(
                (row.get("littles_law_gap", 0.0) for row in stations.values()), default=0.0
            ),
            "warnings": warnings,
        }


#: Relative L vs λW gap above which a station is flagged (end effects make small gaps normal).
LITTLE_TOLERANCE = 0.05


def littles_law_failures(stations: dict[str, dict[str, float]]) -> list[str]:
    """Stations whose L and λW differ beyond ``LITTLE_TOLERANCE`` with a queue of at least one
    truck on average (below that the relative gap of a near-empty queue is noise)."""
    return [
        name
        for name, row in stations.items()
        if row.get("littles_law_gap", 0.0) > LITTLE_TOLERANCE and row["queue_mean"] >= 1.0
    ]


def records_table(
    outcomes: list[ReplicationOutcome], attr: str, columns: Sequence[str]
) -> pd.DataFrame | None:
    import pandas as pd

    frames = [records_frame(o, attr, columns) for o in outcomes]
    if any(frame is None for frame in frames):
        return None
    return pd.concat(frames, ignore_index=True) if frames else None


def records_frame(
    outcome: ReplicationOutcome, attr: str, columns: Sequence[str]
) -> pd.DataFrame | None:
    """One replication's ``attr`` records ("trucks" or "visits") as a table with a first
    column ``replication``; None when they were not kept."""
    import pandas as pd

    rows: Records | None = getattr(outcome, attr)
    if rows is None:
        return None
    if not len(rows):  # no rows: the columns' types are unknown, as for an empty list
        frame = pd.DataFrame([], columns=list(columns))
    else:
        frame = pd.DataFrame({name: rows.column(name) for name in columns})
    frame.insert(0, "replication", outcome.replication)
    return frame


def run_experiment(
    scenario: Scenario,
    replications: int | None = None,
    jobs: int = 1,
    dask_address: str | None = None,
    on_outcome: Callable[[ReplicationOutcome], None] | None = None,
) -> ExperimentResult:
    """Run ``replications`` (default: the scenario's) replications; identical on any executor."""
    count = scenario.replications if replications is None else replications
    tasks = [(scenario, r) for r in range(count)]
    callback = (lambda _i, outcome: on_outcome(outcome)) if on_outcome else None
    outcomes = run_replications(tasks, jobs=jobs, dask_address=dask_address, on_result=callback)
    executor = "dask" if dask_address else ("processes" if jobs > 1 else "serial")
    return ExperimentResult(scenario=scenario, outcomes=list(outcomes), executor=executor)
