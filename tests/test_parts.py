"""Independent parts: split, simulate part by part, merge into the one-environment result bit
for bit; identical on every executor."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from builders import assert_results_identical, scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from gatesim.core.results import RunResult
from gatesim.experiment.parts import independent_parts, merge_parts, simulate_part
from gatesim.experiment.runner import (
    PartTask,
    ReplicationOutcome,
    WholeTask,
    run_experiment,
    run_replications,
    schedule,
    submission_order,
)
from gatesim.model.collect import SAMPLES, in_canonical_order
from gatesim.model.engine import Replication, simulate
from gatesim.model.parts import Part
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
        elif name in ("queue_by_hour", "at_station_by_hour", "spillback_km_by_hour"):
            assert list(x) == list(y) and all(np.array_equal(x[k], y[k]) for k in x)
        elif name in ("trucks", "visits"):
            assert repr(x) == repr(y), name  # repr: NaN rows compare equal
        else:
            assert x == y, name


def test_split_into_lanes_in_stream_order() -> None:
    assert independent_parts(lanes()) == [
        Part(("a1", "a2"), ("a_fast", "a_slow")),
        Part(("b1", "b2"), ("b_only",)),
    ]


def test_if_queue_above_across_lanes_joins_them() -> None:
    (only,) = independent_parts(lanes(linked=True))
    assert only.stations == ("a1", "a2", "b1", "b2")
    assert only.streams == ("a_fast", "b_only", "a_slow")


def test_part_by_part_equals_whole_run_bit_for_bit() -> None:
    s = lanes()
    whole = simulate(s, 0)  # one environment for both lanes
    merged = merge_parts(s, [simulate_part(s, 0, i) for i in range(2)])
    assert_results_identical(whole, merged)  # samples and records in the canonical order
    same(whole, merged)
    assert merged.trucks is not None
    ids = [row[0] for row in merged.trucks]
    assert len(set(ids)) == len(ids)  # ids are the whole scenario's, hence unique
    assert repr(replication_kpis(whole)) == repr(replication_kpis(merged))


def test_parts_merge_in_part_order() -> None:
    s = lanes()
    results = [simulate_part(s, 1, i) for i in range(2)]
    assert list(results[0].stations) == ["a1", "a2"] and list(results[1].stations) == ["b1", "b2"]
    assert results[0].arrived_by_stream[1] == 0 and results[1].arrived_by_stream[0] == 0
    same(merge_parts(s, results), simulate(s, 1))


def test_a_part_simulates_only_its_stations() -> None:
    s = lanes()
    run = Replication(s, 0, part=independent_parts(s)[1])
    assert list(run.stations) == ["b1", "b2"]
    result = run.run()
    assert result.arrived_by_stream.tolist()[0] == 0 and result.arrived_by_stream[1] > 0


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


def test_batch_ends_on_parts_largest_first() -> None:
    """5 replications on 2 workers: 3 run whole, the last 2 by lanes, lane A's parts (100
    trucks a day through 2 stations) before lane B's (50 a day through 2)."""
    s = lanes()
    plan = schedule([(s, r) for r in range(5)], jobs=2)
    whole = [[WholeTask(s, r)] for r in range(3)]
    assert plan == whole + [[PartTask(s, r, 0), PartTask(s, r, 1)] for r in (3, 4)]
    assert submission_order(plan) == [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (3, 1), (4, 1)]


def test_fewer_replications_than_workers_all_split() -> None:
    s = lanes()
    assert schedule([(s, 0)], jobs=2) == [[PartTask(s, 0, 0), PartTask(s, 0, 1)]]


def test_linked_lanes_never_split_in_a_batch() -> None:
    s = lanes(linked=True)
    plan = schedule([(s, r) for r in range(3)], jobs=2)
    assert plan == [[WholeTask(s, r)] for r in range(3)]


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
def test_schedule_runs_every_replication_once_and_whole_ones_first(
    linked: list[bool], jobs: int
) -> None:
    """Any batch: each replication is its whole task or all its parts (never both, never a
    part twice); whole tasks are submitted before any part; the parts of a split replication
    cover its parts in order."""
    two_lanes, one_part = lanes(), lanes(linked=True)
    tasks = [(one_part if joined else two_lanes, r) for r, joined in enumerate(linked)]
    plan = schedule(tasks, jobs)
    assert len(plan) == len(tasks)
    for (model, replication), pieces in zip(tasks, plan, strict=True):
        assert all(p.scenario is model and p.replication == replication for p in pieces)
        parts = [PartTask(model, replication, k) for k in range(len(independent_parts(model)))]
        assert pieces in ([WholeTask(model, replication)], parts)
    order = submission_order(plan)
    assert sorted(order) == sorted((t, k) for t, p in enumerate(plan) for k in range(len(p)))
    kinds = [isinstance(plan[t][k], WholeTask) for t, k in order]
    assert kinds == sorted(kinds, reverse=True)
    if len(tasks) >= jobs:  # only the last `jobs` replications may be split
        assert all(isinstance(p[0], WholeTask) for p in plan[: len(tasks) - jobs])


@pytest.mark.parametrize("ties", [False, True])
def test_canonical_order_is_the_four_key_sort(ties: bool) -> None:
    """The shortcut (one key when it has no ties) gives exactly the four-key order."""
    rng = np.random.default_rng(3)
    n = 2_000
    tis = rng.exponential(20.0, n)
    samples = {
        "time_in_system_min": np.round(tis) if ties else tis,
        "time_in_system_stream": rng.integers(0, 3, n),
        "time_in_system_created_min": rng.uniform(0.0, 1e4, n),
        "waiting_for_opening_min": rng.choice([0.0, 5.0], n),
    }
    full = np.lexsort([samples[a] for a in reversed(SAMPLES)])
    got = in_canonical_order(samples)
    for attr in SAMPLES:
        assert np.array_equal(got[attr], samples[attr][full]), attr
