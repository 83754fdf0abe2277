"""Smart-gate station types: AGV crossing, auto-gates, risk-based scanning, overflow, caps, costs.

Exact timelines use deterministic times; random behaviour is checked against binomial
expectations with tolerances of several standard deviations (fixed seeds).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from gatesim import Scenario, ScenarioError, load_scenario, simulate
from gatesim.model.loading import validate_raw
from gatesim.model.network import build_network
from gatesim.scenario.loader import load_raw

DET4 = {"dist": "deterministic", "value": 4.0}


def build(
    stations: dict[str, Any],
    routes: dict[str, Any],
    arrivals: dict[str, Any],
    nodes: dict[str, Any] | None = None,
    **fields: Any,
) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "t",
            "days": fields.pop("days", 1),
            "nodes": nodes or {"src": {"kind": "source"}, "out": {"kind": "sink"}},
            "stations": stations,
            "routes": routes,
            "arrivals": arrivals,
            "records": {"trucks": True, "visits": True},
            **fields,
        }
    )


def cleared_times(result: Any) -> dict[int, float]:
    return {row[0]: row[7] for row in result.trucks if row[8] == "cleared"}


# --------------------------------------------------------------------------- AGV crossing
def agv_scenario(exports: list[float], imports: list[float], **params: Any) -> Scenario:
    agv_params = {
        "lane_km": 2.4,
        "speed_kmh": 20,
        "cranes_per_side": 1,
        "lift_time": DET4,
        "home": "VN",
        **params,
    }
    return build(
        {"agv": {"type": "agv_crossing", "servers": 1, "params": agv_params}},
        {
            "e": {"origin": "vn", "steps": ["agv"], "destination": "cn"},
            "i": {"origin": "cn_in", "steps": ["agv"], "destination": "vn_out"},
        },
        {
            "x": {
                "lane": "L",
                "direction": "export",
                "cargo": "c",
                "route": "e",
                "trace": {"times": exports},
            },
            "m": {
                "lane": "L",
                "direction": "import",
                "cargo": "c",
                "route": "i",
                "trace": {"times": imports},
            },
        },
        nodes={
            "vn": {"kind": "source"},
            "cn": {"kind": "sink"},
            "cn_in": {"kind": "source"},
            "vn_out": {"kind": "sink"},
        },
    )


def test_one_agv_reproduces_the_hand_computed_cycle() -> None:
    # trip = 2.4 km / 20 km/h = 7.2 min; lift on and off 4 min each.
    # export 0 (VN): lift 0-4, drive 4-11.2, lift 11.2-15.2 -> cleared 15.2, AGV at CN.
    # import 5 waits at CN -> backhaul: 15.2-19.2 lift, -26.4 drive, -30.4 lift -> cleared 30.4.
    # export 20 waits at VN -> 30.4-34.4, -41.6, -45.6; then the AGV returns empty (idle=return).
    result = simulate(agv_scenario([0.0, 20.0], [5.0]))
    times = cleared_times(result)
    assert times == pytest.approx({0: 15.2, 1: 30.4, 2: 45.6})
    stats = result.stations["agv"]
    assert stats["loaded_trips_per_day"] == 3.0
    assert stats["backhaul_trips_per_day"] == 2.0
    assert stats["empty_trip_share"] == pytest.approx(0.25)
    assert stats["wait_mean_min"] == pytest.approx((0 + 10.2 + 10.4) / 3)


def test_agv_without_backhaul_returns_empty_before_loading() -> None:
    # export 0 cleared 15.2; the AGV may not load at CN, drives back empty 15.2-22.4, then
    # returns empty to CN for the import (22.4-29.6), loads 29.6-33.6, drives -40.8, lifts -44.8.
    result = simulate(agv_scenario([0.0], [5.0], backhaul=False))
    assert cleared_times(result) == pytest.approx({0: 15.2, 1: 44.8})


def with_agv_hours(scenario: Scenario, opens: str, closes: str) -> Scenario:
    """The scenario with the AGV crossing open only from ``opens`` to ``closes`` each day."""
    spec = scenario.model_dump(by_alias=True)
    spec["calendars"] = {"agv_hours": {"hours": [[opens, closes]]}}
    spec["stations"]["agv"]["calendar"] = "agv_hours"
    return Scenario.model_validate(spec)


def test_agv_waits_for_operating_hours() -> None:
    result = simulate(with_agv_hours(agv_scenario([0.0], [1400.0]), "01:00", "24:00"))
    assert cleared_times(result)[0] == pytest.approx(75.2)  # first trip starts at 01:00


# --------------------------------------------------------------------------- auto-gates
def auto_gate_run(read_success: float, n: int = 200) -> dict[str, float]:
    scenario = build(
        {
            "g": {
                "type": "auto_gate",
                "servers": 1,
                "service": {"dist": "deterministic", "value": 0.5},
                "params": {
                    "read_success": read_success,
                    "manual_booths": 1,
                    "manual_service": {"dist": "deterministic", "value": 2.0},
                },
            }
        },
        {"r": {"origin": "src", "steps": ["g"], "destination": "out"}},
        {
            "a": {
                "lane": "L",
                "direction": "export",
                "cargo": "c",
                "route": "r",
                "trace": {"times": [0.7 * i for i in range(n)]},
            }
        },
    )
    return simulate(scenario).stations["g"]


def test_auto_gate_with_perfect_reads_never_uses_the_booth() -> None:
    stats = auto_gate_run(1.0)
    assert stats["manual_arrived"] == 0.0
    assert stats["served"] == 200.0


def test_auto_gate_with_failed_reads_sends_everyone_to_the_booth() -> None:
    stats = auto_gate_run(0.0)
    assert stats["manual_arrived"] == 200.0
    assert stats["served"] == 0.0
    assert stats["read_failures"] == 200.0


def test_auto_gate_failures_are_binomial() -> None:
    n, p = 2000, 0.9
    stats = auto_gate_run(p, n)
    sd = math.sqrt(n * p * (1 - p))
    assert abs(stats["manual_arrived"] - n * (1 - p)) < 4 * sd


# --------------------------------------------------------------------------- risk scanning
def test_risk_scanner_counts_match_binomial_expectations() -> None:
    n, bad, detect, false = 20000, 0.05, 0.8, 0.02
    scenario = build(
        {
            "scan": {
                "type": "risk_scanner",
                "servers": 50,
                "service": {"dist": "deterministic", "value": 0.1},
                "params": {
                    "noncompliance_rate": bad,
                    "detection_rate": detect,
                    "false_alarm_rate": false,
                },
            },
            "phys": {"servers": 50},
        },
        {
            "r": {
                "origin": "src",
                "steps": [
                    "scan",
                    {"branch": "scan_alarm", "cases": {"yes": ["phys"]}, "default": []},
                ],
                "destination": "out",
            }
        },
        {
            "a": {
                "lane": "L",
                "direction": "export",
                "cargo": "c",
                "route": "r",
                "trace": {"times": [0.05 * i for i in range(n)]},
            }
        },
    )
    stats = simulate(scenario).stations
    scan = stats["scan"]
    expected = {
        "noncompliant": n * bad,
        "detections": n * bad * detect,
        "false_alarms": n * (1 - bad) * false,
    }
    for key, mean in expected.items():
        p = mean / n
        assert abs(scan[key] - mean) < 4.5 * math.sqrt(n * p * (1 - p)), key
    assert scan["misses"] == scan["noncompliant"] - scan["detections"]
    assert stats["phys"]["arrived"] == scan["alarms"]  # inspection only on alarm


def test_branch_on_a_station_outcome_needs_a_default() -> None:
    scenario = build(
        {"scan": {"type": "risk_scanner"}, "phys": {}},
        {
            "r": {
                "origin": "src",
                "steps": ["scan", {"branch": "scan_alarm", "cases": {"yes": ["phys"], "no": []}}],
                "destination": "out",
            }
        },
        {"a": {"lane": "L", "direction": "export", "cargo": "c", "route": "r", "per_day": 10}},
    )
    with pytest.raises(ScenarioError, match="needs a default"):
        build_network(scenario, {"scan_alarm": {"yes", "no"}})


# --------------------------------------------------------------------------- overflow and caps
def test_overflow_sends_trucks_to_the_other_lane_above_the_threshold() -> None:
    # smart: one server, 10 min each; 5 trucks at t=0 -> the first starts, the next 2 wait,
    # then the queue holds 2 > 1 so trucks 4 and 5 overflow to the conventional lane.
    scenario = build(
        {
            "smart": {"service": {"dist": "deterministic", "value": 10.0}},
            "conv": {"servers": 5, "service": {"dist": "deterministic", "value": 1.0}},
        },
        {
            "r": {
                "origin": "src",
                "steps": [
                    {
                        "if_queue_above": {"station": "smart", "waiting": 1},
                        "then": ["conv"],
                        "else": ["smart"],
                    }
                ],
                "destination": "out",
            }
        },
        {
            "a": {
                "lane": "L",
                "direction": "export",
                "cargo": "c",
                "route": "r",
                "trace": {"times": [0.0] * 5},
            }
        },
    )
    result = simulate(scenario)
    assert result.stations["smart"]["arrived"] == 3.0
    assert result.stations["conv"]["arrived"] == 2.0
    assert sorted(cleared_times(result).values()) == pytest.approx([1, 1, 10, 20, 30])


def test_daily_cap_releases_at_most_the_cap_per_day() -> None:
    scenario = build(
        {"cap": {"type": "daily_cap", "servers": 10, "params": {"per_day": 3, "to_day": 2}}},
        {"r": {"origin": "src", "steps": ["cap"], "destination": "out"}},
        {
            "a": {
                "lane": "L",
                "direction": "export",
                "cargo": "c",
                "route": "r",
                "trace": {"times": [0.0] * 8},
            }
        },
        days=4,
    )
    result = simulate(scenario)
    # days 0 and 1 are capped at 3; the remaining 2 go at the start of day 2
    assert sorted(cleared_times(result).values()) == [0, 0, 0, 1440, 1440, 1440, 2880, 2880]


# --------------------------------------------------------------------------- costs
def test_cost_kpis_follow_from_queued_hours_and_transshipments() -> None:
    from gatesim.stats.kpis import replication_kpis

    # one transshipment bay, 60 min each, 3 trucks at t=0: waits 0, 60, 120 min = 3 truck-hours
    scenario = build(
        {"yard": {"type": "transshipment", "service": {"dist": "deterministic", "value": 60.0}}},
        {"r": {"origin": "src", "steps": ["yard"], "destination": "out"}},
        {
            "a": {
                "lane": "L",
                "direction": "export",
                "cargo": "c",
                "route": "r",
                "trace": {"times": [0.0, 0.0, 0.0]},
            }
        },
        costs={
            "idle_fuel_l_per_truck_h": 2.0,
            "co2_kg_per_l": 2.5,
            "transshipment_cny_per_truck": 900,
        },
    )
    kpis = replication_kpis(simulate(scenario))
    assert kpis["truck_hours_queued_per_day"] == pytest.approx(3.0)
    assert kpis["idle_fuel_l_per_day"] == pytest.approx(6.0)
    assert kpis["co2_t_per_day"] == pytest.approx(0.015)
    assert kpis["transshipment_cny_per_day"] == pytest.approx(2700.0)


# --------------------------------------------------------------------------- scenario files
def test_truck_attributes_do_not_change_arrival_times_or_channels() -> None:
    base = load_scenario(
        "scenarios/baseline.yaml", {"days": 2, "warmup_days": 0, "replications": 1}
    )
    two_way = load_scenario(
        "scenarios/s6_backhaul.yaml", {"days": 2, "warmup_days": 0, "replications": 1}
    )
    a, b = simulate(base), simulate(two_way)

    def arrivals(result: Any) -> list[tuple[Any, ...]]:  # (stream, channel, created) by truck
        return sorted((row[0], row[1], row[5], row[6]) for row in result.trucks)

    assert arrivals(a) == arrivals(b)
    assert a.arrived_by_stream.sum() > 100


def test_yes_and_no_stay_strings_in_scenario_files(tmp_path: Any) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: yn\nnodes: {src: {kind: source}, out: {kind: sink}}\nstations: {s: {}}\n"
        "routes: {r: {origin: src, steps: [{branch: pre, cases: {yes: [s], no: []}}],"
        " destination: out}}\n"
        "arrivals: {a: {lane: L, direction: export, cargo: c, route: r, per_day: 5,"
        " attributes: {pre: {yes: 0.5, no: 0.5}}}}\n"
    )
    scenario = validate_raw(load_raw(path), path)
    assert scenario.arrivals["a"].attributes["pre"] == {"yes": 0.5, "no": 0.5}


def test_agv_trips_past_closing_count_as_overtime_not_utilisation() -> None:
    # Open 00:00-00:10 only. The export's trip runs 0-15.2 (lift on 0-4 at VN, drive 4-11.2,
    # lift off 11.2-15.2 at CN): 10 busy minutes in hours and 5.2 after closing; the AGV then
    # waits for the next opening (after the horizon) and the 23:50 import waits with it.
    result = simulate(with_agv_hours(agv_scenario([0.0], [1430.0]), "00:00", "00:10"))
    assert cleared_times(result) == pytest.approx({0: 15.2})
    stats = result.stations["agv"]
    assert stats["utilization"] == pytest.approx(10.0 / 10.0)  # in-hours busy / open minutes
    assert stats["overtime_hours"] == pytest.approx(5.2 / 60.0)
    assert stats["busy_mean"] == pytest.approx(15.2 / 1440.0)  # all busy time, day long
    assert stats["crane_utilization_VN"] == pytest.approx(4.0 / 10.0)
    assert stats["crane_utilization_CN"] == pytest.approx(0.0)  # its lift is all after 00:10
