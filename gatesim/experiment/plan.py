"""Capacity search: the cheapest configuration whose service targets hold with 95 % confidence.

The search knows nothing about simulation. It calls ``evaluate(point, replications)`` — a point
maps every varied path to a value, ``replications`` lists the replication indices still to run —
and gets one KPI row per replication back. Replication i is always the same replication (the
evaluator gives it the same seed material at every point: common random numbers), so adding
replications to a point reuses the ones it has, and no point is simulated twice.

Monotonicity is assumed: more capacity never makes a target harder to meet. So a point that
meets the targets implies every point at least as large in every dimension does too, and a
point that fails implies every point at most as large fails. The search:

1. decides the largest-capacity corner; if it fails, no configuration in range meets the
   targets (the corner is the best point found);
2. bisects the dimension with the most values (the *main* one) along each combination of the
   other dimensions, taken in increasing lexicographic order, for the smallest value that meets
   the targets. Statuses implied by monotonicity are never simulated, and a line is abandoned as
   soon as its cheapest remaining candidate costs more than the best point found so far;
3. returns the cheapest frontier point (ties: fewer total units, then the lexicographically
   smallest values), and its neighbours one step lower in each dimension, which fail.

A point is decided with ``initial`` replications; while any target is undecided (its one-sided
bounds straddle the value) the replications are doubled up to ``max_replications``; a point
still undecided then is treated as failing (conservative) and flagged.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gatesim.experiment.targets import (
    FAILS,
    HOLDS,
    UNDECIDED,
    Cost,
    Dimension,
    Target,
    check_kpis,
)

Value = int | float
Index = tuple[int, ...]
Row = Mapping[str, float]
Evaluate = Callable[[dict[str, Value], Sequence[int]], Sequence[Row]]


@dataclass
class Evaluation:
    """Everything known about one simulated point."""

    index: Index
    values: dict[str, Value]
    order: int  # 0 for the first point evaluated
    rows: list[Row] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)  # replication totals, e.g. [5, 10, 20]
    targets: list[dict[str, Any]] = field(default_factory=list)
    verdict: str = UNDECIDED  # holds | fails | undecided (undecided is treated as failing)

    @property
    def feasible(self) -> bool:
        return self.verdict == HOLDS

    @property
    def replications(self) -> int:
        return len(self.rows)


@dataclass
class PlanResult:
    dimensions: list[Dimension]
    targets: list[Target]
    costs: dict[str, Cost]
    evaluations: list[Evaluation]
    found: bool
    point: Evaluation  # the chosen point, or (nothing found) the largest-capacity corner
    neighbours: list[dict[str, Any]]
    simulations: int
    main_dimension: str

    def cost(self, values: Mapping[str, Value]) -> float:
        return total_cost(values, self.dimensions, self.costs)


def total_cost(
    values: Mapping[str, Value], dims: Sequence[Dimension], costs: Mapping[str, Cost]
) -> float:
    return sum(costs[d.path].of(float(values[d.path]), float(d.low)) for d in dims)


class CapacitySearch:
    """One search; ``run()`` returns a :class:`PlanResult`."""

    def __init__(
        self,
        dimensions: Sequence[Dimension],
        targets: Sequence[Target],
        evaluate: Evaluate,
        costs: Mapping[str, Cost] | None = None,
        initial_replications: int = 5,
        max_replications: int = 40,
    ) -> None:
        if not dimensions or not targets:
            raise ValueError("a capacity search needs at least one dimension and one target")
        self.dims = list(dimensions)
        self.targets = list(targets)
        self.evaluate = evaluate
        self.costs = {d.path: (costs or {}).get(d.path, Cost()) for d in self.dims}
        self.initial = max(2, initial_replications)
        self.max_replications = max(self.initial, max_replications)
        self.evaluations: dict[Index, Evaluation] = {}
        self.simulations = 0
        self._kpis_checked = False

    # ----------------------------------------------------------------------- points
    def values(self, index: Index) -> dict[str, Value]:
        return {d.path: d.values[i] for d, i in zip(self.dims, index, strict=True)}

    def key(self, index: Index) -> tuple[float, float, tuple[Value, ...]]:
        """Order of preference: cost, then total units, then the values lexicographically."""
        values = self.values(index)
        return (
            total_cost(values, self.dims, self.costs),
            float(sum(values.values())),
            tuple(values.values()),
        )

    def status(self, index: Index) -> tuple[bool | None, Index | None]:
        """(meets the targets?, the evaluated point that says so), from evaluations and
        monotonicity; (None, None) when unknown."""
        done = self.evaluations.get(index)
        if done is not None:
            return done.feasible, index
        for other in self.evaluations.values():
            if other.feasible and all(a <= b for a, b in zip(other.index, index, strict=True)):
                return True, other.index
            if not other.feasible and all(a >= b for a, b in zip(other.index, index, strict=True)):
                return False, other.index
        return None, None

    def decide(self, index: Index) -> bool:
        """Simulate a point (adding replications while undecided); True when it meets all
        targets with 95 % confidence."""
        if index in self.evaluations:
            return self.evaluations[index].feasible
        point = Evaluation(index, self.values(index), order=len(self.evaluations))
        n = self.initial
        while True:
            point.rows.extend(self._simulate(point.values, range(point.replications, n)))
            point.batches.append(n)
            point.targets, point.verdict = self._judge(point.rows)
            if point.verdict != UNDECIDED or n >= self.max_replications:
                break
            n = min(2 * n, self.max_replications)
        self.evaluations[index] = point
        return point.feasible

    def _simulate(self, values: dict[str, Value], replications: Sequence[int]) -> list[Row]:
        todo = list(replications)
        rows: list[Row] = []
        if not self._kpis_checked and todo:  # a typo in a KPI costs one replication, not n
            rows = list(self.evaluate(values, todo[:1]))
            check_kpis(self.targets, list(rows[0]))
            self._kpis_checked = True
            todo = todo[1:]
        if todo:
            rows.extend(self.evaluate(values, todo))
        self.simulations += len(replications)
        return rows

    def _judge(self, rows: Sequence[Row]) -> tuple[list[dict[str, Any]], str]:
        reports, verdicts = [], []
        for target in self.targets:
            verdict, stats = target.verdict([float(r[target.kpi]) for r in rows])
            verdicts.append(verdict)
            reports.append({"target": str(target), **stats, "verdict": verdict})
        if FAILS in verdicts:
            return reports, FAILS
        return reports, HOLDS if all(v == HOLDS for v in verdicts) else UNDECIDED

    # ----------------------------------------------------------------------- search
    def run(self) -> PlanResult:
        top = tuple(len(d.values) - 1 for d in self.dims)
        main = max(range(len(self.dims)), key=lambda d: (len(self.dims[d].values), -d))
        if not self.decide(top):
            return self._result(False, top, main)
        best: Index | None = None
        others = [range(len(d.values)) for i, d in enumerate(self.dims) if i != main]
        for combo in itertools.product(*others):
            found = self._bisect_line(list(combo), main, best)
            if found is not None and (best is None or self.key(found) < self.key(best)):
                best = found
        assert best is not None  # the top corner meets the targets
        return self._result(True, best, main)

    def _bisect_line(self, combo: list[int], main: int, best: Index | None) -> Index | None:
        """The smallest main-dimension index meeting the targets on this line, or None (none
        does, or none can beat ``best``)."""
        size = len(self.dims[main].values)

        def at(j: int) -> Index:
            return tuple([*combo[:main], j, *combo[main:]])

        known = [self.status(at(j))[0] for j in range(size)]
        lo = max((j for j, s in enumerate(known) if s is False), default=-1)
        hi = min((j for j, s in enumerate(known) if s is True), default=None)

        def beaten() -> bool:  # even the cheapest candidate left costs more than the best
            return lo + 1 >= size or (best is not None and self.key(at(lo + 1)) > self.key(best))

        if beaten():
            return None
        if hi is None:
            if not self.decide(at(size - 1)):
                return None
            hi = size - 1
        while hi - lo > 1:
            if beaten():
                return None
            mid = (lo + hi) // 2
            if self.decide(at(mid)):
                hi = mid
            else:
                lo = mid
        return at(hi)

    def _result(self, found: bool, index: Index, main: int) -> PlanResult:
        self.decide(index)  # already evaluated (the chosen point is never only implied)
        neighbours = [self._neighbour(index, d) for d in range(len(self.dims)) if index[d] > 0]
        return PlanResult(
            dimensions=self.dims,
            targets=self.targets,
            costs=self.costs,
            evaluations=sorted(self.evaluations.values(), key=lambda e: e.order),
            found=found,
            point=self.evaluations[index],
            neighbours=neighbours if found else [],
            simulations=self.simulations,
            main_dimension=self.dims[main].path,
        )

    def _neighbour(self, index: Index, d: int) -> dict[str, Any]:
        """The point one step lower in dimension d: it fails (simulated, or implied by a larger
        point that failed)."""
        lower = tuple(i - 1 if k == d else i for k, i in enumerate(index))
        feasible, source = self.status(lower)
        if feasible is None:  # cannot happen with costs >= 0; decide it rather than guess
            feasible, source = self.decide(lower), lower
        entry: dict[str, Any] = {
            "dimension": self.dims[d].path,
            "values": self.values(lower),
            "meets_targets": feasible,
            "evaluated": lower in self.evaluations,
        }
        if lower in self.evaluations:
            entry["targets"] = self.evaluations[lower].targets
            entry["replications"] = self.evaluations[lower].replications
        elif source is not None:
            entry["implied_by"] = self.values(source)
        return entry
