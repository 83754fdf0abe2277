"""The independent parts a search has to simulate: those its KPIs measure and its levers touch.

A KPI of a lane (``time_in_system_p95_h.1119-1120``), of a lane and direction
(``….1119-1120.export``) or of a station (``station.hn_yard.utilization``) is computed from that
lane's or station's trucks only, and a lever under ``stations.NAME`` or ``arrivals.NAME`` changes
only that station's or stream's part. Each part draws the same numbers alone as inside the whole
scenario (:mod:`gatesim.model.parts`), so simulating just the parts a search needs gives its
KPIs bit for bit. Anything else (a gate-wide KPI, a direction or cargo breakdown across lanes,
a lever on a calendar or on demand) needs every part.
"""

from __future__ import annotations

from collections.abc import Sequence

from gatesim.experiment.parts import independent_parts
from gatesim.experiment.runner import Only
from gatesim.scenario.schema import Scenario

__all__ = ["kpi_members", "lever_members", "searched_parts"]

#: (stations, streams) a KPI or lever belongs to; None when it concerns the whole gate.
Members = tuple[set[str], set[str]] | None


def kpi_members(scenario: Scenario, kpi: str) -> Members:
    """The stations and streams whose trucks a KPI is computed from (None: the whole gate)."""
    if kpi.startswith("station."):
        name = kpi[len("station.") :].rpartition(".")[0]
        return ({name}, set()) if name in scenario.stations else None
    groups = sorted(
        {(a.lane, a.direction) for a in scenario.arrivals.values()},
        key=lambda g: -len(g[0]),  # "A-1" is tried before a lane "1" it ends with
    )
    for lane, direction in groups:
        if kpi.endswith(f".{lane}.{direction}"):
            return set(), _streams(scenario, lane, direction)
    for lane, _ in groups:
        if kpi.endswith(f".{lane}"):
            return set(), _streams(scenario, lane)
    return None


def lever_members(scenario: Scenario, path: str) -> Members:
    """The station or stream a ``--vary``/``--set`` path changes (None: anything else)."""
    head, _, rest = path.partition(".")
    name = rest.partition(".")[0]
    if head == "stations" and name in scenario.stations:
        return {name}, set()
    if head == "arrivals" and name in scenario.arrivals:
        return set(), {name}
    return None


def searched_parts(scenario: Scenario, kpis: Sequence[str], paths: Sequence[str]) -> Only:
    """Indices of the parts holding every KPI's and lever's stations and streams, or None
    when that is all of them (or when one of them concerns the whole gate)."""
    members = [kpi_members(scenario, k) for k in kpis] + [lever_members(scenario, p) for p in paths]
    if any(m is None for m in members):
        return None
    stations = set().union(*(m[0] for m in members if m is not None))
    streams = set().union(*(m[1] for m in members if m is not None))
    parts = independent_parts(scenario)
    needed = tuple(
        i
        for i, part in enumerate(parts)
        if stations.intersection(part.stations) or streams.intersection(part.streams)
    )
    return needed if 0 < len(needed) < len(parts) else None


def _streams(scenario: Scenario, lane: str, direction: str | None = None) -> set[str]:
    return {
        name
        for name, a in scenario.arrivals.items()
        if a.lane == lane and direction in (None, a.direction)
    }
