"""Replications of one scenario: seeds, execution, and the per-replication outcome records.

Replication ``r`` draws every random source from ``(scenario.seed, r, source name)``, so two
scenarios run with the same seed see the same trucks (common random numbers), and results do
not depend on which worker ran which replication.

A long replication is cut into two pipeline stages, a shorter one of a scenario made of
independent parts (two lanes that share no station or route) into its parts; either is
simulated piece by piece and merged (:func:`gatesim.model.engine.simulate`). When there are
fewer replications than workers, :func:`run_replications` gives the pieces to the workers
(the two stages as one task that forks), so ``-r 1 --jobs 2`` uses both cores; in a longer
batch the last replications run by components, largest first, so the workers finish
together (:func:`split_plan`). The merged result is the one the serial path computes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from gatesim.core.results import TRUCK_COLUMNS, VISIT_COLUMNS, RunResult
from gatesim.experiment.executors import run_tasks
from gatesim.model.components import components
from gatesim.model.engine import merge_pieces, simulate, simulate_piece
from gatesim.model.flows import expected_visits
from gatesim.model.routes import stations_by_group
from gatesim.model.stages import pipeline
from gatesim.scenario.schema import Scenario
from gatesim.stats import saturation
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
    trucks: list[tuple[Any, ...]] | None = None
    visits: list[tuple[Any, ...]] | None = None

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
        )


def run_replication(task: tuple[Scenario, int]) -> ReplicationOutcome:
    """One replication as a picklable task (module-level for process pools and Dask)."""
    scenario, replication = task
    return ReplicationOutcome.from_result(simulate(scenario, replication))


#: ``run_piece``'s piece number for "the whole replication, its pipeline stages side by side".
STAGED = -1
#: ``run_piece``'s piece number for "the whole replication in this process" (its outcome).
WHOLE = -2


def run_piece(task: tuple[Scenario, int, int]) -> RunResult | ReplicationOutcome:
    """One component of one replication; with piece ``STAGED`` the whole replication with its
    pipeline stages in two processes; with ``WHOLE`` the whole replication's outcome. A
    picklable task (see :func:`run_replications`)."""
    scenario, replication, piece = task
    if piece == WHOLE:
        return run_replication((scenario, replication))
    if piece == STAGED:
        return simulate(scenario, replication, fork=True)
    return simulate_piece(scenario, replication, piece)


def piece_tasks(
    scenario: Scenario, replication: int, fork_stages: bool = True
) -> list[tuple[Scenario, int, int]]:
    """The ``run_piece`` tasks of one replication: one task per component, except that a
    replication cut into pipeline stages is one task running its two stages side by side
    when the worker may fork (``fork_stages``: process pools) or when it has one component.
    Either way the merged result is the serial one (see ``engine.merge_pieces``)."""
    count = len(components(scenario))
    if pipeline(scenario) is not None and (fork_stages or count == 1):
        return [(scenario, replication, STAGED)]
    return [(scenario, replication, i) for i in range(count)]


def _component_tasks(scenario: Scenario, replication: int) -> list[tuple[Scenario, int, int]]:
    """One task per component when there are several (pipeline cut or not: the merge is the
    serial result either way), else the whole replication."""
    if len(components(scenario)) > 1:
        return piece_tasks(scenario, replication, fork_stages=False)
    return [(scenario, replication, WHOLE)]


def _expected_work(task: tuple[Scenario, int, int]) -> float:
    """Expected station visits of a component task (its streams' share of the scenario)."""
    scenario, _, piece = task
    flow = expected_visits(scenario, components(scenario)[piece].streams)
    return sum(flow.visits.values())


def split_plan(
    tasks: Sequence[tuple[Scenario, int]], jobs: int, fork_stages: bool = True
) -> list[list[tuple[Scenario, int, int]]]:
    """The ``run_piece`` tasks of each replication, in the order they are submitted.

    Fewer replications than workers: every replication is split (:func:`piece_tasks`; on
    workers that cannot fork, ``fork_stages=False`` as on Dask, a staged replication by its
    components), so ``-r 1 --jobs 2`` uses both cores. Otherwise the replications run whole,
    except the last ``jobs``: they run by components (when they have several, pipeline cut or
    not), largest expected work first, after every whole one, so the batch ends on small
    pieces and no worker idles for long while another finishes a whole replication. The
    merged pieces give the serial path's outcome (``engine.merge_pieces``).
    """
    if len(tasks) < jobs:
        return [piece_tasks(s, r, fork_stages) for s, r in tasks]
    tail = len(tasks) - jobs
    return [
        [(s, r, WHOLE)] if t < tail else _component_tasks(s, r) for t, (s, r) in enumerate(tasks)
    ]


def submission_order(plan: list[list[tuple[Scenario, int, int]]]) -> list[tuple[int, int]]:
    """(replication index, piece index) pairs: whole replications in order, then component
    pieces by expected work, largest first (ties in plan order)."""
    whole = [(t, 0) for t, pieces in enumerate(plan) if pieces[0][2] < 0]
    split = [
        (t, k) for t, pieces in enumerate(plan) if pieces[0][2] >= 0 for k in range(len(pieces))
    ]
    split.sort(key=lambda tk: -_expected_work(plan[tk[0]][tk[1]]))  # stable: ties keep order
    return whole + split


def run_replications(
    tasks: Sequence[tuple[Scenario, int]],
    jobs: int = 1,
    dask_address: str | None = None,
    on_result: Callable[[int, ReplicationOutcome], None] | None = None,
) -> list[ReplicationOutcome]:
    """``run_tasks(run_replication, tasks, ...)``, with replications split into pieces where
    that keeps the workers busy (:func:`split_plan`).

    On a process pool a replication cut into pipeline stages is one task that runs its two
    stages in two processes; on Dask (whose workers run threads and cannot fork) it is split
    into its independent components like any other, when it has several. A replication's
    pieces are merged as soon as the last one arrives, and ``on_result(index, outcome)`` is
    called with the task's index. Outcomes are identical to the serial path's.
    """
    parallel = jobs > 1 or dask_address is not None
    plan = split_plan(tasks, jobs, fork_stages=dask_address is None) if parallel else []
    if all(len(p) == 1 and p[0][2] != STAGED for p in plan):  # every replication in one task
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

    def arrived(index: int, result: RunResult | ReplicationOutcome) -> None:
        t, k = order[index]
        if isinstance(result, ReplicationOutcome):
            finished(t, result)
            return
        waiting[t][k] = result
        if len(waiting[t]) == len(plan[t]):
            parts = [waiting[t][i] for i in range(len(plan[t]))]
            waiting[t] = {}
            finished(t, ReplicationOutcome.from_result(merge_pieces(tasks[t][0], parts)))

    pieces = [plan[t][k] for t, k in order]
    run_tasks(run_piece, pieces, jobs=jobs, dask_address=dask_address, on_result=arrived)
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

        rows = [{"replication": o.replication, **o.kpis} for o in self.outcomes]
        return pd.DataFrame(rows).set_index("replication")

    def kpi_summary(self, names: Sequence[str] | None = None) -> dict[str, Summary]:
        table = self.kpi_table()
        chosen = names if names is not None else list(table.columns)
        return {name: summarise(table[name].tolist()) for name in chosen if name in table}

    def station_table(self) -> pd.DataFrame:
        """One row per (replication, station) with every station statistic."""
        import pandas as pd

        rows = [
            {"replication": o.replication, "station": name, **stats}
            for o in self.outcomes
            for name, stats in o.stations.items()
        ]
        return pd.DataFrame(rows)

    def station_summary(self) -> dict[str, dict[str, float]]:
        table = self.station_table().drop(columns="replication")
        means = table.groupby("station", sort=False).mean(numeric_only=True)
        return {
            str(name): {str(k): float(v) for k, v in row.items()} for name, row in means.iterrows()
        }

    def conservation(self) -> dict[str, int]:
        keys = ("arrived", "cleared", "lost", "in_system")
        return {k: int(sum(o.conservation[k] for o in self.outcomes)) for k in keys}

    def hourly_summary(self) -> pd.DataFrame:
        """Per hour of day, the mean and 95% t-interval across replications of trucks cleared in
        that hour and of trucks in the system (each averaged over the measured days)."""
        import pandas as pd

        series = {"cleared": "cleared_by_hour", "in_system": "in_system_by_hour"}
        rows = []
        for hour in range(24):
            row: dict[str, float] = {"hour": hour}
            for name, attr in series.items():
                values = [getattr(o, attr)[hour] for o in self.outcomes]
                row[f"{name}_mean"], row[f"{name}_lo"], row[f"{name}_hi"] = t_interval(values)
            rows.append(row)
        return pd.DataFrame(rows).astype({"hour": int})

    def trucks_table(self) -> pd.DataFrame | None:
        return _records(self.outcomes, "trucks", TRUCK_COLUMNS)

    def visits_table(self) -> pd.DataFrame | None:
        return _records(self.outcomes, "visits", VISIT_COLUMNS)

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
                "extra_kpis": extra_kpi_document(s.kpis, list(self.kpi_table().columns)),
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


def _records(
    outcomes: list[ReplicationOutcome], attr: str, columns: Sequence[str]
) -> pd.DataFrame | None:
    import pandas as pd

    frames = []
    for outcome in outcomes:
        rows = getattr(outcome, attr)
        if rows is None:
            return None
        frame = pd.DataFrame(rows, columns=list(columns))
        frame.insert(0, "replication", outcome.replication)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else None


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
