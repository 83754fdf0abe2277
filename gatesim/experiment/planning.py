"""``run_sim.py plan``: the capacity search (``plan.py``) run on gatesim scenarios.

Each point is the scenario file with ``--set`` overrides and the point's values applied through
the loader (so a bad path or value is the loader's one-line error), run under the scenario's
seed: replication r of every point sees the same trucks (common random numbers). Replications
go through :class:`ReplicationRunner` (serial, ``--jobs`` or ``--dask``; identical results).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gatesim.core.errors import ScenarioError
from gatesim.experiment.levers import check_sides, lever_side, override_sides, policy_side
from gatesim.experiment.options import API_COMMAND, StudyOptions, study_runner
from gatesim.experiment.output import (
    environment,
    json_safe,
    scenario_document,
    scenario_hash,
    staged_folder,
    write_experiment_files,
    write_json,
)
from gatesim.experiment.parts import expected_work, independent_parts
from gatesim.experiment.plan import CapacitySearch, Evaluation, PlanResult, Row, Value
from gatesim.experiment.runner import ExperimentResult, Only, ReplicationOutcome
from gatesim.experiment.searched import searched_parts
from gatesim.experiment.study import ReplicationRunner
from gatesim.experiment.targets import (
    CONFIDENCE,
    UNDECIDED,
    Cost,
    Dimension,
    Target,
    check_dimensions,
    load_costs,
    parse_target,
    parse_vary,
)
from gatesim.model.loading import validate_raw
from gatesim.scenario.loader import apply_overrides, load_raw
from gatesim.scenario.schema import Scenario

EXIT_FOUND, EXIT_NONE_IN_RANGE = 0, 1
NONE_IN_RANGE = "no configuration in range meets the target"
DEFAULT_MAX_REPLICATIONS = 40
NO_RECORDS = {"trucks": False, "visits": False}


@dataclass
class ScenarioEvaluator:
    """``evaluate(point, replications)`` for the search: KPI rows of real replications."""

    path: Path
    overrides: Mapping[str, Any]
    runner: ReplicationRunner
    #: the target KPIs: a point simulates only their parts and its varied stations' (none
    #: given: the whole gate)
    kpis: Sequence[str] = ()
    raw: dict[str, Any] = field(init=False)
    _scenarios: dict[tuple[tuple[str, Value], ...], Scenario] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.raw = load_raw(self.path)

    def scenario(self, point: Mapping[str, Value]) -> Scenario:
        """The point's scenario; a value the schema refuses is a one-line ``--vary`` error."""
        key = tuple(point.items())
        if key not in self._scenarios:
            try:
                tree = apply_overrides(self.raw, {**self.overrides, **point}, self.path)
                self._scenarios[key] = validate_raw(tree, self.path)
            except ScenarioError as exc:
                raise ScenarioError(None, "--vary", exc.line()) from None
        return self._scenarios[key]

    def parts(self, point: Mapping[str, Value]) -> Only:
        """The independent parts the search simulates at a point (None: all of them)."""
        if not self.kpis:
            return None
        return searched_parts(self.scenario(point), self.kpis, list(point))

    def outcomes(
        self, point: Mapping[str, Value], count: int, whole: bool = False
    ) -> list[ReplicationOutcome]:
        """The point's replications: of the searched parts only, or of the whole gate."""
        label = ", ".join(f"{'.'.join(k.split('.')[-2:])}={v}" for k, v in point.items())
        only = None if whole else self.parts(point)
        return self.runner.outcomes([self.scenario(point)], [count], label, [only])[0]

    def __call__(self, point: dict[str, Value], replications: Sequence[int]) -> list[Row]:
        outcomes = self.outcomes(point, max(replications) + 1)
        return [outcomes[r].kpis for r in replications]

    def check(self, dimensions: Sequence[Dimension]) -> None:
        """Build every value of every dimension (the others at their lowest) and the largest
        corner before simulating, so a bad path or value fails at once."""
        validate_raw(apply_overrides(self.raw, self.overrides, self.path), self.path)  # --set
        low = {d.path: d.low for d in dimensions}
        for dim in dimensions:
            for value in dim.values:
                self.scenario({**low, dim.path: value})
        self.scenario({d.path: d.values[-1] for d in dimensions})


# --------------------------------------------------------------------------- bottleneck
def bottleneck(
    rows: Sequence[Row], parts: Mapping[str, Sequence[str]] | None = None
) -> dict[str, Any] | None:
    """The station with the highest mean utilisation at a point (and the longest mean wait);
    with ``parts`` (label -> its stations, e.g. by lane), also the busiest station of each."""
    util = _station_means(rows, "utilization")
    wait = _station_means(rows, "wait_mean_min")
    if not util:
        return None

    def busiest_of(stations: Sequence[str]) -> str:
        return max(stations, key=lambda s: (util[s], wait.get(s, 0.0)))

    busiest = busiest_of(list(util))
    longest = max(wait, key=lambda s: wait[s]) if wait else busiest
    ranked = sorted(util, key=lambda s: (-util[s], s))[:BUSIEST_SHOWN]
    by_part = []
    for label, stations in (parts or {}).items():
        measured = [s for s in stations if s in util]
        if measured:
            neck = busiest_of(measured)
            by_part.append(
                {
                    "part": label,
                    "station": neck,
                    "utilization": util[neck],
                    "wait_mean_min": wait.get(neck),
                }
            )
    return {
        "station": busiest,
        "utilization": util[busiest],
        "wait_mean_min": wait.get(busiest),
        "longest_wait": {"station": longest, "wait_mean_min": wait.get(longest)},
        "busiest": [
            {"station": s, "utilization": util[s], "wait_mean_min": wait.get(s)} for s in ranked
        ],
        "by_part": by_part,
    }


def lane_parts(scenario: Scenario) -> dict[str, tuple[str, ...]]:
    """The scenario's independent parts, labelled by the lanes of their streams ("A, B" when
    one part carries several lanes); empty when the scenario is one part (nothing to add)."""
    parts = [c for c in independent_parts(scenario) if c.streams]
    if len(parts) < 2:
        return {}
    labels = [
        ", ".join(dict.fromkeys(scenario.arrivals[name].lane for name in part.streams))
        for part in parts
    ]
    return {label: part.stations for label, part in zip(labels, parts, strict=True)}


BUSIEST_SHOWN = 5


def spent_document(result: PlanResult, scenario: Scenario, only: Only) -> dict[str, Any]:
    """Replications the search ran, against a grid search that screens every point at the
    first batch's count on the whole gate; ``work_share`` is the searched parts' share of the
    gate's expected station visits (what one of their replications costs against a whole
    one). ``reused`` (set by the caller) counts replications found in the partial store
    (``--resume``) or the cache (``--cache``) rather than simulated."""
    parts = independent_parts(scenario)
    total = sum(expected_work(scenario, p) for p in parts)
    chosen = range(len(parts)) if only is None else only
    share = sum(expected_work(scenario, parts[i]) for i in chosen) / total if total > 0 else 1.0
    first = result.evaluations[0].batches[0]
    points = math.prod(len(d.values) for d in result.dimensions)
    return {
        "simulations": result.simulations,
        "parts_simulated": len(chosen),
        "parts": len(parts),
        "work_share": share,
        "whole_gate_equivalent": result.simulations * share,
        "grid_points": points,
        "grid_replications_per_point": first,
        "grid_simulations": points * first,
    }


def searched_parts_document(scenario: Scenario, only: Only) -> dict[str, Any]:
    """Which independent parts each search point simulated: all, or those holding the target
    KPIs and the varied stations (the other parts cannot change their values)."""
    parts = independent_parts(scenario)
    chosen = range(len(parts)) if only is None else only
    return {
        "all": only is None,
        "parts": len(parts),
        "simulated": [
            {"stations": list(parts[i].stations), "streams": list(parts[i].streams)} for i in chosen
        ],
    }


def _station_means(rows: Sequence[Row], stat: str) -> dict[str, float]:
    means: dict[str, float] = {}
    for key in rows[0]:
        if key.startswith("station.") and key.endswith(f".{stat}"):
            values = [float(r[key]) for r in rows]
            if all(math.isfinite(v) for v in values):
                means[key[len("station.") : -len(stat) - 1]] = sum(values) / len(values)
    return means


# --------------------------------------------------------------------------- documents
def point_document(result: PlanResult, point: Evaluation) -> dict[str, Any]:
    return {
        "order": point.order,
        "values": point.values,
        "cost": result.cost(point.values),
        "replications": point.replications,
        "batches": point.batches,
        "verdict": point.verdict,
        "treated_as_failing": point.verdict == UNDECIDED,
        "targets": point.targets,
    }


def plan_document(
    result: PlanResult,
    scenario: Scenario,
    scenario_file: Path,
    execution: dict[str, Any],
    side: str | None = None,
    point_rows: Sequence[Row] | None = None,
) -> dict[str, Any]:
    """The ``plan.json`` document (``point_rows``: the reported point's KPI rows of the whole
    gate, for its bottleneck; its search rows by default)."""
    reported = point_document(result, result.point)
    undecided = [e.values for e in result.evaluations if e.verdict == UNDECIDED]
    document: dict[str, Any] = {
        "kind": "plan",
        "scenario": scenario.name,
        "scenario_file": str(scenario_file),
        "seed": scenario.seed,
        "days": scenario.days,
        "warmup_days": scenario.warmup_days,
        "targets": [str(t) for t in result.targets],
        "confidence_one_sided": CONFIDENCE,
        "side": side,
        "dimensions": [
            {
                "path": d.path,
                "side": lever_side(scenario, d.path),
                "values": list(d.values),
                "cost_per_unit": result.costs[d.path].per_unit,
                "cost_fixed": result.costs[d.path].fixed,
            }
            for d in result.dimensions
        ],
        "main_dimension": result.main_dimension,
        "found": result.found,
        "result": "found" if result.found else NONE_IN_RANGE,
        "chosen": reported if result.found else None,
        "best": None if result.found else reported,
        "failing_neighbours": result.neighbours,
        "bottleneck": bottleneck(point_rows or result.point.rows, lane_parts(scenario)),
        "simulations": result.simulations,
        "points_evaluated": len(result.evaluations),
        "undecided_treated_as_failing": undecided,
        "execution": execution,
        "points": [point_document(result, e) for e in result.evaluations],
    }
    safe: dict[str, Any] = json_safe(document)
    return safe


def points_table(result: PlanResult) -> pd.DataFrame:
    """One row per evaluated point: values, cost, replications, verdict, target KPI stats."""
    rows = []
    for e in result.evaluations:
        row: dict[str, Any] = {"order": e.order, **e.values, "cost": result.cost(e.values)}
        row.update({"replications": e.replications, "verdict": e.verdict})
        for target, report in zip(result.targets, e.targets, strict=True):
            row[f"{target.kpi}_mean"] = report["mean"]
            row[f"{target.kpi}_low95"] = report["low"]
            row[f"{target.kpi}_high95"] = report["high"]
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the command
@dataclass(frozen=True)
class PlanInputs:
    dimensions: list[Dimension]
    targets: list[Target]
    costs: dict[str, Cost]
    max_replications: int
    side: str | None = None


def plan_inputs(
    targets: Sequence[str],
    varies: Sequence[str],
    cost_file: Path | None,
    fixed: Mapping[str, Any],
    max_replications: int | None,
    side: str | None = None,
    scan_years: bool = False,
) -> PlanInputs:
    """Parse and check the plan arguments (one-line ScenarioError on bad input); with
    ``scan_years`` (``--years``) the plan may search no field."""
    parsed = [parse_target(t) for t in targets]
    dimensions = [parse_vary(v) for v in varies]
    if dimensions or not scan_years:
        check_dimensions(dimensions, fixed)
    costs = load_costs(cost_file, dimensions)
    limit = max_replications or DEFAULT_MAX_REPLICATIONS
    return PlanInputs(dimensions, parsed, costs, limit, side)


def search_plan(scenario_file: Path, inputs: PlanInputs, options: StudyOptions) -> PlanningResult:
    """Check every point can be built, then search (replications through ``options``'
    executor and store); a bad KPI leaves nothing in the store."""
    started = time.perf_counter()
    overrides = {**options.overrides(), "records": NO_RECORDS}  # KPIs only: bounded memory
    evaluator = ScenarioEvaluator(
        scenario_file,
        overrides,
        ReplicationRunner(),
        kpis=[t.kpi for t in inputs.targets],
    )
    evaluator.check(inputs.dimensions)  # before a Dask cluster is started
    base_point = {d.path: d.low for d in inputs.dimensions}
    base = evaluator.scenario(base_point)
    check_sides(base, inputs.dimensions, inputs.side)
    execution = options.execution()
    with study_runner(options) as runner:
        evaluator.runner = runner
        result = _search(evaluator, inputs, base)
        point = ExperimentResult(
            scenario=evaluator.scenario(result.point.values).model_copy(
                update={"replications": result.point.replications}
            ),
            outcomes=evaluator.outcomes(result.point.values, result.point.replications, whole=True),
            executor=execution.executor,
        )
    rows = [o.kpis for o in point.outcomes]  # the whole gate's, for the bottleneck
    document = plan_document(result, base, scenario_file, execution.describe(), inputs.side, rows)
    document["searched_parts"] = searched_parts_document(base, evaluator.parts(base_point))
    document["spent"] = spent_document(result, base, evaluator.parts(base_point))
    document["spent"]["reused"] = len(runner.resumed) + len(runner.cached)
    document["fixed_changes"] = override_sides(base, overrides)  # the set policy, by side
    document["fixed_changes_side"] = policy_side(base, overrides)
    wall = time.perf_counter() - started
    return PlanningResult(document, points_table(result), point, wall, len(runner.resumed))


def _search(evaluator: ScenarioEvaluator, inputs: PlanInputs, base: Scenario) -> PlanResult:
    search = CapacitySearch(
        inputs.dimensions,
        inputs.targets,
        evaluator,
        inputs.costs,
        initial_replications=base.replications,
        max_replications=inputs.max_replications,
    )
    try:
        return search.run()
    except ScenarioError:  # e.g. an unknown KPI: bad input leaves nothing behind
        evaluator.runner.discard_store()
        raise


@dataclass(frozen=True)
class PlanningResult:
    """The capacity search's answer (``gatesim.plan``): ``document`` is plan.json."""

    document: dict[str, Any] = field(repr=False)
    table: pd.DataFrame = field(repr=False)
    point: ExperimentResult = field(repr=False)
    wall_seconds: float
    resumed: int = 0

    @property
    def found(self) -> bool:
        """Whether a configuration in range meets every target (else ``best`` is reported)."""
        return bool(self.document["found"])

    @property
    def chosen(self) -> dict[str, Any] | None:
        """The cheapest configuration meeting the targets: values, cost, target intervals."""
        chosen: dict[str, Any] | None = self.document["chosen"]
        return chosen

    @property
    def exit_code(self) -> int:
        return EXIT_FOUND if self.found else EXIT_NONE_IN_RANGE

    def to_frame(self) -> pd.DataFrame:
        """``plan_points.csv``: one row per evaluated configuration, its verdict and the
        target KPIs' means with one-sided 95 % bounds."""
        return self.table.copy()

    def save(
        self, out: str | Path, command: Sequence[str] = API_COMMAND, force: bool = False
    ) -> Path:
        """``plan.json``, ``plan_points.csv``, ``manifest.json`` and ``point/`` (the usual run
        outputs of the chosen point, or of the best point when none meets the target),
        atomically."""
        document = self.document
        with staged_folder(Path(out), force) as folder:
            write_json(folder / "plan.json", document)
            self.table.to_csv(folder / "plan_points.csv", index=False)
            write_json(
                folder / "manifest.json",
                {
                    "kind": "plan",
                    **environment(),
                    **document["execution"],
                    "wall_seconds": round(self.wall_seconds, 3),
                    "command": list(command),
                    "simulations": document["simulations"],
                    "resumed_replications": self.resumed,
                    "point_scenario_hash": scenario_hash(self.point.scenario),
                    "resolved_scenario": scenario_document(self.point.scenario),
                },
            )
            (folder / "point").mkdir()
            write_experiment_files(folder / "point", self.point, self.wall_seconds, list(command))
        return Path(out)
