"""The network-and-flows table of a run: the lane network's nodes and roads, with the model's
expected flow of trucks, written beside the other run tables.

Built where the Scenario and the station registry are known (a plug-in run has its station
types loaded), so the report draws the network figure from these two tables alone and never
rebuilds a scenario. The flows are :func:`gatesim.model.flows.expected_visits` (arrival means
times route shares, nothing simulated); a move between two places drives along the fastest
roads, as travel does in the engine. The layout hints (a node's lane, its distance from the
border crossing, its share of export paths) count the paths of the same moves, so they follow
the routes exactly as the model walks them.

``nodes`` has one row per node (nodes, then stations, in scenario order); ``edges`` one row
per direction a truck may drive a road (a two-way road gives two rows), in the road graph's
order, or, for a network without roads, one row per route move.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from gatesim.core.columns import Column, is_missing, row_columns
from gatesim.model.arrivals import hourly_means
from gatesim.model.flows import ORIGIN, expected_visits
from gatesim.model.network import Network, build_network
from gatesim.scenario.schema import Scenario
from gatesim.stations.registry import station_outcomes, validate_station_specs

if TYPE_CHECKING:  # the run writes these tables without pandas (network_columns)
    import pandas as pd

__all__ = [
    "COUNT_COLUMNS",
    "EDGE_COLUMNS",
    "NODE_COLUMNS",
    "NetworkRows",
    "NetworkTables",
    "network_columns",
    "network_rows",
    "network_tables",
    "stream_moves",
]

NODE_COLUMNS = (
    "node",
    "kind",
    "type",
    "side",
    "label",
    "servers",
    "lane",
    "lane_rank",
    "border_distance",
    "export_share",
    "trucks_per_day",
)
EDGE_COLUMNS = (
    "from",
    "to",
    "kind",
    "road",
    "length_km",
    "speed_kmh",
    "minutes",
    "trucks_per_day",
)
#: Paths counted per arrival stream at most: routes that branch at every step multiply.
PATH_LIMIT = 2000
#: Share of a place's trucks below which what is left after its moves is rounding, not trucks
#: that end their route there.
REST_TOLERANCE = 1e-9

Move = tuple[str, str]


#: Node columns of whole numbers some nodes lack: pandas' nullable ``Int64`` in the table,
#: written as integers or empty fields.
COUNT_COLUMNS = ("servers", "lane_rank", "border_distance")


@dataclass(frozen=True)
class NetworkTables:
    """``network_nodes.csv`` and ``network_edges.csv`` of one scenario (docs/outputs.md)."""

    nodes: pd.DataFrame
    edges: pd.DataFrame


@dataclass(frozen=True)
class NetworkRows:
    """The rows of :class:`NetworkTables` (a dict per row; a row may lack a column)."""

    nodes: list[dict[str, object]]
    edges: list[dict[str, object]]


@dataclass
class _PathSummary:
    """What the paths of every arrival stream say about the nodes they pass."""

    lanes: dict[str, dict[str, float]] = field(default_factory=dict)  # node -> lane -> paths
    export: dict[str, list[float]] = field(default_factory=dict)  # node -> 1 export, 0 not
    distance: dict[str, int] = field(default_factory=dict)  # node -> farthest from crossing


def network_tables(scenario: Scenario) -> NetworkTables:
    """The nodes and roads of ``scenario``'s network with expected trucks per day."""
    import pandas as pd

    rows = network_rows(scenario)
    return NetworkTables(
        pd.DataFrame(rows.nodes, columns=list(NODE_COLUMNS)).astype(
            dict.fromkeys(COUNT_COLUMNS, "Int64")
        ),
        pd.DataFrame(rows.edges, columns=list(EDGE_COLUMNS)),
    )


def network_columns(scenario: Scenario) -> tuple[dict[str, Column], dict[str, Column]]:
    """The node and edge columns of :func:`network_tables`, typed as its tables type them,
    without pandas (the count columns hold Python integers and None)."""
    rows = network_rows(scenario)
    nodes = row_columns(rows.nodes, NODE_COLUMNS)
    for name in COUNT_COLUMNS:
        counts = np.empty(len(rows.nodes), dtype=object)
        counts[:] = [None if is_missing(v) else int(v) for v in nodes[name].tolist()]
        nodes[name] = counts
    return nodes, row_columns(rows.edges, EDGE_COLUMNS)


def network_rows(scenario: Scenario) -> NetworkRows:
    """The rows of the nodes and roads of ``scenario``'s network with expected trucks per
    day."""
    network = build_network(scenario, station_outcomes(validate_station_specs(scenario)))
    days = float(scenario.days)
    moves = {name: stream_moves(scenario, name) for name in scenario.arrivals}
    summary = _summarise_paths(scenario, network.graph, moves)
    lane_order, lane_of = _assign_lanes(scenario, network.graph, summary.lanes)
    all_moves: dict[Move, float] = defaultdict(float)
    for stream in moves.values():
        for move, trucks in stream.items():
            all_moves[move] += trucks / days
    edge_flow = _edge_flows(network, all_moves)
    nodes = _node_rows(scenario, network.graph, summary, lane_of, lane_order)
    _node_flows(nodes, all_moves, edge_flow)
    return NetworkRows(nodes, _edge_rows(network, edge_flow))


def stream_moves(scenario: Scenario, stream: str) -> dict[Move, float]:
    """Expected trucks of one stream over the horizon per move: from the route's origin or a
    station to the next station, and from the last places to the destination.

    Only moves that carry trucks: a zero-share way out of a branch is no move. What a place
    keeps after its moves to stations (its visits less its departures) goes to the destination.
    """
    arrival = scenario.arrivals[stream]
    route = scenario.routes[arrival.route]
    flow = expected_visits(scenario, (stream,))
    received = {ORIGIN: float(hourly_means(scenario, arrival).sum()), **flow.visits}
    moves: dict[Move, float] = defaultdict(float)
    sent: dict[str, float] = defaultdict(float)
    for (place, station), trucks in flow.edges.items():
        if trucks > 0:
            moves[route.origin if place == ORIGIN else place, station] += trucks
            sent[place] += trucks
    for place, trucks in received.items():
        rest = trucks - sent[place]
        if trucks > 0 and rest > REST_TOLERANCE * trucks:
            moves[route.origin if place == ORIGIN else place, route.destination] += rest
    return dict(moves)


def _stream_paths(moves: Iterable[Move], origin: str, destination: str) -> list[list[str]]:
    """Every path from ``origin`` to ``destination`` through one stream's moves (at most
    PATH_LIMIT, none revisiting a place)."""
    graph = nx.DiGraph(list(moves))
    if origin not in graph or destination not in graph:
        return []
    return list(itertools.islice(nx.all_simple_paths(graph, origin, destination), PATH_LIMIT))


def _summarise_paths(
    scenario: Scenario, graph: nx.DiGraph, moves: Mapping[str, Mapping[Move, float]]
) -> _PathSummary:
    """Count every stream's paths per node: lanes, directions, distance from the crossing.

    A node's distance is counted in places along a path from the first place across the
    border (1 on each side of the line), the farthest over every path through it.
    """
    summary = _PathSummary()
    for stream, arrival in scenario.arrivals.items():
        route = scenario.routes[arrival.route]
        for full in _stream_paths(moves[stream], route.origin, route.destination):
            home = graph.nodes[full[0]]["side"]
            crossing = next(
                (i for i, n in enumerate(full) if graph.nodes[n]["side"] != home), len(full)
            )
            for i, node in enumerate(full):
                d = crossing - i if i < crossing else i - crossing + 1
                summary.distance[node] = max(summary.distance.get(node, 0), d)
                lanes = summary.lanes.setdefault(node, {})
                lanes[arrival.lane] = lanes.get(arrival.lane, 0.0) + 1.0
                export = 1.0 if arrival.direction == "export" else 0.0
                summary.export.setdefault(node, []).append(export)
    return summary


def _assign_lanes(
    scenario: Scenario, graph: nx.DiGraph, lanes: Mapping[str, Mapping[str, float]]
) -> tuple[list[str], dict[str, str]]:
    """The lane order (the arrival streams' lanes first) and each node's lane.

    A node takes the lane most of its paths use; a node no path visits takes a neighbour's
    lane, or ``"other"`` (appended to the order) when no neighbour has one.
    """
    lane_order = list(dict.fromkeys(a.lane for a in scenario.arrivals.values()))
    lane_of: dict[str, str] = {n: max(c, key=lambda k: c[k]) for n, c in lanes.items()}
    for node in graph.nodes:
        if node not in lane_of:
            near = [lane_of[m] for m in nx.all_neighbors(graph, node) if m in lane_of]
            lane_of[node] = near[0] if near else "other"
            if lane_of[node] not in lane_order:
                lane_order.append(lane_of[node])
    return lane_order, lane_of


def _edge_flows(network: Network, moves: Mapping[Move, float]) -> dict[Move, float]:
    """Trucks per day on each directed road, or on each move when the network has no roads.

    A move adds its trucks to every road of the fastest way between its ends, the way travel
    takes in the engine.
    """
    if network.abstract:
        return dict(moves)
    flows: dict[Move, float] = {edge: 0.0 for edge in network.graph.edges}
    for (a, b), trucks in moves.items():
        try:
            hops = nx.shortest_path(network.graph, a, b, weight="minutes")
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            continue  # the network check refuses such routes; kept for hand-built scenarios
        for hop in itertools.pairwise(hops):
            flows[hop] += trucks
    return flows


def _node_rows(
    scenario: Scenario,
    graph: nx.DiGraph,
    summary: _PathSummary,
    lane_of: Mapping[str, str],
    lane_order: list[str],
) -> list[dict[str, object]]:
    """One row per node of the graph, in graph order, without the flows."""
    rows: list[dict[str, object]] = []
    for node, attrs in graph.nodes(data=True):
        station = scenario.stations.get(node)
        paths = summary.export.get(node)
        rows.append(
            {
                "node": node,
                "kind": attrs["kind"],
                "type": station.type if station is not None else "",
                "side": attrs["side"],
                "label": attrs["label"],
                "servers": station.servers if station is not None else None,
                "lane": lane_of[node],
                "lane_rank": lane_order.index(lane_of[node]),
                "border_distance": summary.distance.get(node),
                "export_share": sum(paths) / len(paths) if paths else math.nan,
            }
        )
    return rows


def _node_flows(
    rows: list[dict[str, object]], moves: Mapping[Move, float], edge_flow: Mapping[Move, float]
) -> None:
    """Fill ``trucks_per_day`` from the moves per day: a station's visits and a sink's
    releases (moves into it), a source's new trucks (moves out of it), and the trucks driving
    into a junction (its roads in)."""
    moved_in: dict[str, float] = defaultdict(float)
    moved_out: dict[str, float] = defaultdict(float)
    for (a, b), trucks in moves.items():
        moved_out[a] += trucks
        moved_in[b] += trucks
    driven_in: dict[str, float] = defaultdict(float)
    for (_, b), trucks in edge_flow.items():
        driven_in[b] += trucks
    for row in rows:
        node, kind = str(row["node"]), row["kind"]
        if kind == "source":
            row["trucks_per_day"] = moved_out[node]
        elif kind == "junction":
            row["trucks_per_day"] = driven_in[node]
        else:
            row["trucks_per_day"] = moved_in[node]


def _edge_rows(network: Network, edge_flow: Mapping[Move, float]) -> list[dict[str, object]]:
    """One row per directed road (graph order), or per route move for a network without roads."""
    if network.abstract:
        return [
            {"from": a, "to": b, "kind": "move", "road": "", "trucks_per_day": trucks}
            for (a, b), trucks in edge_flow.items()
        ]
    return [
        {
            "from": a,
            "to": b,
            "kind": "road",
            "road": attrs["name"],
            "length_km": attrs["length_km"],
            "speed_kmh": attrs["speed_kmh"],
            "minutes": attrs["minutes"],
            "trucks_per_day": edge_flow[a, b],
        }
        for a, b, attrs in network.graph.edges(data=True)
    ]
