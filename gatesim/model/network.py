"""The lane network: a networkx DiGraph of nodes, stations and road segments, and route checks.

Nodes are sources, sinks and stations; edges are road segments weighted by travel minutes.
Routes are checked per arrival stream: every station a truck of that stream can visit must be
reachable by road from where it was before, the sink must be reachable at the end, and every
branch must have a case (or a default) for the values that stream's trucks carry.
A scenario with no roads at all is an abstract queueing network: travel takes no time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import networkx as nx

from gatesim.core.errors import ScenarioError
from gatesim.scenario.schema import (
    ArrivalSpec,
    BranchStep,
    ChooseStep,
    OverflowStep,
    ReworkStep,
    Scenario,
    Step,
    _suggest,
)


@dataclass(frozen=True)
class Network:
    """The built graph and the travel time of every move some route can make."""

    graph: nx.DiGraph
    travel_min: dict[tuple[str, str], float] = field(default_factory=dict)
    abstract: bool = False

    def travel(self, origin: str, target: str) -> float:
        return 0.0 if self.abstract else self.travel_min[(origin, target)]


def build_network(
    scenario: Scenario, outcomes: Mapping[str, Iterable[str]] | None = None
) -> Network:
    """Build the graph and check every route against it; raise ScenarioError on a bad layout.

    ``outcomes`` maps attributes that stations set on trucks (e.g. ``scan_alarm``) to their
    possible values; branches on them need a ``default`` for trucks that never got one.
    """
    graph = _graph(scenario)
    network = Network(graph=graph, abstract=not scenario.roads)
    station_outcomes = {k: set(v) for k, v in (outcomes or {}).items()}
    for name, arrival in scenario.arrivals.items():
        _check_stream_route(scenario, network, name, arrival, station_outcomes)
    return network


def _graph(scenario: Scenario) -> nx.DiGraph:
    graph = nx.DiGraph()
    for name, node in scenario.nodes.items():
        graph.add_node(name, kind=node.kind, side=node.side, label=node.label or name)
    for name, station in scenario.stations.items():
        graph.add_node(
            name, kind="station", side=station.side, label=station.label or name, type=station.type
        )
    known = set(graph.nodes)
    for key, road in scenario.roads.items():
        for end, value in (("from", road.from_), ("to", road.to)):
            if value not in known:
                raise ScenarioError(
                    None, f"roads.{key}.{end}", f"unknown node '{value}'{_suggest(value, known)}"
                )
        pairs = [(road.from_, road.to)] + ([(road.to, road.from_)] if road.two_way else [])
        for a, b in pairs:
            graph.add_edge(
                a,
                b,
                name=key,
                length_km=road.length_km,
                speed_kmh=road.speed_kmh,
                lanes=road.lanes,
                minutes=road.minutes,
            )
    return graph


@dataclass(frozen=True)
class _RouteWalk:
    """Context of one stream's walk through its route."""

    network: Network
    stream: str
    outcomes: frozenset[str]  # attributes set by stations: a truck may not have them yet


def _check_stream_route(
    scenario: Scenario,
    network: Network,
    stream: str,
    arrival: ArrivalSpec,
    outcomes: dict[str, set[str]],
) -> None:
    own = _stream_values(stream, arrival)
    _check_route(scenario, network, stream, arrival.route, own, outcomes)
    if arrival.returns is not None:  # the empty truck (gatesim.model.returns) keeps the rest
        empty = {"direction": {"empty"}, "cargo": {"empty"}, "channel": {"empty"}}
        back = {**own, **empty, "stream": {f"{stream}/empty"}}
        _check_route(scenario, network, f"{stream}/empty", arrival.returns.route, back, outcomes)


def _check_route(
    scenario: Scenario,
    network: Network,
    stream: str,
    name: str,
    own: dict[str, set[str]],
    outcomes: dict[str, set[str]],
) -> None:
    route = scenario.routes[name]
    where = f"routes.{name}"
    walk = _RouteWalk(network, stream, frozenset(set(outcomes) - set(own)))
    last = _walk(walk, {route.origin}, route.steps, {**outcomes, **own}, f"{where}.steps")
    for origin in last:
        _record_travel(walk, origin, route.destination, f"{where}.destination")


def _stream_values(stream: str, arrival: ArrivalSpec) -> dict[str, set[str]]:
    """The values each branchable attribute can take for trucks of this stream."""
    values: dict[str, set[str]] = {
        "lane": {arrival.lane},
        "direction": {arrival.direction},
        "cargo": {arrival.cargo},
        "stream": {stream},
        "channel": {name for name, p in arrival.channels.items() if p > 0},
    }
    for name, shares in arrival.attributes.items():
        values[name] = {value for value, p in shares.items() if p > 0}
    return values


def _walk(
    walk: _RouteWalk,
    current: set[str],
    steps: Iterable[Step],
    values: dict[str, set[str]],
    where: str,
) -> set[str]:
    """Follow steps from the set of places a truck may be; return where it may end up."""
    for i, step in enumerate(steps):
        here = f"{where}.{i}"
        if isinstance(step, str):
            for origin in current:
                _record_travel(walk, origin, step, here)
            current = {step}
        elif isinstance(step, BranchStep):
            current = _walk_branch(walk, current, step, values, here)
        elif isinstance(step, OverflowStep):
            current = _walk(walk, current, step.then, values, f"{here}.then") | _walk(
                walk, current, step.else_, values, f"{here}.else"
            )
        elif isinstance(step, ReworkStep):  # back to an earlier station; the steps from
            for origin in current:  # there on are walked already
                _record_travel(walk, origin, step.rework.to, f"{here}.rework.to")
        else:
            current = _walk_choice(walk, current, step, values, here)
    return current


def _walk_branch(
    walk: _RouteWalk, current: set[str], step: BranchStep, values: dict[str, set[str]], where: str
) -> set[str]:
    if step.branch not in values:
        raise ScenarioError(
            None,
            f"{where}.branch",
            f"unknown truck attribute '{step.branch}' "
            f"(stream '{walk.stream}'){_suggest(step.branch, values)}",
        )
    if step.branch in walk.outcomes and step.default is None:
        raise ScenarioError(
            None,
            f"{where}.default",
            f"a branch on the station outcome "
            f"'{step.branch}' needs a default for trucks without one",
        )
    ends: set[str] = set()
    for value in sorted(values[step.branch]):
        if value in step.cases:
            sub, sub_where = step.cases[value], f"{where}.cases.{value}"
        elif step.default is not None:
            sub, sub_where = step.default, f"{where}.default"
        else:
            raise ScenarioError(
                None,
                f"{where}.cases",
                f"no case for {step.branch} '{value}' "
                f"(trucks of stream '{walk.stream}') and no default",
            )
        ends |= _walk(walk, current, sub, {**values, step.branch: {value}}, sub_where)
    if step.default is not None and step.branch in walk.outcomes:
        ends |= _walk(walk, current, step.default, values, f"{where}.default")
    return ends


def _walk_choice(
    walk: _RouteWalk, current: set[str], step: ChooseStep, values: dict[str, set[str]], where: str
) -> set[str]:
    ends: set[str] = set()
    for j, option in enumerate(step.choose):
        if option.p > 0:
            ends |= _walk(walk, current, option.steps, values, f"{where}.choose.{j}.steps")
    return ends


def _record_travel(walk: _RouteWalk, origin: str, target: str, where: str) -> None:
    network = walk.network
    if network.abstract or (origin, target) in network.travel_min:
        return
    try:
        minutes = nx.shortest_path_length(network.graph, origin, target, weight="minutes")
    except nx.NetworkXNoPath:
        raise ScenarioError(
            None,
            where,
            f"no road from '{origin}' to '{target}' "
            f"(trucks of stream '{walk.stream}' cannot get there)",
        ) from None
    network.travel_min[(origin, target)] = float(minutes)
