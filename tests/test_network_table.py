"""The network-and-flows table a run writes (network_nodes.csv, network_edges.csv): the model's
expected flows on the scenario's own roads, and the layout hints the report's figure reads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from builders import scenario

from gatesim.model.flows import expected_visits
from gatesim.model.network_table import EDGE_COLUMNS, NODE_COLUMNS, network_tables, stream_moves
from gatesim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
EXP = {"dist": "exponential", "mean": 2.0}


def roads_scenario() -> Scenario:
    """Exports from VN through a gate and a choice of two scanners (one never chosen) across
    a two-way border road to a CN check; imports the other way through one station."""
    nodes = {
        "src": {"kind": "source", "side": "VN"},
        "vn": {"kind": "junction", "side": "VN"},
        "cn": {"kind": "junction", "side": "CN"},
        "out": {"kind": "sink", "side": "CN"},
        "isrc": {"kind": "source", "side": "CN"},
        "iout": {"kind": "sink", "side": "VN"},
    }
    stations: dict[str, Any] = {
        "gate": {"side": "VN", "service": EXP},
        "scan": {"side": "VN", "type": "xray_scanner", "servers": 2, "service": EXP},
        "spare": {"side": "VN", "service": EXP},
        "check": {"side": "CN", "service": EXP},
        "imp": {"side": "CN", "service": EXP},
    }
    roads = {
        "in": {"from": "src", "to": "gate", "length_km": 1, "speed_kmh": 30},
        "g": {"from": "gate", "to": "vn", "length_km": 0.1, "speed_kmh": 10},
        "s": {"from": "vn", "to": "scan", "length_km": 0.1, "speed_kmh": 10, "two_way": True},
        "p": {"from": "vn", "to": "spare", "length_km": 0.1, "speed_kmh": 10, "two_way": True},
        "zero": {"from": "vn", "to": "cn", "length_km": 0.5, "speed_kmh": 10, "two_way": True},
        "c": {"from": "cn", "to": "check", "length_km": 0.1, "speed_kmh": 10, "two_way": True},
        "rel": {"from": "check", "to": "out", "length_km": 1, "speed_kmh": 30},
        "iin": {"from": "isrc", "to": "imp", "length_km": 1, "speed_kmh": 30},
        "ic": {"from": "imp", "to": "cn", "length_km": 0.1, "speed_kmh": 10},
        "irel": {"from": "vn", "to": "iout", "length_km": 1, "speed_kmh": 30},
    }
    choose = {"choose": [{"p": 1.0, "steps": ["scan"]}, {"p": 0.0, "steps": ["spare"]}]}
    routes = {
        "ex": {"origin": "src", "steps": ["gate", choose, "check"], "destination": "out"},
        "im": {"origin": "isrc", "steps": ["imp"], "destination": "iout"},
    }
    arrivals = {
        "e": {"lane": "L1", "direction": "export", "cargo": "c", "route": "ex", "per_day": 240},
        "i": {"lane": "L1", "direction": "import", "cargo": "c", "route": "im", "per_day": 96},
    }
    return scenario(stations, routes, arrivals, days=3, nodes=nodes, roads=roads)


def test_nodes_follow_the_scenario_with_its_station_types_and_sides() -> None:
    s = roads_scenario()
    nodes = network_tables(s).nodes.set_index("node")
    assert list(nodes.index) == [*s.nodes, *s.stations]
    assert nodes.at["scan", "type"] == "xray_scanner" and nodes.at["scan", "servers"] == 2
    assert nodes.at["vn", "kind"] == "junction" and nodes.at["imp", "side"] == "CN"
    assert set(nodes["lane"]) == {"L1"}


def test_station_flows_are_the_models_expected_visits_per_day() -> None:
    s = roads_scenario()
    nodes = network_tables(s).nodes.set_index("node")
    visits = expected_visits(s, tuple(s.arrivals)).visits
    for station in ("gate", "scan", "check", "imp"):
        assert nodes.at[station, "trucks_per_day"] == pytest.approx(visits[station] / s.days)
    assert nodes.at["scan", "trucks_per_day"] == pytest.approx(240)
    assert nodes.at["spare", "trucks_per_day"] == 0  # the option chosen with p = 0
    assert nodes.at["src", "trucks_per_day"] == pytest.approx(240)
    assert nodes.at["iout", "trucks_per_day"] == pytest.approx(96)


def test_roads_carry_the_moves_along_the_fastest_way_each_direction_apart() -> None:
    edges = network_tables(roads_scenario()).edges
    flow = {(a, b): f for a, b, f in edges[["from", "to", "trucks_per_day"]].itertuples(False)}
    assert len(edges) == 10 + 4  # four two-way roads drive both ways
    assert set(edges["kind"]) == {"road"}
    assert flow["vn", "cn"] == pytest.approx(240)  # every export crosses once
    assert flow["cn", "vn"] == pytest.approx(96)  # every import crosses back
    assert flow["vn", "scan"] == pytest.approx(240) and flow["scan", "vn"] == pytest.approx(240)
    assert flow["vn", "spare"] == 0  # roads no truck is expected on are kept, with 0
    zero = edges[edges["road"] == "zero"].iloc[0]
    assert zero["length_km"] == 0.5 and zero["minutes"] == pytest.approx(3.0)


def test_layout_hints_count_paths_from_the_border_crossing() -> None:
    nodes = network_tables(roads_scenario()).nodes.set_index("node")
    # exports: src gate scan | check out ; the first place across the line is 1 on each side
    assert nodes.at["scan", "border_distance"] == 1 and nodes.at["gate", "border_distance"] == 2
    assert nodes.at["src", "border_distance"] == 3 and nodes.at["check", "border_distance"] == 1
    assert nodes.at["scan", "export_share"] == 1.0 and nodes.at["imp", "export_share"] == 0.0
    assert nodes["border_distance"].isna().tolist() == nodes["export_share"].isna().tolist()
    assert nodes["border_distance"].isna()["spare"]  # no truck is expected there


def test_a_network_without_roads_lists_the_route_moves() -> None:
    stations = {n: {"service": EXP} for n in ("a", "b", "c")}
    maybe_b = {"choose": [{"p": 0.25, "steps": ["b"]}, {"p": 0.75, "steps": []}]}
    route = {"origin": "src", "steps": ["a", maybe_b, "c"], "destination": "out"}
    arrival = {"lane": "L", "direction": "export", "cargo": "x", "route": "r", "per_day": 100}
    arrivals = {"s": arrival}
    s = scenario(stations, {"r": route}, arrivals, days=2)
    edges = network_tables(s).edges
    flow = {(a, b): f for a, b, f in edges[["from", "to", "trucks_per_day"]].itertuples(False)}
    assert set(edges["kind"]) == {"move"}
    assert flow == pytest.approx(
        {("src", "a"): 100, ("a", "b"): 25, ("a", "c"): 75, ("b", "c"): 25, ("c", "out"): 100}
    )
    assert stream_moves(s, "s")["c", "out"] == pytest.approx(200)  # over the 2-day horizon


def test_every_column_is_documented_in_outputs_md() -> None:
    text = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    for name, columns in (("network_nodes.csv", NODE_COLUMNS), ("network_edges.csv", EDGE_COLUMNS)):
        section = text[text.index(f"### `{name}`\n") :]
        section = section[: section.index("\n### ", 1)]
        documented = re.findall(r"^\| `([a-z_]+)` \|", section, re.M)
        assert documented == list(columns), name
