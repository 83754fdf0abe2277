"""Where the network figure puts each node, read from a run's network-and-flows tables.

A run writes ``network_nodes.csv`` and ``network_edges.csv`` (docs/outputs.md) where its
scenario and station types are known; the report reads them with the station KPIs of
``stations.csv`` and never rebuilds a scenario, so a plug-in run keeps its figure.

One horizontal band per lane, VN (x < 0) to CN (x > 0). A node's column is its distance from
the border crossing along the routes; a column stacks export-only stations on top and
import-only at the bottom. Roads into or out of a station carry that station's measured
arrivals per day; other roads the model's expected flow from the edges table (see
:func:`_edge_flows`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

__all__ = [
    "NETWORK_TABLES",
    "NetworkLayout",
    "NetworkTables",
    "lay_out_network",
    "read_network_tables",
    "station_means",
]

#: The files a run writes for the network figure (gatesim.model.network_table).
NETWORK_TABLES = ("network_nodes.csv", "network_edges.csv")
#: Columns holding names: read as text, so a lane or station called "1119" stays a name.
_TEXT = ("node", "kind", "type", "side", "label", "lane", "from", "to", "road")


@dataclass(frozen=True)
class NetworkTables:
    """A run's ``network_nodes.csv`` and ``network_edges.csv``."""

    nodes: pd.DataFrame
    edges: pd.DataFrame


@dataclass
class NetworkLayout:
    """Positions, flows and annotations of one run's lane network (see network_figure)."""

    graph: nx.DiGraph
    pos: dict[str, tuple[float, float]]
    bands: dict[str, tuple[float, float]]
    labels: dict[str, str]
    edge_flow: dict[tuple[str, str], float]  # one entry per road (unordered pair): trucks/day
    node_flow: dict[str, float]  # stations: trucks arriving per measured day
    utilisation: dict[str, float]
    spillback_km: dict[str, float]  # yards only


def read_network_tables(folder: Path) -> NetworkTables | None:
    """The network tables of a run folder; None when it predates them (or lacks one)."""
    paths = [folder / name for name in NETWORK_TABLES]
    if not all(p.is_file() for p in paths):
        return None
    nodes, edges = (
        pd.read_csv(p, dtype={c: str for c in _TEXT}, keep_default_na=False, na_values=[""])
        for p in paths
    )
    return NetworkTables(nodes, edges)


def station_means(stations: pd.DataFrame) -> pd.DataFrame:
    """``stations.csv`` averaged over replications, indexed by station (file order kept)."""
    return (
        stations.drop(columns=["replication"], errors="ignore")
        .groupby("station", sort=False)
        .mean(numeric_only=True)
    )


def network_graph(tables: NetworkTables) -> nx.DiGraph:
    """The nodes (table order) and drivable edges (table order) with their table columns."""
    graph = nx.DiGraph()
    for row in tables.nodes.to_dict("records"):
        graph.add_node(str(row["node"]), **{str(k): v for k, v in row.items()})
    for row in tables.edges.to_dict("records"):
        graph.add_edge(str(row["from"]), str(row["to"]), **{str(k): v for k, v in row.items()})
    return graph


def lay_out_network(
    tables: NetworkTables, means: pd.DataFrame, measured_days: float
) -> NetworkLayout:
    """Place the nodes of ``tables`` in lane bands and annotate them from ``means``
    (:func:`station_means` of ``stations.csv``) over ``measured_days``."""
    graph = network_graph(tables)
    nodes = tables.nodes.set_index("node")
    side = {n: str(nodes.at[n, "side"]) for n in graph.nodes}
    kind = {n: str(nodes.at[n, "kind"]) for n in graph.nodes}
    lane_of = {n: str(nodes.at[n, "lane"]) for n in graph.nodes}
    ranked = nodes.sort_values("lane_rank", kind="stable")["lane"]
    lane_order = [str(lane) for lane in dict.fromkeys(ranked)]
    dist = _finite(nodes["border_distance"])
    export_share = _finite(nodes["export_share"])

    column = _node_columns(graph, kind, side, dist, lane_of)
    above, below = _stack_rows(column, lane_of, export_share)
    bands, centre = _lane_bands(lane_order, above, below)
    pos = _node_positions(graph, above, below, centre, lane_of, side)

    days = measured_days if measured_days > 0 else 1.0
    flow = {n: _station_flow(means, n, days) for n in graph.nodes if kind[n] == "station"}
    edge_flow = _edge_flows(graph, kind, flow)
    utilisation, spill = _station_annotations(graph, means)
    labels = {n: _short_label(n, lane_of[n], lane_of) for n in graph.nodes}
    return NetworkLayout(graph, pos, bands, labels, edge_flow, flow, utilisation, spill)


def _finite(column: pd.Series) -> dict[str, float]:
    """The finite values of a nodes-table column, by node."""
    values = pd.to_numeric(column, errors="coerce")
    return {str(k): float(v) for k, v in values.items() if np.isfinite(v)}


def _side_sign(side: str) -> float:
    """-1 for the VN side (left of the border), +1 for the CN side."""
    return -1.0 if side == "VN" else 1.0


def _node_columns(
    graph: nx.DiGraph,
    kind: Mapping[str, str],
    side: Mapping[str, str],
    dist: Mapping[str, float],
    lane_of: Mapping[str, str],
) -> dict[str, float]:
    """The x column of every non-junction node, signed by side of the border.

    Stations sit at their distance from the border, sources and sinks one beyond the farthest
    station of their lane and side, stations no route visits next to the border.
    """
    column: dict[str, float] = {}
    for node in graph.nodes:
        if kind[node] == "station" and node in dist:
            column[node] = _side_sign(side[node]) * dist[node]
    for node in graph.nodes:
        if kind[node] in ("source", "sink"):
            same = [
                abs(column[m])
                for m in column
                if lane_of[m] == lane_of[node] and side[m] == side[node]
            ]
            column[node] = _side_sign(side[node]) * ((max(same) if same else dist.get(node, 1)) + 1)
    for node in graph.nodes:  # stations no route visits: next to the border
        if node not in column and kind[node] != "junction":
            column[node] = _side_sign(side[node]) * 1.0
    return column


def _stack_rows(
    column: Mapping[str, float],
    lane_of: Mapping[str, str],
    export_share: Mapping[str, float],
) -> tuple[dict[tuple[str, float], list[str]], dict[tuple[str, float], list[str]]]:
    """Split each (lane, column) stack into the nodes above and below the band's centre line.

    Export-only nodes go above, import-only below; shared ones (and nodes no route visits)
    alternate next to the line.
    """
    stacks: dict[tuple[str, float], list[str]] = {}
    for node, x in column.items():
        stacks.setdefault((lane_of[node], x), []).append(node)
    above: dict[tuple[str, float], list[str]] = {}
    below: dict[tuple[str, float], list[str]] = {}
    for key, nodes in stacks.items():
        score = {n: export_share.get(n, 0.5) for n in sorted(nodes)}
        shared = [n for n, v in score.items() if v == 0.5]
        above[key] = [n for n, v in score.items() if v > 0.5] + shared[0::2]
        below[key] = shared[1::2] + [n for n, v in score.items() if v < 0.5]
    return above, below


def _lane_bands(
    lane_order: Sequence[str],
    above: Mapping[tuple[str, float], Sequence[str]],
    below: Mapping[tuple[str, float], Sequence[str]],
) -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
    """Each lane's vertical band (bottom, top) and centre line, stacked downwards from y = 0."""
    bands: dict[str, tuple[float, float]] = {}
    centre: dict[str, float] = {}
    top = 0.0
    for lane in lane_order:
        up = max([len(v) for (ln, _), v in above.items() if ln == lane] or [0])
        down = max([len(v) for (ln, _), v in below.items() if ln == lane] or [0])
        centre[lane] = top - up - 0.7
        bands[lane] = (centre[lane] - down - 0.7, top)
        top = bands[lane][0] - 0.8
    return bands, centre


def _node_positions(
    graph: nx.DiGraph,
    above: Mapping[tuple[str, float], Sequence[str]],
    below: Mapping[tuple[str, float], Sequence[str]],
    centre: Mapping[str, float],
    lane_of: Mapping[str, str],
    side: Mapping[str, str],
) -> dict[str, tuple[float, float]]:
    """(x, y) of every node: stacked stations, sources and sinks, then junctions on the centre."""
    pos: dict[str, tuple[float, float]] = {}
    for (lane, x), nodes in above.items():
        for j, node in enumerate(nodes):
            pos[node] = (x, centre[lane] + len(nodes) - j)
    for (lane, x), nodes in below.items():
        for j, node in enumerate(nodes):
            pos[node] = (x, centre[lane] - 1 - j)
    for node in graph.nodes:  # junctions: on the centre line, amid the stations around them
        if node in pos:
            continue
        x = _junction_x(graph, node, pos, _side_sign(side[node]))
        pos[node] = (x, centre.get(lane_of[node], 0.0))
    return pos


def _junction_x(
    graph: nx.DiGraph, node: str, pos: Mapping[str, tuple[float, float]], sign: float
) -> float:
    """A junction's x: the mean of its placed neighbours, moved off columns, kept on its side."""
    xs_near = [pos[m][0] for m in nx.all_neighbors(graph, node) if m in pos]
    x = float(np.mean(xs_near)) if xs_near else sign * 0.5
    x = math.floor(x) + 0.5 if abs(x - round(x)) < 0.25 else x
    if sign * x <= 0:
        x = sign * 0.5
    return x


def _station_flow(means: pd.DataFrame, name: str, days: float) -> float:
    """Trucks per day arriving at a station: measured arrivals over the measured ``days``;
    NaN when ``stations.csv`` has no such row or column."""
    return _cell(means, name, "arrived_measured") / days


def _edge_flows(
    graph: nx.DiGraph, kind: Mapping[str, str], flow: Mapping[str, float]
) -> dict[tuple[str, str], float]:
    """Trucks/day per road, one entry per unordered pair, both directions summed.

    A road touching exactly one station carries that station's measured arrivals. Any other
    road (or one whose station was not measured) carries the expected flow of the edges table,
    where the flow into a station is scaled to that station's measured arrivals: the model
    counts a station's outcomes as equally likely, the run knows their shares.
    """
    edge_flow: dict[tuple[str, str], float] = {}
    for u, v in graph.edges:
        if (v, u) in edge_flow:
            continue
        ends = [n for n in (u, v) if kind[n] == "station"]
        measured = flow[ends[0]] if len(ends) == 1 else math.nan
        if np.isfinite(measured):
            edge_flow[(u, v)] = measured
        else:
            edge_flow[(u, v)] = _expected(graph, u, v, flow) + _expected(graph, v, u, flow)
    return edge_flow


def _expected(graph: nx.DiGraph, u: str, v: str, flow: Mapping[str, float]) -> float:
    """The edges table's expected trucks/day from ``u`` to ``v`` (0 when no such edge), scaled
    by measured over expected arrivals when ``v`` is a station with both."""
    if not graph.has_edge(u, v):
        return 0.0
    trucks = _number(graph.edges[u, v].get("trucks_per_day"))
    expected = _number(graph.nodes[v].get("trucks_per_day"))
    measured = flow.get(v, math.nan)
    if np.isfinite(measured) and expected > 0:
        trucks *= measured / expected
    return trucks


def _number(value: Any) -> float:
    """A finite float, or 0 for an empty or non-numeric table cell."""
    number = pd.to_numeric(value, errors="coerce")
    return float(number) if np.isfinite(number) else 0.0


def _station_annotations(
    graph: nx.DiGraph, means: pd.DataFrame
) -> tuple[dict[str, float], dict[str, float]]:
    """Mean utilisation of every node with a row in ``means``, and spill-back km of the yards."""
    utilisation: dict[str, float] = {}
    spill: dict[str, float] = {}
    for node in graph.nodes:
        if node in means.index:
            utilisation[node] = _cell(means, node, "utilization")
            km = _cell(means, node, "spillback_km_max")
            if np.isfinite(km):
                spill[node] = km
    return utilisation, spill


def _cell(table: pd.DataFrame, row: str, column: str) -> float:
    """A float cell, NaN when the row or column is missing or the value is empty."""
    if column not in table.columns or row not in table.index:
        return math.nan
    value: Any = table.at[row, column]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def _short_label(node: str, lane: str, lane_of: Mapping[str, str]) -> str:
    """The node name without the prefix most nodes of its lane share (``hn_``, ``tt_``)."""
    prefixes = [n.split("_", 1)[0] for n, ln in lane_of.items() if ln == lane and "_" in n]
    if not prefixes or "_" not in node:
        return node
    common = max(set(prefixes), key=prefixes.count)
    if prefixes.count(common) >= 0.6 * len(prefixes) and node.startswith(common + "_"):
        return node[len(common) + 1 :]
    return node
