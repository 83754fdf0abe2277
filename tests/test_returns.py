"""Empty returns, the Vietnamese-side backlog and the Chinese acceptance cap.

Exact timelines are worked out by hand in the comments (abstract network: no travel time);
the properties run random small scenarios through the engine (hypothesis).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from builders import assert_results_identical, det, scenario, timeline, trace_stream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatesim.core.errors import ScenarioError
from gatesim.experiment.parts import independent_parts, merge_parts, simulate_part
from gatesim.model.engine import simulate
from gatesim.model.loading import load_scenario
from gatesim.model.returns import EMPTY_AT_REPORT, EMPTY_COUNTS
from gatesim.stations.registry import validate_station_specs
from gatesim.stats.kpis import replication_kpis

#: src (VN) -> s_vn (VN) -> s_cn (CN) -> out (CN); empties: yard (CN) -> exit (CN) -> entry
#: (VN) -> home (VN).
NODES = {
    "src": {"kind": "source", "side": "VN"},
    "out": {"kind": "sink", "side": "CN"},
    "yard": {"kind": "source", "side": "CN"},
    "home": {"kind": "sink", "side": "VN"},
}
STATIONS = {
    "s_vn": {"side": "VN", "service": det(10)},
    "s_cn": {"side": "CN", "service": det(5)},
    "exit": {"side": "CN", "service": det(2)},
    "entry": {"side": "VN", "service": det(3)},
}
ROUTES = {
    "r": {"origin": "src", "steps": ["s_vn", "s_cn"], "destination": "out"},
    "back": {"origin": "yard", "steps": ["exit", "entry"], "destination": "home"},
}


def two_trucks(report: str = "00:18", **returns: Any) -> Any:
    spec = {"route": "back", "dwell": det(100), **returns}
    return scenario(
        STATIONS,
        ROUTES,
        {"a": trace_stream([0, 1], returns=spec)},
        nodes=NODES,
        report_time=report,
    )


def counts(result: Any) -> dict[str, int]:
    return {name: int(result.empty_by_stream[0, i]) for i, name in enumerate(EMPTY_COUNTS)}


def test_each_delivery_returns_one_empty_after_its_dwell() -> None:
    # truck 0: s_vn 0 -> 10, s_cn 10 -> 15, delivered at 15; its empty (id -1) parks 100 min,
    #   exit 115 -> 117, entry 117 -> 120, home at 120 (105 min after the delivery)
    # truck 1: arrives 1, waits for truck 0 at s_vn: 10 -> 20, s_cn 20 -> 25, delivered 25;
    #   empty -2: parked to 125, exit 125 -> 127, entry 127 -> 130, home at 130 (105 min)
    result = simulate(two_trucks())
    assert timeline(result) == [
        (0, "s_vn", 0.0, 0.0, 10.0),
        (0, "s_cn", 10.0, 10.0, 15.0),
        (1, "s_vn", 1.0, 10.0, 20.0),
        (1, "s_cn", 20.0, 20.0, 25.0),
        (-1, "exit", 115.0, 115.0, 117.0),
        (-1, "entry", 117.0, 117.0, 120.0),
        (-2, "exit", 125.0, 125.0, 127.0),
        (-2, "entry", 127.0, 127.0, 130.0),
    ]
    assert result.conservation() == {"arrived": 2, "cleared": 2, "lost": 0, "in_system": 0}
    assert counts(result) == {
        "created": 2,
        "cleared": 2,
        "lost": 0,
        "in_system": 0,
        "forced_out": 0,
        "cleared_measured": 2,
        "timed": 2,
        "paired": 0,
        "carried_home": 0,
        "avoided_measured": 0,
    }
    assert result.empty_tis_sum_min.tolist() == [210.0]
    kpis = replication_kpis(result)
    assert kpis["throughput_per_day"] == 2.0  # loaded trucks only
    assert kpis["empties_per_day"] == 2.0
    assert kpis["empty_time_in_system_mean_h"] == 105.0 / 60
    assert sorted(result.time_in_system_min.tolist()) == [15.0, 24.0]  # loads: 15, 25 - 1
    assert result.trucks is not None and [row[0] for row in result.trucks] == [0, 1]


def test_exit_rule_cuts_the_dwell() -> None:
    # max stay 1 h: the 100 min dwell is cut to 60: empty -1 leaves at 75, home at 80;
    # empty -2 leaves at 85, home at 90
    result = simulate(two_trucks(max_stay_h=1))
    assert timeline(result, "entry") == [
        (-1, "entry", 77.0, 77.0, 80.0),
        (-2, "entry", 87.0, 87.0, 90.0),
    ]
    assert counts(result)["forced_out"] == 2
    assert replication_kpis(result)["empties_forced_out_share"] == 1.0


@pytest.mark.parametrize(
    ("report", "backlog", "vn_side", "empties"),
    [
        # 00:05: truck 0 in service at s_vn, truck 1 waiting there: both in Vietnam
        ("00:05", 2, 2, (0, 0, 0)),
        # 00:12: truck 0 at s_cn (China), truck 1 at s_vn
        ("00:12", 2, 1, (0, 0, 0)),
        # 00:18: truck 0 delivered at 15, its empty parked in China; truck 1 at s_vn
        ("00:18", 1, 1, (1, 0, 1)),
        # 01:58: both delivered; empty -1 at entry (VN side), empty -2 parked in China
        ("01:58", 0, 0, (2, 1, 1)),
    ],
)
def test_vn_side_backlog_and_empties_at_report_time(
    report: str, backlog: int, vn_side: int, empties: tuple[int, int, int]
) -> None:
    result = simulate(two_trucks(report))
    assert int(result.backlog_at_report[0].sum()) == backlog
    assert int(result.vn_side_at_report[0].sum()) == vn_side
    assert tuple(int(x) for x in result.empty_at_report[0, 0]) == empties
    assert EMPTY_AT_REPORT == ("in_system", "on_vn_side", "parked")
    kpis = replication_kpis(result)
    assert kpis["vn_side_backlog_at_report_mean"] == vn_side
    # exports away from Vietnam: loaded in China plus empties not yet back
    assert kpis["away_at_report_mean"] == (backlog - vn_side) + (empties[0] - empties[1])


def test_unknown_return_route_is_one_clear_error(tmp_path: Path) -> None:
    text = """\
name: t
days: 1
nodes: {src: {kind: source}, out: {kind: sink}}
stations: {s1: {service: {dist: deterministic, value: 1}}}
routes: {r: {origin: src, steps: [s1], destination: out}}
arrivals: {a: {lane: L, direction: export, cargo: c, route: r, per_day: 5,
               returns: {route: bakc, dwell: {dist: deterministic, value: 1}}}}
"""
    with pytest.raises(ScenarioError, match=r"arrivals\.a\.returns\.route: unknown route 'bakc'"):
        path = tmp_path / "s.yaml"
        path.write_text(text, encoding="utf-8")
        load_scenario(path)


# --------------------------------------------------------------------------- lanes as parts
def _two_lanes(seed: int) -> Any:
    stations: dict[str, Any] = {}
    routes: dict[str, Any] = {}
    arrivals: dict[str, Any] = {}
    for lane in ("A", "B"):
        for name, spec in STATIONS.items():
            service = {"dist": "exponential", "mean": spec["service"]["value"] * 3}
            stations[f"{lane}_{name}"] = {**spec, "service": service}
        routes[f"{lane}_r"] = {
            "origin": "src",
            "steps": [f"{lane}_s_vn", f"{lane}_s_cn"],
            "destination": "out",
        }
        routes[f"{lane}_back"] = {
            "origin": "yard",
            "steps": [f"{lane}_exit", f"{lane}_entry"],
            "destination": "home",
        }
        arrivals[lane] = {
            "lane": lane,
            "direction": "export",
            "cargo": "c",
            "route": f"{lane}_r",
            "per_day": 60,
            "returns": {"route": f"{lane}_back", "dwell": {"dist": "exponential", "mean": 300}},
        }
    return scenario(stations, routes, arrivals, nodes=NODES, days=3, seed=seed)


def test_returns_stay_in_their_lane_when_lanes_run_as_parts() -> None:
    s = _two_lanes(7)
    parts = independent_parts(s)
    assert [set(p.stations) for p in parts] == [
        {f"A_{n}" for n in STATIONS},
        {f"B_{n}" for n in STATIONS},
    ]
    single = simulate(s)  # one environment
    merged = merge_parts(s, [simulate_part(s, 0, i) for i in range(len(parts))])
    assert_results_identical(single, merged)
    assert int(single.empty_by_stream[:, 0].sum()) > 100  # the test exercises returns


# --------------------------------------------------------------------------- properties
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    times=st.lists(st.floats(0, 2000, allow_nan=False), min_size=1, max_size=40),
    services=st.lists(st.floats(0.5, 120, allow_nan=False), min_size=4, max_size=4),
    dwell=st.floats(0, 1500, allow_nan=False),
    max_stay_h=st.one_of(st.none(), st.floats(0.1, 30)),
    capacity=st.one_of(st.none(), st.integers(0, 3)),
)
def test_empties_conserved_apart_from_loads(
    times: list[float],
    services: list[float],
    dwell: float,
    max_stay_h: float | None,
    capacity: int | None,
) -> None:
    stations = {
        name: {**spec, "service": det(service), "queue_capacity": capacity}
        for (name, spec), service in zip(STATIONS.items(), services, strict=True)
    }
    returns = {"route": "back", "dwell": det(dwell), "max_stay_h": max_stay_h}
    s = scenario(
        stations, ROUTES, {"a": trace_stream(sorted(times), returns=returns)}, nodes=NODES, days=2
    )
    result = simulate(s)  # the engine's own conservation checks run at the end
    c = counts(result)
    # one empty per delivery, no more, no fewer; never counted as a cleared load
    assert c["created"] == int(result.cleared_by_stream.sum())
    assert c["created"] == c["cleared"] + c["lost"] + c["in_system"]
    assert result.conservation()["arrived"] == len(times)
    loads = result.conservation()
    assert loads["arrived"] == loads["cleared"] + loads["lost"] + loads["in_system"]
    starts = Counter(v[1] for v in (result.visits or []) if v[0] < 0)
    assert set(starts) <= {"exit", "entry"}  # empties only on the return route
    assert all(v[0] >= 0 for v in (result.visits or []) if v[1] in ("s_vn", "s_cn"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["daily_cap", "acceptance"]),
    per_day=st.integers(0, 30),
    demand=st.integers(1, 120),
    servers=st.integers(1, 5),
    to_day=st.one_of(st.none(), st.integers(1, 4)),
)
def test_acceptance_cap_never_exceeded_on_any_day(
    kind: str, per_day: int, demand: int, servers: int, to_day: int | None
) -> None:
    params: dict[str, Any] = {"per_day": per_day}
    if to_day is not None and kind == "daily_cap":
        params["to_day"] = to_day
    else:
        to_day = None
    s = scenario(
        {"cap": {"type": kind, "servers": servers, "service": det(7), "params": params}},
        {"r": {"origin": "src", "steps": ["cap"], "destination": "out"}},
        {"a": {**trace_stream([]), "trace": None, "per_day": demand}},
        days=4,
        seed=demand,
    )
    result = simulate(s)
    assert result.visits is not None
    by_day = Counter(int(v[3] // 1440) for v in result.visits)
    limit = to_day if to_day is not None else 4
    assert all(by_day[day] <= per_day for day in range(limit))
    # nothing is lost: what the cap holds back waits (the cap delays, it never turns away)
    assert result.conservation()["lost"] == 0


# --------------------------------------------------------------------------- the far-side yard
def test_yard_slot_held_until_the_empty_leaves_the_far_side() -> None:
    # one slot; acceptance 1 min, s_cn 5, dwell 100, exit 2, entry 3 (abstract network)
    # truck 0: acc 0 -> 1 (takes the slot), s_cn 1 -> 6, delivered 6; empty -1 parked to 106,
    #   exit 106 -> 108, then heads for entry (Vietnam): the slot is free at 108
    # truck 1: arrives 1, waits at acc for the slot: 108 -> 109, s_cn 109 -> 114, delivered
    #   114; empty -2 parked to 214, exit 214 -> 216 (slot free), entry 216 -> 219
    stations = {
        "acc": {
            "type": "acceptance",
            "side": "VN",
            "run_by": "CN",
            "service": det(1),
            "params": {"slots": 1},
        },
        **{k: v for k, v in STATIONS.items() if k != "s_vn"},
    }
    routes = {**ROUTES, "r": {"origin": "src", "steps": ["acc", "s_cn"], "destination": "out"}}
    returns = {"route": "back", "dwell": det(100)}
    s = scenario(stations, routes, {"a": trace_stream([0, 1], returns=returns)}, nodes=NODES)
    result = simulate(s)
    assert timeline(result, "acc") == [(0, "acc", 0.0, 0.0, 1.0), (1, "acc", 1.0, 108.0, 109.0)]
    assert timeline(result, "entry") == [
        (-1, "entry", 108.0, 108.0, 111.0),
        (-2, "entry", 216.0, 216.0, 219.0),
    ]
    st = result.stations["acc"]
    assert st["wait_max_min"] == 107.0
    # full from 0 to 108 and from 108 to 216
    assert st["yard_full_hours"] == 216.0 / 60.0
    assert st["slots_occupied_end"] == 0.0


def test_acceptance_needs_a_limit() -> None:
    s = scenario(
        {"acc": {"type": "acceptance", "params": {}}},
        {"r": {"origin": "src", "steps": ["acc"], "destination": "out"}},
        {"a": trace_stream([0])},
    )
    with pytest.raises(ScenarioError, match=r"stations\.acc\.params: give per_day, slots or both"):
        validate_station_specs(s)


# --------------------------------------------------------------------------- backhaul (two-way)
def backhaul(load_times: list[float]) -> Any:
    """Export truck 0 (stream a) delivers at 15 and waits up to 1 h for a load of stream b
    (CN -> VN over exit and entry, 2 + 3 min)."""
    returns = {
        "route": "back",
        "dwell": det(100),
        "backhaul": {"loads": "b", "when": {"two_way": "yes"}, "max_stay_h": 1},
    }
    two_way = {"two_way": {"yes": 1.0}}
    arrivals = {
        "a": trace_stream([0], returns=returns, attributes=two_way),
        "b": trace_stream(load_times, route="back", direction="import", attributes=two_way),
    }
    return scenario(STATIONS, ROUTES, arrivals, nodes=NODES)


def test_a_waiting_truck_carries_the_first_load_home() -> None:
    # truck 0: s_vn 0 -> 10, s_cn 10 -> 15, delivered 15, waits (to 75 at most)
    # truck 1 (load, b) arrives 30: truck 0 carries it: exit 30 -> 32, entry 32 -> 35, home
    # truck 2 (load, b) arrives 200: nobody waits: an ordinary load
    result = simulate(backhaul([30, 200]))
    assert [v for v in timeline(result) if v[0] < 0] == []  # no empty trip at all
    assert timeline(result, "entry") == [
        (1, "entry", 32.0, 32.0, 35.0),
        (2, "entry", 202, 202, 205),
    ]
    a, b = (dict(zip(EMPTY_COUNTS, map(int, row), strict=True)) for row in result.empty_by_stream)
    assert (a["created"], a["paired"], a["in_system"], a["forced_out"]) == (1, 1, 0, 0)
    assert (b["created"], b["carried_home"]) == (0, 1)
    assert a["avoided_measured"] + b["avoided_measured"] == 2
    assert result.conservation() == {"arrived": 3, "cleared": 3, "lost": 0, "in_system": 0}
    assert replication_kpis(result)["empties_avoided_per_day"] == 2.0


def test_without_a_load_in_time_the_truck_returns_empty() -> None:
    # truck 0 delivered at 15 waits 1 h: leaves empty at 75, exit 75 -> 77, entry 77 -> 80;
    # the load arriving at 100 finds nobody waiting
    result = simulate(backhaul([100]))
    assert timeline(result, "entry") == [
        (-1, "entry", 77.0, 77.0, 80.0),
        (1, "entry", 102.0, 102.0, 105.0),
    ]
    a = dict(zip(EMPTY_COUNTS, map(int, result.empty_by_stream[0]), strict=True))
    assert (a["created"], a["paired"], a["cleared"], a["forced_out"]) == (1, 0, 1, 1)
    assert replication_kpis(result)["empties_avoided_per_day"] == 0.0


def test_without_returns_the_slot_is_free_at_delivery() -> None:
    # one slot, no returns: truck 0 acc 0 -> 1, s_cn 1 -> 6, delivered at 6 (slot free);
    # truck 1 (arrives 1) acc 6 -> 7
    stations = {
        "acc": {"type": "acceptance", "service": det(1), "params": {"slots": 1}},
        "s_cn": STATIONS["s_cn"],
    }
    routes = {"r": {"origin": "src", "steps": ["acc", "s_cn"], "destination": "out"}}
    result = simulate(scenario(stations, routes, {"a": trace_stream([0, 1])}, nodes=NODES))
    assert timeline(result, "acc") == [(0, "acc", 0.0, 0.0, 1.0), (1, "acc", 1.0, 6.0, 7.0)]
    assert result.stations["acc"]["slots_occupied_end"] == 0.0
