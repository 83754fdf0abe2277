"""Blocking after service (``when_full: block``) and preemptive-resume priority (issue 22):
exact hand-computed timelines, the deadlock line, conservation on random tandems (hypothesis),
and a three-station line with small buffers against Ciw's blocking model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from builders import det, scenario, timeline, trace_stream, trucks_by_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from gatesim.cli import main
from gatesim.core.errors import ScenarioError
from gatesim.model.engine import simulate
from gatesim.scenario.schema import Scenario

LINE = {"r": {"origin": "src", "steps": ["s1", "s2"], "destination": "out"}}


def two_stations(times: list[float], when_full: str, **first: Any) -> Scenario:
    """src -> s1 (service 1 min) -> s2 (service 5 min, no waiting room) -> out."""
    return scenario(
        {
            "s1": {"service": det(1.0), **first},
            "s2": {"service": det(5.0), "queue_capacity": 0, "when_full": when_full},
        },
        LINE,
        {"a": trace_stream(times)},
    )


def test_a_blocked_truck_holds_its_upstream_server() -> None:
    """Truck 2 ends at s1 at 2 while s2 serves truck 1 until 6: it stays on s1's server until 6,
    so truck 3 (waiting at s1) starts only at 6, ends at 7 and is blocked until 11."""
    result = simulate(two_stations([0.0, 0.1, 0.2], "block"))
    first = sorted(trucks_by_id(result))[0]
    ids = [first, first + 1, first + 2]
    assert timeline(result, "s1") == [
        (ids[0], "s1", 0.0, 0.0, 1.0),
        (ids[1], "s1", 0.1, 1.0, 2.0),
        (ids[2], "s1", 0.2, 6.0, 7.0),
    ]
    assert timeline(result, "s2") == [
        (ids[0], "s2", 1.0, 1.0, 6.0),
        (ids[1], "s2", 6.0, 6.0, 11.0),
        (ids[2], "s2", 11.0, 11.0, 16.0),
    ]
    trucks = trucks_by_id(result)
    assert [trucks[i]["outcome"] for i in ids] == ["cleared"] * 3
    assert result.lost_by_stream.sum() == 0
    s1 = result.stations["s1"]
    assert s1["blocked_share"] == pytest.approx((4.0 + 4.0) / 1440.0, rel=1e-12)
    # utilisation counts a blocked server as occupied: 3 services + 8 blocked minutes
    assert s1["utilization"] == pytest.approx(11.0 / 1440.0, rel=1e-12)
    assert result.stations["s2"]["blocked_share"] == 0.0


def test_lose_is_the_default_and_loses_the_truck() -> None:
    result = simulate(two_stations([0.0, 0.1, 0.2], "lose"))
    assert result.lost_by_stream.sum() == 2  # trucks 2 and 3 find s2 busy at 2 and 3
    assert "blocked_share" not in result.stations["s1"]  # the row of a scenario without block


def test_a_truck_at_a_full_first_station_waits_on_the_approach_road() -> None:
    """s1 has no waiting room and blocks: truck 2 (at 0.5) waits on the road until 1."""
    result = simulate(
        scenario(
            {"s1": {"service": det(1.0), "queue_capacity": 0, "when_full": "block"}},
            {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
            {"a": trace_stream([0.0, 0.5])},
        )
    )
    rows = timeline(result, "s1")
    assert [(arrive, start, end) for _, _, arrive, start, end in rows] == [
        (0.0, 0.0, 1.0),
        (1.0, 1.0, 2.0),
    ]
    assert result.stations["s1"]["approach_mean"] == pytest.approx(0.5 / 1440.0, rel=1e-12)
    assert result.lost_by_stream.sum() == 0


def _cyclic(times: list[float]) -> Scenario:
    """Two routes in opposite directions through two stations without waiting rooms."""
    stations = {
        name: {"service": det(1.0), "queue_capacity": 0, "when_full": "block"}
        for name in ("s1", "s2")
    }
    routes = {
        "r1": {"origin": "src", "steps": ["s1", "s2"], "destination": "out"},
        "r2": {"origin": "src", "steps": ["s2", "s1"], "destination": "out"},
    }
    arrivals = {"a": trace_stream(times, route="r1"), "b": trace_stream(times, route="r2")}
    return scenario(stations, routes, arrivals)


def test_cyclic_blocking_stops_with_one_deadlock_line() -> None:
    """At 1 both trucks end service and each needs the other's only server: a deadlock."""
    with pytest.raises(ScenarioError, match=r"deadlock at 1\.0 min: .*s1, s2"):
        simulate(_cyclic([0.0]))


def test_the_same_routes_without_a_cycle_of_full_stations_run() -> None:
    """Trucks one after the other through the same two routes never deadlock."""
    scen = scenario(
        _cyclic([0.0]).model_dump()["stations"],
        {
            "r1": {"origin": "src", "steps": ["s1", "s2"], "destination": "out"},
            "r2": {"origin": "src", "steps": ["s2", "s1"], "destination": "out"},
        },
        {"a": trace_stream([0.0], route="r1"), "b": trace_stream([5.0], route="r2")},
    )
    result = simulate(scen)
    assert result.cleared_by_stream.sum() == 2


def test_deadlock_on_the_command_line_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cycle.yaml"
    path.write_text(_cyclic([0.0]).model_dump_json(by_alias=True))
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "deadlock" in err[0]
    assert err[0].startswith(f"error: {path}: stations.s1.when_full: deadlock at 1.0 min")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- preemption
def test_a_higher_class_interrupts_and_the_lower_resumes_its_remainder() -> None:
    """lo (10 min) starts at 0; hi (2 min) arrives at 3 and takes the server until 5; lo
    resumes for its remaining 7 min and ends at 12 (resume, not repeat)."""
    scen = scenario(
        {
            "s1": {
                "discipline": "priority",
                "priority": {"by": "cargo", "order": ["hi", "lo"], "preempt": True},
                "service": det(10.0),
                "service_when": [{"when": {"cargo": "hi"}, "service": det(2.0)}],
            }
        },
        {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
        {"lo": trace_stream([0.0], cargo="lo"), "hi": trace_stream([3.0], cargo="hi")},
    )
    result = simulate(scen)
    rows = [(arrive, start, end) for _, _, arrive, start, end in timeline(result)]
    assert rows == [(0.0, 0.0, 3.0), (3.0, 3.0, 5.0), (3.0, 5.0, 12.0)]
    cleared = sorted(t["cleared_min"] for t in trucks_by_id(result).values())
    assert cleared == [5.0, 12.0]
    assert result.stations["s1"]["wait_mean_min"] == pytest.approx(1.0)  # lo waited 2, hi 0


def test_without_preempt_the_same_trucks_wait() -> None:
    scen = scenario(
        {
            "s1": {
                "discipline": "priority",
                "priority": {"by": "cargo", "order": ["hi", "lo"]},
                "service": det(10.0),
                "service_when": [{"when": {"cargo": "hi"}, "service": det(2.0)}],
            }
        },
        {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
        {"lo": trace_stream([0.0], cargo="lo"), "hi": trace_stream([3.0], cargo="hi")},
    )
    rows = [(arrive, start, end) for _, _, arrive, start, end in timeline(simulate(scen))]
    assert rows == [(0.0, 0.0, 10.0), (3.0, 10.0, 12.0)]


# --------------------------------------------------------------------------- conservation
station_specs = st.fixed_dictionaries(
    {
        "servers": st.integers(1, 2),
        "queue_capacity": st.integers(0, 2),
        "when_full": st.sampled_from(["lose", "block"]),
        "mean": st.floats(0.3, 2.0),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(station_specs, min_size=2, max_size=4),
    per_day=st.integers(200, 2500),
    skip=st.floats(0.0, 0.5),
    seed=st.integers(0, 2**16),
)
def test_nothing_is_lost_at_a_blocking_station(
    specs: list[dict[str, Any]], per_day: int, skip: float, seed: int
) -> None:
    """Random small tandems (some trucks skip the second station): the engine's conservation
    check passes (it raises otherwise), blocking stations turn nobody away, and with every
    station blocking nothing is lost."""
    stations = {
        f"s{i + 1}": {
            "servers": spec["servers"],
            "queue_capacity": spec["queue_capacity"],
            "when_full": spec["when_full"],
            "service": {"dist": "exponential", "mean": spec["mean"]},
        }
        for i, spec in enumerate(specs)
    }
    rest = [f"s{i + 1}" for i in range(2, len(specs))]
    steps: list[Any] = [
        "s1",
        {"choose": [{"p": skip, "steps": []}, {"p": 1.0 - skip, "steps": ["s2"]}]},
        *rest,
    ]
    scen = scenario(
        stations,
        {"r": {"origin": "src", "steps": steps, "destination": "out"}},
        {"a": {"lane": "L", "direction": "export", "cargo": "c", "route": "r", "per_day": per_day}},
        records=False,
        seed=seed,
    )
    result = simulate(scen)
    for name, spec in stations.items():
        if spec["when_full"] == "block":
            assert result.stations[name]["rejected"] == 0, name
    if all(spec["when_full"] == "block" for spec in specs):
        assert result.lost_by_stream.sum() == 0


# --------------------------------------------------------------------------- against Ciw
RATES = (0.5, 1.2, 1.0, 1.1)  # arrivals, then service rates of s1, s2, s3 (per minute)
PLACES = (1, 1)  # waiting places before s2 and s3
WARMUP, HORIZON = 1440.0, 10 * 1440.0
REPLICATIONS = 12
#: Per replication: mean sojourn (min), then the share of time s1's and s2's server is blocked.
Figures = tuple[float, float, float]


def _gatesim_figures() -> list[Figures]:
    lam, *mus = RATES
    stations: dict[str, Any] = {
        f"s{i + 1}": {"service": {"dist": "exponential", "mean": 1.0 / mu}}
        for i, mu in enumerate(mus)
    }
    for name, places in zip(("s2", "s3"), PLACES, strict=True):
        stations[name].update(queue_capacity=places, when_full="block")
    stream = {"lane": "L", "direction": "export", "cargo": "c", "route": "r"}
    scen = scenario(
        stations,
        {"r": {"origin": "src", "steps": ["s1", "s2", "s3"], "destination": "out"}},
        {"a": {**stream, "per_day": lam * 1440.0}},
        days=int(HORIZON // 1440),
        records=False,
        warmup_days=WARMUP / 1440.0,
    )
    figures = []
    for r in range(REPLICATIONS):
        result = simulate(scen, replication=r)
        blocked = [result.stations[n]["blocked_share"] for n in ("s1", "s2")]
        figures.append((float(np.mean(result.time_in_system_min)), *blocked))
    return figures


def _ciw_figures(ciw: Any) -> list[Figures]:
    lam, *mus = RATES
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(lam), None, None],
        service_distributions=[ciw.dists.Exponential(mu) for mu in mus],
        routing=[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]],
        number_of_servers=[1, 1, 1],
        queue_capacities=[float("inf"), *PLACES],
    )
    figures = []
    for r in range(REPLICATIONS):
        ciw.seed(1000 + r)
        sim = ciw.Simulation(network)
        sim.simulate_until_max_time(HORIZON)
        records = sim.get_all_records()
        firsts = {rec.id_number: rec for rec in records if rec.node == 1}
        sojourns = [
            rec.exit_date - firsts[rec.id_number].arrival_date
            for rec in records
            if rec.node == 3 and firsts[rec.id_number].arrival_date >= WARMUP
        ]
        blocked = [
            sum(
                max(0.0, min(rec.exit_date, HORIZON) - max(rec.service_end_date, WARMUP))
                for rec in records
                if rec.node == node
            )
            / (HORIZON - WARMUP)
            for node in (1, 2)
        ]
        figures.append((float(np.mean(sojourns)), *blocked))
    return figures


def test_a_three_station_line_with_small_buffers_agrees_with_ciw() -> None:
    """s1 → s2 (1 place, block) → s3 (1 place, block): the mean sojourn and the blocked shares
    of s1 and s2 differ from Ciw's by less than the Welch t-interval of both runs'
    replications (99.9 % each, three figures)."""
    ciw = pytest.importorskip("ciw", reason="Ciw is a dev extra (pip install -e .[dev])")
    ours, theirs = np.array(_gatesim_figures()), np.array(_ciw_figures(ciw))
    se = np.sqrt(ours.var(axis=0, ddof=1) / len(ours) + theirs.var(axis=0, ddof=1) / len(theirs))
    half = stats.t.ppf(1 - 0.001 / 2, len(ours) + len(theirs) - 2) * se
    gap = ours.mean(axis=0) - theirs.mean(axis=0)
    assert np.all(np.abs(gap) <= half), f"gatesim {ours.mean(axis=0)} Ciw {theirs.mean(axis=0)}"
    # the comparison has power: both servers are blocked far more than the intervals allow
    assert np.all(theirs.mean(axis=0)[1:] > 5 * half[1:])
