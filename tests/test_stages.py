"""Pipeline stages: where a component is cut, and that a cut run equals the whole run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from builders import assert_same_up_to_order, scenario
from test_components import lanes, same, same_outcomes

import gatesim.model.stages as stages
from gatesim.experiment.runner import STAGED, run_experiment, run_replications, split_plan
from gatesim.model.components import Component
from gatesim.model.engine import Replication, merge_pieces, simulate, simulate_piece
from gatesim.model.flows import ORIGIN, expected_visits
from gatesim.model.loading import load_scenario
from gatesim.model.network import build_network
from gatesim.model.pipeline import PipelineError, can_fork, run_stages
from gatesim.model.stages import pipeline, split_stations
from gatesim.scenario.schema import Scenario

EXP = {"dist": "exponential", "mean": 10.0}
ROOT = Path(__file__).resolve().parents[1]


def station(servers: int = 1) -> dict[str, Any]:
    return {"servers": servers, "service": EXP}


def stream(route: str, per_day: float) -> dict[str, Any]:
    return {
        "lane": "L",
        "direction": "export",
        "cargo": "c",
        "route": route,
        "per_day": per_day,
        "channels": {"green": 0.6, "yellow": 0.4},
    }


def shared_middle(
    days: int = 4, middle: list[Any] | None = None, extra: tuple[str, ...] = ()
) -> Scenario:
    """Two streams with their own first stations, a shared middle and their own last ones."""
    steps_mid = middle if middle is not None else ["mid"]
    return scenario(
        {n: station(2) for n in ("a_up", "b_up", "mid", "a_down", "b_down", *extra)},
        {
            "ra": {"origin": "src", "steps": ["a_up", *steps_mid, "a_down"], "destination": "out"},
            "rb": {"origin": "src", "steps": ["b_up", *steps_mid, "b_down"], "destination": "out"},
        },
        {"a": stream("ra", 90), "b": stream("rb", 70)},
        days=days,
        warmup_days=1,
    )


@pytest.fixture
def always_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut every component big enough to cut at all (the real floor is a million visits)."""
    monkeypatch.setattr(stages, "SPLIT_MIN_VISITS", 0)


def moves(s: Scenario) -> set[tuple[str, str]]:
    return expected_visits(s, tuple(s.arrivals)).edges


def test_short_runs_are_not_cut() -> None:
    assert pipeline(shared_middle()) is None


def cut_of(s: Scenario) -> Component:
    part = pipeline(s)
    assert part is not None
    return part


def test_expected_visits_follow_route_shares() -> None:
    flow = expected_visits(shared_middle(days=4), ("a", "b"))
    assert flow.visits["a_up"] == pytest.approx(4 * 90)
    assert flow.visits["mid"] == pytest.approx(4 * 160)
    assert (ORIGIN, "a_up") in flow.edges and ("mid", "b_down") in flow.edges


@pytest.mark.usefixtures("always_cut")
def test_cut_is_upstream_closed() -> None:
    s = shared_middle()
    part = cut_of(s)
    head, tail = part.stages
    assert set(head) | set(tail) == set(part.stations) and not set(head) & set(tail)
    for a, b in moves(s):
        assert not (a in tail and b in head), (a, b)  # no truck goes back upstream
        if a == ORIGIN:
            assert b in head  # only the head generates arrivals


@pytest.mark.usefixtures("always_cut")
def test_choose_is_decided_in_one_stage() -> None:
    # green trucks decide after x, yellow after y: both must sit in one stage
    middle = [
        {"branch": "channel", "cases": {"green": ["x"], "yellow": ["y"]}},
        {"choose": [{"p": 0.5, "steps": ["mid"]}, {"p": 0.5, "steps": []}]},
    ]
    s = shared_middle(middle=middle, extra=("x", "y"))
    part = cut_of(s)
    head, _ = part.stages
    assert ("x" in head) == ("y" in head)


@pytest.mark.usefixtures("always_cut")
def test_overflow_looks_at_a_station_of_its_own_stage() -> None:
    def cut(watched: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        middle = [{"if_queue_above": {"station": watched, "waiting": 3}, "then": ["x"],
                   "else": ["mid"]}]  # fmt: skip
        s = shared_middle(middle=middle, extra=("x",))
        return split_stations(s, tuple(s.stations), tuple(s.arrivals))

    # decided after a_up / b_up, looking at x: x joins them in the head
    assert cut("x") == (("a_up", "b_up", "x"), ("mid", "a_down", "b_down"))
    # looking at b_down, downstream of the deciders: no cut keeps them together
    assert cut("b_down") is None


@pytest.mark.usefixtures("always_cut")
@pytest.mark.parametrize("build", [shared_middle, lanes])
def test_staged_run_equals_whole_run(build: Any) -> None:
    s = build(days=6)
    cut_of(s)
    whole = Replication(s, 0).run()
    staged = simulate(s, 0)
    assert_same_up_to_order(whole, staged)
    assert staged.arrived_by_stream.sum() > 500  # enough trucks to mean something


@pytest.mark.usefixtures("always_cut")
def test_staged_run_with_roads_equals_whole_run() -> None:
    # Trucks drive from head stations to tail stations across hourly snapshots and report
    # times: the tail counts each in its system from the time it left the head.
    records = {"trucks": True, "visits": True}
    s = one_way_baseline({"days": 4, "records": records})
    head, tail = cut_of(s).stages
    travel = build_network(s).travel_min
    assert any(travel.get((a, b), 0.0) > 0.0 for a in head for b in tail)
    assert_same_up_to_order(Replication(s, 0).run(), simulate(s, 0))


@pytest.mark.usefixtures("always_cut")
@pytest.mark.parametrize("replication", [0, 5])
def test_a_staged_run_split_by_lanes_merges_to_the_same_result(replication: int) -> None:
    """Cut into pipeline stages or into its lanes, a replication merges to the same result bit
    for bit (samples in one order, records by truck), which lets Dask and a batch's last
    replications split a staged replication by lanes."""
    s = lanes(days=6)
    head, tail = cut_of(s).stages
    assert {"a1", "b1"} <= set(head) and "a2" in tail  # the stages cut across both lanes
    staged = simulate(s, replication)
    by_lane = merge_pieces(s, [simulate_piece(s, replication, i) for i in range(2)])
    assert staged.trucks is not None and staged.visits is not None
    same(staged, by_lane)
    ids = [row[0] for row in staged.trucks]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


@pytest.mark.usefixtures("always_cut")
def test_a_staged_replication_runs_by_stages_on_a_pool_and_by_lanes_on_dask() -> None:
    s = lanes()
    pieces = {fork: split_plan([(s, 0)], jobs=2, fork_stages=fork)[0] for fork in (True, False)}
    assert [piece for _, _, piece in pieces[True]] == [STAGED]
    assert [piece for _, _, piece in pieces[False]] == [0, 1]
    tail = split_plan([(s, r) for r in range(3)], jobs=2)  # the batch's last two by lanes
    assert [[piece for _, _, piece in p] for p in tail[1:]] == [[0, 1], [0, 1]]


@pytest.mark.usefixtures("always_cut")
@pytest.mark.parametrize("dask", [None, "local"])
@pytest.mark.parametrize("replications", [1, 3])
def test_staged_replications_match_serial_on_every_executor(
    dask: str | None, replications: int
) -> None:
    """One staged replication on Dask runs by lanes; in a batch of 3 on 2 workers the last
    two run by lanes (pool workers forked from a process with threads fall back to
    forkserver and do not see the cut: their whole runs are unstaged, the result the same)."""
    s = lanes(days=4)
    tasks = [(s, r) for r in range(replications)]
    serial = run_replications(tasks)
    same_outcomes(serial, run_replications(tasks, jobs=2, dask_address=dask))


def in_fresh_process(check: str) -> None:
    """Run ``check()`` of this module in a new interpreter: forking needs a process with one
    thread, and earlier tests (Dask) leave threads in this one."""
    code = (
        f"import sys; sys.path[:0] = [{str(ROOT / 'tests')!r}]; "
        f"import test_stages; test_stages.{check}()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("checked"), done.stdout


def forked_equals_serial() -> None:
    stages.SPLIT_MIN_VISITS = 0
    assert can_fork()
    s = shared_middle(days=5)
    part = cut_of(s)
    serial = merge_pieces(s, run_stages(s, 2, part, None, fork=False))
    forked = merge_pieces(s, run_stages(s, 2, part, None, fork=True))
    same(serial, forked)
    print("checked")


def forked_failure_is_reported() -> None:
    stages.SPLIT_MIN_VISITS = 0

    def broken(self: Replication, truck: Any, key: str) -> None:
        raise RuntimeError("hand-over broke")

    Replication._hand_off = broken  # type: ignore[method-assign]  # this process only
    s = shared_middle()
    part = cut_of(s)
    with pytest.raises(PipelineError, match="hand-over broke"):
        run_stages(s, 0, part, None, fork=True)
    print("checked")


def test_forked_head_gives_the_serial_result() -> None:
    in_fresh_process("forked_equals_serial")


def test_a_failing_forked_head_is_reported() -> None:
    in_fresh_process("forked_failure_is_reported")


def pool_equals_serial() -> None:
    stages.SPLIT_MIN_VISITS = 0  # pool workers are forked from this one-thread process
    s = shared_middle(days=4)
    serial = run_experiment(s, replications=1, jobs=1).outcomes[0]
    pool = run_experiment(s, replications=1, jobs=2).outcomes[0]
    assert repr(serial.kpis) == repr(pool.kpis)
    assert serial.stations == pool.stations
    assert repr(serial.trucks) == repr(pool.trucks)
    print("checked")


def test_one_replication_on_two_workers_matches_serial() -> None:
    in_fresh_process("pool_equals_serial")


@pytest.mark.usefixtures("always_cut")
def test_a_failing_head_stage_is_raised_serially(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Replication, truck: Any, key: str) -> None:
        raise RuntimeError("hand-over broke")

    monkeypatch.setattr(Replication, "_hand_off", broken)
    s = shared_middle()
    part = cut_of(s)
    with pytest.raises(RuntimeError, match="hand-over broke"):
        run_stages(s, 0, part, None, fork=False)


@pytest.mark.usefixtures("always_cut")
def test_the_cut_spans_independent_lanes() -> None:
    head, tail = cut_of(lanes()).stages  # two lanes of two stations each
    assert {"a1", "b1"} <= set(head) and "a2" in tail  # each lane's first station leads


def one_way_baseline(overrides: dict[str, object]) -> Scenario:
    """The baseline without its empty returns and yard slots (empties drive back through
    upstream stations and slots go back to the station that gave them: never cut)."""
    no_slots = {f"stations.{lane}_cn_acceptance.params.slots": None for lane in ("hn", "tt")}
    s = load_scenario(ROOT / "scenarios" / "baseline.yaml", overrides={**overrides, **no_slots})
    arrivals = {k: a.model_copy(update={"returns": None}) for k, a in s.arrivals.items()}
    return Scenario.model_validate({**s.model_dump(by_alias=True), "arrivals": arrivals})


def test_a_scenario_with_empty_returns_is_not_cut() -> None:
    year = load_scenario(ROOT / "scenarios" / "baseline.yaml", overrides={"days": 365})
    assert any(a.returns is not None for a in year.arrivals.values())
    assert pipeline(year) is None
    assert pipeline(one_way_baseline({"days": 365})) is not None


def test_the_baseline_year_is_cut_across_both_lanes() -> None:
    s = one_way_baseline({"days": 365})
    head, tail = cut_of(s).stages
    for lane in ("hn_", "tt_"):
        assert any(n.startswith(lane) for n in head) and any(n.startswith(lane) for n in tail)
    assert {"hn_vn_exp_staging", "hn_cn_imp_staging", "tt_vn_exp_staging"} <= set(head)
    flow = expected_visits(s, tuple(s.arrivals))
    share = sum(flow.visits[n] for n in head) / sum(flow.visits.values())
    assert 0.45 < share < 0.55
    assert pipeline(load_scenario(ROOT / "scenarios" / "baseline.yaml")) is None  # 30 days
