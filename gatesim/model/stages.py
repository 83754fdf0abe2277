"""Pipeline stages: a long run of a scenario cut into an upstream and a downstream part.

Trucks only move forward through a cut: the upstream stage (the *head*) holds every station a
truck can reach before any downstream station, so the downstream stage (the *tail*) never
affects the head. The head runs alone, generates the arrivals and hands each truck that heads
for a tail station over, with the time it left; the tail takes the trucks over at those times.
Run side by side (:mod:`gatesim.model.pipeline`), the tail follows the head day by day.

Where a cut may go:

* upstream-closed: a station whose trucks can come from a tail station is in the tail, and a
  route's first station is in the head (only the head generates arrivals);
* a ``choose`` step (one random stream) is decided in one stage only, so its draws come in the
  same order as in the uncut run; an ``if_queue_above`` step is decided in the stage that
  holds the station it looks at.

Only scenarios with at least :data:`SPLIT_MIN_VISITS` expected station visits are cut, so
shorter runs (tests, validation, the 30-day scenarios) keep the single-environment results
and split by lane only; the floor is a choice, not a measured break-even. The cut spans all
lanes and is chosen from the expected visits per station (arrival means × route shares;
station outcomes counted as equally likely) to give both stages about the same work: visits,
plus half a visit for each truck the head creates and each truck the tail takes over.
"""

from __future__ import annotations

import networkx as nx

from gatesim.model.components import Component
from gatesim.model.flows import ORIGIN, Flow, expected_visits
from gatesim.scenario.schema import Scenario

__all__ = ["SPLIT_MIN_VISITS", "pipeline", "split_stations"]

#: A scenario is cut only when it expects at least this many station visits (about 10 s of
#: simulation on the reference machine; the baseline, 7,500 visits a day, from 134 days).
SPLIT_MIN_VISITS = 1_000_000
#: The head may carry between these shares of the expected visits (else no cut).
HEAD_SHARE_RANGE = (0.25, 0.75)

# Costs in station visits, measured on the baseline year on two cores: weighing visits alone
# left the head ~10 % slower than the tail (it also creates the trucks), one visit per truck
# created ~7 % faster; these weights leave the two within ~5 % of each other (callgrind: 3.26
# and 3.46 G instructions per 20 days; 0.75 for a take-over picks a cut 5 % heavier the other
# way, and the cuts between are too coarse to do better).
ARRIVAL_VISITS = 0.5  # the head's cost of creating one truck (and sending it on)
TAKE_OVER_VISITS = 0.5  # the tail's cost of taking one truck over (rebuilding it, its trip)


def pipeline(scenario: Scenario) -> Component | None:
    """The whole scenario as two pipeline stages, or None when it is not cut.

    The cut spans every lane at once: each lane's upstream part goes to the head, so two
    processes share the work evenly even when one lane carries most of the trucks."""
    if any(a.returns is not None for a in scenario.arrivals.values()) or any(
        st.type == "acceptance" and st.params.get("slots") is not None
        for st in scenario.stations.values()
    ):
        # empty returns drive back through upstream stations, and a yard slot is given back
        # to the station that handed it out: no forward-only cut
        return None
    stations, streams = tuple(scenario.stations), tuple(scenario.arrivals)
    cut = split_stations(scenario, stations, streams) if streams else None
    return Component(stations, streams, cut) if cut is not None else None


def split_stations(
    scenario: Scenario, stations: tuple[str, ...], streams: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(head stations, tail stations) of a component, or None when it is not cut."""
    flow = expected_visits(scenario, streams)
    total = sum(flow.visits.values())
    if total < SPLIT_MIN_VISITS:
        return None
    groups = _stage_units(stations, flow)
    if groups is None:
        return None
    units, dag = groups
    best: tuple[float, set[str]] | None = None
    low, high = HEAD_SHARE_RANGE
    for order in _candidate_orders(dag, units, flow):
        head: set[str] = set()
        for unit in order:
            head |= units[unit]
            share = sum(flow.visits.get(s, 0.0) for s in head) / total
            if low <= share <= high:
                gap = abs(_imbalance(head, flow) / total)
                if best is None or gap < best[0]:
                    best = (gap, set(head))
    if best is None:
        return None
    head_set = best[1]
    head_stations = tuple(s for s in stations if s in head_set)
    tail_stations = tuple(s for s in stations if s not in head_set)
    return (head_stations, tail_stations) if head_stations and tail_stations else None


def _imbalance(head: set[str], flow: Flow) -> float:
    """Head work minus tail work, in visits. Besides its visits the head creates every truck
    (an arrival event, the truck and its attributes) and the tail takes trucks over (rebuilding
    each from the pipe and scheduling its road trip); both are weighed in visits."""
    head_visits = sum(m for s, m in flow.visits.items() if s in head)
    tail_visits = sum(m for s, m in flow.visits.items() if s not in head)
    arrivals = sum(m for (a, _), m in flow.edges.items() if a == ORIGIN)
    crossing = sum(
        m for (a, b), m in flow.edges.items() if (a == ORIGIN or a in head) and b not in head
    )
    return (head_visits + ARRIVAL_VISITS * arrivals) - (tail_visits + TAKE_OVER_VISITS * crossing)


def _stage_units(
    stations: tuple[str, ...], flow: Flow
) -> tuple[dict[int, set[str]], nx.DiGraph] | None:
    """Groups of places that must stay together, as a DAG (None: the head would hold all).

    Places joined by a ``choose``/``overflow`` constraint or by a cycle of moves form one
    unit; the origin's unit holds every route's first station."""
    graph = nx.DiGraph()
    graph.add_nodes_from((ORIGIN, *stations))
    graph.add_edges_from(flow.edges)
    for places in flow.together:  # a 2-cycle through each pair keeps them in one unit
        first, *rest = sorted(places)
        for other in rest:
            graph.add_edge(first, other)
            graph.add_edge(other, first)
    for first in [b for a, b in flow.edges if a == ORIGIN]:
        graph.add_edge(first, ORIGIN)  # first stations join the origin's unit
    dag = nx.condensation(graph)
    units = {n: set(dag.nodes[n]["members"]) - {ORIGIN} for n in dag.nodes}
    return (units, dag) if len(units) > 1 else None


def _candidate_orders(dag: nx.DiGraph, units: dict[int, set[str]], flow: Flow) -> list[list[int]]:
    """Topological orders whose prefixes are the cuts tried (each prefix is upstream-closed)."""

    def weight(unit: int) -> float:
        return sum(flow.visits.get(s, 0.0) for s in units[unit])

    return [
        list(nx.lexicographical_topological_sort(dag, key=lambda u: (weight(u), u))),
        list(nx.lexicographical_topological_sort(dag, key=lambda u: (-weight(u), u))),
        list(nx.lexicographical_topological_sort(dag, key=lambda u: u)),
    ]
