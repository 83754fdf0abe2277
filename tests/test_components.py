"""Independent components: split, simulate part by part, merge; identical on every executor."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from builders import assert_same_up_to_order, scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from gatesim.core.results import RunResult
from gatesim.experiment.runner import (
    STAGED,
    WHOLE,
    ReplicationOutcome,
    run_experiment,
    run_replications,
    split_plan,
    submission_order,
)
from gatesim.model.components import Component, components
from gatesim.model.engine import Replication, merge_pieces, simulate, simulate_piece
from gatesim.scenario.schema import Scenario
from gatesim.stats.kpis import replication_kpis

EXP = {"dist": "exponential", "mean": 10.0}


def stream(route: str, per_day: float, lane: str) -> dict[str, Any]:
    return {
        "lane": lane,
        "direction": "export",
        "cargo": "c",
        "route": route,
        "per_day": per_day,
        "channels": {"green": 0.7, "yellow": 0.3},
    }


def lanes(linked: bool = False, days: int = 3) -> Scenario:
    """Two lanes of two stations each; ``linked`` lane B overflows to lane A's second
    station when lane A's first station has a queue (an ``if_queue_above`` across lanes)."""
    station = {"servers": 1, "service": EXP}
    b_steps: list[Any] = ["b1", "b2"]
    if linked:
        b_steps = [{"if_queue_above": {"station": "a1", "waiting": 2}, "then": ["b1"],
                    "else": ["b1", "b2"]}]  # fmt: skip
    return scenario(
        {"a1": station, "a2": {"servers": 2, "service": EXP}, "b1": station, "b2": station},
        {
            "ra": {"origin": "src", "steps": ["a1", "a2"], "destination": "out"},
            "rb": {"origin": "src", "steps": b_steps, "destination": "out"},
        },
        {
            "a_fast": stream("ra", 60, "A"),
            "b_only": stream("rb", 50, "B"),
            "a_slow": stream("ra", 40, "A"),
        },
        days=days,
        warmup_days=1,
    )


def same(a: RunResult, b: RunResult) -> None:
    """Identical results field by field (samples and records in the same order)."""
    for name in a.__dataclass_fields__:
        if name == "wall_seconds":
            continue
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y), name
        elif name == "queue_by_hour":
            assert list(x) == list(y) and all(np.array_equal(x[k], y[k]) for k in x)
        elif name in ("trucks", "visits"):
            assert repr(x) == repr(y), name  # repr: NaN rows compare equal
        else:
            assert x == y, name


def test_split_into_lanes_in_stream_order() -> None:
    assert components(lanes()) == [
        Component(("a1", "a2"), ("a_fast", "a_slow")),
        Component(("b1", "b2"), ("b_only",)),
    ]


def test_if_queue_above_across_lanes_joins_them() -> None:
    (only,) = components(lanes(linked=True))
    assert only.stations == ("a1", "a2", "b1", "b2")
    assert only.streams == ("a_fast", "b_only", "a_slow")


def test_component_wise_equals_whole_run() -> None:
    s = lanes()
    whole = Replication(s, 0).run()  # one environment for both lanes
    merged = simulate(s, 0)  # lane by lane, merged
    assert_same_up_to_order(whole, merged)  # samples and records come lane by lane
    assert merged.trucks is not None
    ids = [row[0] for row in merged.trucks]
    assert len(set(ids)) == len(ids)  # ids are the whole scenario's, hence unique
    a, b = replication_kpis(whole), replication_kpis(merged)
    assert a.keys() == b.keys()
    for name in a:  # only the summation order of samples differs
        assert a[name] == pytest.approx(b[name], rel=1e-12, nan_ok=True), name


def test_pieces_merge_in_component_order() -> None:
    s = lanes()
    pieces = [simulate_piece(s, 1, i) for i in range(2)]
    assert list(pieces[0].stations) == ["a1", "a2"] and list(pieces[1].stations) == ["b1", "b2"]
    assert pieces[0].arrived_by_stream[1] == 0 and pieces[1].arrived_by_stream[0] == 0
    same(merge_pieces(s, pieces), simulate(s, 1))


def test_linked_lanes_run_whole() -> None:
    s = lanes(linked=True)
    same(simulate(s, 0), Replication(s, 0).run())


@pytest.mark.parametrize("replications", [1, 3])
def test_parallel_pieces_match_serial(replications: int) -> None:
    s = lanes()
    serial = run_experiment(s, replications=replications, jobs=1)
    parallel = run_experiment(s, replications=replications, jobs=2)
    seen: dict[int, Any] = {}
    direct = run_replications(
        [(s, r) for r in range(replications)], jobs=4, on_result=seen.__setitem__
    )
    assert sorted(seen) == list(range(replications))
    same_outcomes(serial.outcomes, parallel.outcomes)
    same_outcomes(serial.outcomes, direct)


def same_outcomes(these: list[ReplicationOutcome], those: list[ReplicationOutcome]) -> None:
    """Identical replication outcomes, one by one (repr: NaN compares equal to NaN)."""
    for a, b in zip(these, those, strict=True):
        assert a.replication == b.replication
        assert a.kpis == b.kpis or repr(a.kpis) == repr(b.kpis)
        assert a.stations == b.stations
        assert a.conservation == b.conservation
        assert a.cleared_by_day == b.cleared_by_day
        assert a.cleared_by_hour == b.cleared_by_hour
        assert a.in_system_by_hour == b.in_system_by_hour
        assert repr(a.trucks) == repr(b.trucks)
        assert a.visits == b.visits


def test_batch_ends_on_component_pieces_largest_first() -> None:
    """5 replications on 2 workers: 3 run whole, the last 2 by lanes, lane A's pieces (100
    trucks a day through 2 stations) before lane B's (50 a day through 2)."""
    s = lanes()
    plan = split_plan([(s, r) for r in range(5)], jobs=2)
    assert [[piece for _, _, piece in p] for p in plan] == [[WHOLE]] * 3 + [[0, 1], [0, 1]]
    assert [r for p in plan for _, r, _ in p] == [0, 1, 2, 3, 3, 4, 4]
    assert submission_order(plan) == [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (3, 1), (4, 1)]


def test_linked_lanes_never_split_in_a_batch() -> None:
    s = lanes(linked=True)
    plan = split_plan([(s, r) for r in range(3)], jobs=2)
    assert [[piece for _, _, piece in p] for p in plan] == [[WHOLE]] * 3


def test_batch_with_split_tail_matches_serial() -> None:
    s = lanes()
    serial = run_replications([(s, r) for r in range(5)])
    seen: list[int] = []
    pooled = run_replications(
        [(s, r) for r in range(5)], jobs=2, on_result=lambda i, _: seen.append(i)
    )
    assert sorted(seen) == list(range(5))
    same_outcomes(serial, pooled)


@settings(max_examples=60, deadline=None)
@given(
    linked=st.lists(st.booleans(), min_size=0, max_size=9),
    jobs=st.integers(1, 6),
)
def test_split_plan_runs_every_replication_once_and_whole_ones_first(
    linked: list[bool], jobs: int
) -> None:
    """Any batch: each replication is its whole task or all its components (never both, never
    a component twice); whole tasks are submitted before any component piece; pieces of a split
    replication cover its components in order."""
    two_lanes, one_part = lanes(), lanes(linked=True)
    tasks = [(one_part if joined else two_lanes, r) for r, joined in enumerate(linked)]
    plan = split_plan(tasks, jobs)
    assert len(plan) == len(tasks)
    for (model, replication), pieces in zip(tasks, plan, strict=True):
        assert all(s is model and r == replication for s, r, _ in pieces)
        numbers = [piece for _, _, piece in pieces]
        assert numbers in ([WHOLE], [STAGED], list(range(len(components(model)))))
    order = submission_order(plan)
    assert sorted(order) == sorted((t, k) for t, p in enumerate(plan) for k in range(len(p)))
    kinds = [plan[t][k][2] < 0 for t, k in order]  # True: a whole replication
    assert kinds == sorted(kinds, reverse=True)
    if len(tasks) >= jobs:  # only the last `jobs` replications may be split
        assert all(p[0][2] == WHOLE for p in plan[: len(tasks) - jobs])
