"""``plan --draws N``: the plan's answers over draws of the scenario's uncertain values.

Two answers, each per draw (:mod:`gatesim.experiment.draws`), either or both:

* **the sizes** (``--vary``): the cheapest configuration meeting the targets, found by the same
  search as ``plan`` (:class:`gatesim.experiment.plan.CapacitySearch`) on the draw's scenario;
* **the first year missed** (``--years FIRST:LAST``): the scenario as given (no ``--vary``
  values) is run with ``demand.year`` = FIRST, FIRST + 1, …, each year judged as ``plan``
  judges a point (one-sided 95 % bounds, replications doubled while undecided; undecided
  counts as missed, as it counts as failing in the search); the first year whose targets do
  not hold is the answer, none when every year to LAST holds. Demand only grows with the
  year, so the scan stops there.

Every draw runs under the scenario's seed (common random numbers across draws and points);
replications go through one :class:`ReplicationRunner`, so the executor does not change a
number and ``--resume`` reuses every replication an interrupted run finished.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from gatesim.core.errors import ScenarioError
from gatesim.experiment.draws import Draw, DrawOptions, draws_of, shares, summary
from gatesim.experiment.draws_output import DrawsResult, draws_document
from gatesim.experiment.levers import check_sides
from gatesim.experiment.options import StudyOptions, study_runner
from gatesim.experiment.plan import CapacitySearch, PlanResult
from gatesim.experiment.planning import NO_RECORDS, PlanInputs, ScenarioEvaluator
from gatesim.experiment.study import ReplicationRunner
from gatesim.experiment.targets import Dimension
from gatesim.experiment.uncertainty import DesignSpace

KIND = "plan_draws"
YEAR = "demand.year"


def plan_over_draws(
    scenario_file: Path,
    inputs: PlanInputs,
    years: tuple[int, int] | None,
    draws: DrawOptions,
    options: StudyOptions,
) -> DrawsResult:
    """The plan's answers in every draw (every draw's points built before any simulation)."""
    started = time.perf_counter()
    space = DesignSpace(scenario_file, options.overrides())
    check_not_drawn(space, inputs.dimensions, years)
    drawn = draws_of(space, draws)
    fixed = {**options.overrides(), "records": NO_RECORDS}
    evaluators = [
        ScenarioEvaluator(
            scenario_file,
            {**fixed, **d.overrides},
            ReplicationRunner(),
            kpis=[t.kpi for t in inputs.targets],
        )
        for d in drawn
    ]
    for evaluator in evaluators:
        _check_points(evaluator, inputs.dimensions, years)
    base = evaluators[0].scenario({d.path: d.low for d in inputs.dimensions})
    check_sides(base, inputs.dimensions, inputs.side)
    execution = options.execution()
    entries = []
    with study_runner(options) as runner:
        try:
            for d, evaluator in zip(drawn, evaluators, strict=True):
                evaluator.runner = runner
                entries.append(_draw_answers(d, evaluator, inputs, years, base.replications))
        except ScenarioError:  # e.g. an unknown KPI, found by the first run: nothing left behind
            runner.discard_store()
            raise
    design = {
        **draws.document(),
        "targets": [str(t) for t in inputs.targets],
        "vary": [{"path": d.path, "values": list(d.values)} for d in inputs.dimensions],
        "years": list(years) if years else None,
        "initial_replications": base.replications,
        "max_replications": inputs.max_replications,
        "side": inputs.side,
    }
    nominal = space.scenario
    document = draws_document(
        KIND, nominal, scenario_file, design, [f.document() for f in space.factors],
        entries, plan_summary(entries, inputs.dimensions, years), execution.describe(),
    )  # fmt: skip
    resumed = len(runner.resumed)
    return DrawsResult(document, draws_table(entries), nominal, time.perf_counter() - started,
                       resumed)  # fmt: skip


def check_not_drawn(
    space: DesignSpace, dimensions: Sequence[Dimension], years: tuple[int, int] | None
) -> None:
    """A searched lever (or the scanned year) cannot also be an uncertain value."""
    drawn = {path: f.name for f in space.factors for path in f.paths}
    for path in [d.path for d in dimensions] + ([YEAR] if years else []):
        if path in drawn:
            flag = "--years" if path == YEAR else "--vary"
            raise ScenarioError(
                None, flag, f"is an uncertain value of the scenario (uncertain.{drawn[path]}): "
                "a searched field cannot also be drawn", path,
            )  # fmt: skip


def _check_points(
    evaluator: ScenarioEvaluator, dimensions: Sequence[Dimension], years: tuple[int, int] | None
) -> None:
    if dimensions:
        evaluator.check(dimensions)
    if years:
        for year in (years[0], years[1]):
            try:
                evaluator.scenario({YEAR: year})
            except ScenarioError as exc:
                raise ScenarioError(None, "--years", exc.message, year) from None


def _draw_answers(
    draw: Draw,
    evaluator: ScenarioEvaluator,
    inputs: PlanInputs,
    years: tuple[int, int] | None,
    initial: int,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"draw": draw.index, "values": draw.values}
    if inputs.dimensions:
        found = CapacitySearch(
            inputs.dimensions, inputs.targets, evaluator, inputs.costs,
            initial_replications=initial, max_replications=inputs.max_replications,
        ).run()  # fmt: skip
        entry.update(_sizes(found))
    if years:
        entry.update(first_missed_year(evaluator, inputs, years, initial))
    return entry


def _sizes(result: PlanResult) -> dict[str, Any]:
    """The chosen configuration (None when none in range meets the targets) and the reported
    point's target statistics: the chosen one's, or the largest corner's (how far it misses)."""
    return {
        "found": result.found,
        "chosen": result.point.values if result.found else None,
        "cost": result.cost(result.point.values) if result.found else None,
        "reported": {"values": result.point.values, "targets": result.point.targets},
        "search_simulations": result.simulations,
    }


def first_missed_year(
    evaluate: ScenarioEvaluator, inputs: PlanInputs, years: tuple[int, int], initial: int
) -> dict[str, Any]:
    """The first year in FIRST..LAST whose targets do not hold (None: all hold), with each
    scanned year's verdict and target statistics."""
    span = tuple(range(years[0], years[1] + 1))
    scan = CapacitySearch(
        [Dimension(YEAR, span)], inputs.targets, evaluate,
        initial_replications=initial, max_replications=inputs.max_replications,
    )  # fmt: skip
    missed = None
    for i, year in enumerate(span):
        if not scan.decide((i,)):
            missed = year
            break
    verdicts = [
        {"year": e.values[YEAR], "verdict": e.verdict, "replications": e.replications,
         "targets": e.targets}
        for e in sorted(scan.evaluations.values(), key=lambda e: e.order)
    ]  # fmt: skip
    return {"first_missed_year": missed, "years": verdicts, "scan_simulations": scan.simulations}


def plan_summary(
    entries: Sequence[Mapping[str, Any]],
    dimensions: Sequence[Dimension],
    years: tuple[int, int] | None,
) -> dict[str, Any]:
    """The share of draws in which the search found a configuration, each searched field's
    chosen value over those draws (median, 90 % interval, and each value's share), and the
    share of draws missing the targets first in each year (None: not to LAST)."""
    found: dict[str, Any] = {}
    if dimensions:
        chosen = [e["chosen"] for e in entries]
        found["found_share"] = sum(c is not None for c in chosen) / len(entries)
        found["dimensions"] = {
            d.path: {
                **summary([c[d.path] if c else None for c in chosen], discrete=True),
                "values": shares([c[d.path] if c else None for c in chosen]),
            }
            for d in dimensions
        }
    if years:
        found["first_missed_year"] = shares([e["first_missed_year"] for e in entries])
        found["years"] = list(years)
    return found


def draws_table(entries: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """draws.csv: the draw, its values, the chosen value of each searched field (empty when
    none in range meets the targets), its cost, and the first year missed."""
    rows = []
    for entry in entries:
        row: dict[str, Any] = {"draw": entry["draw"], **entry["values"]}
        if "found" in entry:
            row["found"] = entry["found"]
            row.update({f"chosen.{k}": v for k, v in (entry["chosen"] or {}).items()})
            row["cost"] = entry["cost"]
        if "first_missed_year" in entry:
            row["first_missed_year"] = entry["first_missed_year"]
        rows.append(row)
    table = pd.DataFrame(rows)
    if "first_missed_year" in table:  # whole years, empty where none is missed
        table["first_missed_year"] = table["first_missed_year"].astype("Int64")
    return table
