"""Independent parts of a scenario: groups of stations and arrival streams that never interact.

Two stations interact when one truck may visit both, or when a route decides by looking at a
station's queue (``if_queue_above``). Two streams interact when they share a station or a
route (a route's ``choose`` steps share one random stream). Nodes (sources and sinks) and
roads hold no state, so a source or sink used by two lanes does not join them.

Every random draw in gatesim comes from a stream named per arrival stream, route or station
(:mod:`gatesim.core.randomness`), so a component simulated alone draws exactly the numbers it
draws inside the whole scenario. :class:`gatesim.model.engine.Replication` runs one component
per piece and :func:`gatesim.model.engine.merge_pieces` adds the pieces up.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from gatesim.model.routes import stations_in
from gatesim.scenario.schema import Scenario

__all__ = ["Component", "components"]


@dataclass(frozen=True)
class Component:
    """The stations and arrival streams of one independent part, each in scenario order.

    ``stages`` is empty for a part run as one piece, else the stations of its pipeline stages,
    upstream first (:func:`gatesim.model.stages.pipeline`)."""

    stations: tuple[str, ...]
    streams: tuple[str, ...]
    stages: tuple[tuple[str, ...], ...] = ()


def components(scenario: Scenario) -> list[Component]:
    """The scenario's independent components, in a fixed order.

    Components are ordered by their first arrival stream in scenario order; components with
    no stream (stations no route uses) follow, by their first station. A scenario whose parts
    all interact gives one component holding everything.
    """
    graph = nx.Graph()
    graph.add_nodes_from(("station", name) for name in scenario.stations)
    graph.add_nodes_from(("stream", name) for name in scenario.arrivals)
    for name, route in scenario.routes.items():
        graph.add_node(("route", name))
        for station in stations_in(route.steps):
            graph.add_edge(("route", name), ("station", station))
    for name, arrival in scenario.arrivals.items():
        graph.add_edge(("stream", name), ("route", arrival.route))
        if arrival.returns is not None:  # an empty return stays in its stream's part
            graph.add_edge(("stream", name), ("route", arrival.returns.route))
            if arrival.returns.backhaul is not None:  # its trucks carry the other's loads
                graph.add_edge(("stream", name), ("stream", arrival.returns.backhaul.loads))
    station_pos = {name: i for i, name in enumerate(scenario.stations)}
    stream_pos = {name: i for i, name in enumerate(scenario.arrivals)}
    found = []
    for nodes in nx.connected_components(graph):
        stations = sorted(
            (n for kind, n in nodes if kind == "station"), key=station_pos.__getitem__
        )
        streams = sorted((n for kind, n in nodes if kind == "stream"), key=stream_pos.__getitem__)
        if stations or streams:
            found.append(Component(tuple(stations), tuple(streams)))

    def order(c: Component) -> tuple[int, int]:
        if c.streams:
            return (0, stream_pos[c.streams[0]])
        return (1, station_pos[c.stations[0]])

    return sorted(found, key=order)
