"""Independent parts of a scenario, simulated one at a time or side by side, and merged.

A part is a group of stations and arrival streams that never interacts with the rest: two
stations interact when one truck may visit both, or when a route decides by looking at a
station's queue (``if_queue_above``); two streams interact when they share a station or a
route (a route's ``choose`` steps share one random stream), or when one's empty returns carry
the other's loads (backhaul). Nodes (sources and sinks) and roads hold no state, so a source
or sink used by two lanes does not join them.

A replication of one part (:class:`gatesim.model.parts.Part`) draws exactly the numbers, and
processes its own events in exactly the order, of the whole replication, so
:func:`merge_parts` gives the one-environment result bit for bit
(:mod:`gatesim.model.collect` fixes the order of samples and records). The runner
(:mod:`gatesim.experiment.runner`) splits a replication into parts only to keep workers busy.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from gatesim.core.records import concatenated
from gatesim.core.results import PlatformResult, RunResult
from gatesim.model.collect import SAMPLES, by_truck_id, in_canonical_order, sorted_delays
from gatesim.model.engine import Replication, run_and_release
from gatesim.model.flows import expected_visits
from gatesim.model.parts import Part
from gatesim.model.routes import stations_in
from gatesim.scenario.platform import ROAD
from gatesim.scenario.schema import Scenario

__all__ = ["SUMMED_FIELDS", "expected_work", "independent_parts", "merge_parts", "simulate_part"]


def independent_parts(scenario: Scenario) -> list[Part]:
    """The scenario's independent parts, in a fixed order.

    Parts are ordered by their first arrival stream in scenario order; parts with no stream
    (stations no route uses) follow, by their first station. A scenario whose stations and
    streams all interact is one part holding everything.
    """
    import networkx as nx  # here, not at module level: a serial run never splits

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
            found.append(Part(tuple(stations), tuple(streams)))

    def order(part: Part) -> tuple[int, int]:
        if part.streams:
            return (0, stream_pos[part.streams[0]])
        return (1, station_pos[part.stations[0]])

    return sorted(found, key=order)


def expected_work(scenario: Scenario, part: Part) -> float:
    """Expected station visits of a part (its streams' share of the scenario)."""
    return sum(expected_visits(scenario, part.streams).visits.values())


def simulate_part(
    scenario: Scenario, replication: int, index: int, seed: int | None = None
) -> RunResult:
    """Run part number ``index`` of one replication alone (its stations and streams).

    Arrays by stream keep every stream (zero for the other parts' streams)."""
    part = independent_parts(scenario)[index]
    return run_and_release(lambda: Replication(scenario, replication, seed, part=part))


def merge_parts(scenario: Scenario, results: list[RunResult]) -> RunResult:
    """One replication's result from its parts' results (in part order).

    Counts and hourly/daily arrays are summed; station rows follow the scenario's station
    order; samples and records are put in the canonical order of
    :mod:`gatesim.model.collect`. The merged run time is the sum of the parts' run times.
    """
    if len(results) == 1:
        return results[0]
    first = results[0]
    order = [name for name in scenario.stations if any(name in p.stations for p in results)]
    owner = {name: p for p in results for name in p.stations}
    merged: dict[str, Any] = {
        attr: sum((getattr(p, attr) for p in results[1:]), getattr(first, attr).copy())
        for attr in SUMMED_FIELDS
    }
    merged.update(
        in_canonical_order(
            {attr: np.concatenate([getattr(p, attr) for p in results]) for attr in SAMPLES}
        )
    )
    merged.update(
        {attr: {name: getattr(owner[name], attr)[name] for name in order} for attr in _BY_STATION}
    )
    for attr in _BY_YARD:  # stations first, then platforms, each in the scenario's order
        found = {key: value for p in results for key, value in getattr(p, attr).items()}
        keys = [*scenario.stations, *(f"{name}.{ROAD}" for name in scenario.platform)]
        merged[attr] = {key: found[key] for key in keys if key in found}
    for attr in _RECORDS:  # None when the records were not kept (the same in every part)
        kept = getattr(first, attr) is not None
        merged[attr] = by_truck_id(
            concatenated([getattr(p, attr) for p in results]) if kept else None
        )
    merged.update(
        sorted_delays(
            *(np.concatenate([getattr(p, attr) for p in results]) for attr in _SLOT_DELAYS)
        )
    )
    merged["wall_seconds"] = sum(p.wall_seconds for p in results)
    merged["platform"] = _merge_platforms([p.platform for p in results])
    return dataclasses.replace(first, **merged)


def _merge_platforms(parts: list[PlatformResult | None]) -> PlatformResult | None:
    """Counts by stream summed (each stream's platform lives in one part); yards united in
    the order of the parts."""
    found = [p for p in parts if p is not None]
    if not found:
        return None
    first = found[0]
    summed = {
        attr: sum((getattr(p, attr) for p in found[1:]), getattr(first, attr).copy())
        for attr in ("by_stream", "diverted_measured", "added_delay_sum_min", "at_report")
    }
    yards = {name: row for p in found for name, row in p.yards.items()}
    return dataclasses.replace(first, yards=yards, **summed)


#: How ``merge_parts`` combines each RunResult field; the rest are the same in every part.
#: SUMMED_FIELDS are the truck counts (by stream, day, hour), equal however a run is split.
SUMMED_FIELDS = (
    "arrived_by_stream",
    "cleared_by_stream",
    "lost_by_stream",
    "reneged_by_stream",
    "balked_by_stream",
    "reneged_after_warmup_by_stream",
    "balked_after_warmup_by_stream",
    "in_system_by_stream",
    "cleared_after_warmup_by_stream",
    "arrived_after_warmup_by_stream",
    "cleared_by_day_stream",
    "cleared_by_day_hour",
    "backlog_at_report",
    "vn_side_at_report",
    "empty_by_stream",
    "empty_at_report",
    "empty_tis_sum_min",
    "in_system_by_hour",
    "arrived_by_hour_stream",
    "slot_counts_by_stream",
)
_BY_STATION = ("queue_by_hour", "at_station_by_hour", "stations", "station_types", "station_gaps")
_BY_YARD = ("spillback_km_by_hour",)  # the staging yards and platform approach roads only
_RECORDS = ("trucks", "visits")
_SLOT_DELAYS = ("slot_delay_min", "slot_delay_stream")  # concatenated, sorted (sorted_delays)
_SHARED = (
    "scenario",
    "replication",
    "seed",
    "days",
    "warmup_min",
    "horizon_min",
    "streams",
    "meta",
)
assert {f.name for f in dataclasses.fields(RunResult)} == {
    *SUMMED_FIELDS,
    *SAMPLES,
    *_BY_STATION,
    *_BY_YARD,
    *_RECORDS,
    *_SLOT_DELAYS,
    *_SHARED,
    "wall_seconds",
    "platform",
}, "a RunResult field has no merge rule in merge_parts"
