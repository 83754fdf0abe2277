"""Which stations each route, and each lane and direction, may send a truck through.

A lane and direction (``"1119-1120.export"``, the KPI breakdown suffix) owns the stations of
the routes its arrival streams follow, in route order and in any branch, plus any station a
route looks at to decide (``if_queue_above``). The capacity measurement reads its binding
stations and first stations from here; the saturation warnings map a station to its lanes.
"""

from __future__ import annotations

from gatesim.scenario.schema import (
    BranchStep,
    OverflowStep,
    ReworkStep,
    Scenario,
    Step,
    stations_in,
)

__all__ = ["entry_stations", "group_key", "stations_by_group", "stations_in"]


def group_key(lane: str, direction: str) -> str:
    """The KPI suffix of a lane and direction, without its leading dot."""
    return f"{lane}.{direction}"


def stations_by_group(scenario: Scenario) -> dict[str, tuple[str, ...]]:
    """Stations per lane and direction, in the order the routes first name them; groups in
    the order of their first arrival stream."""
    found: dict[str, dict[str, None]] = {}
    for arrival in scenario.arrivals.values():
        group = found.setdefault(group_key(arrival.lane, arrival.direction), {})
        for station in stations_in(scenario.routes[arrival.route].steps):
            group.setdefault(station)
    return {key: tuple(stations) for key, stations in found.items()}


def entry_stations(steps: list[Step]) -> set[str]:
    """The stations a truck may visit first on a route: several when the route opens with a
    branch, and past a branch that may skip every station, the step after it too."""
    return _entries(steps)[0]


def _entries(steps: list[Step]) -> tuple[set[str], bool]:
    """(first stations, whether a truck may pass every step without visiting a station)."""
    found: set[str] = set()
    for step in steps:
        if isinstance(step, str):
            return found | {step}, False
        if isinstance(step, ReworkStep):  # goes back to a station already found
            continue
        if isinstance(step, OverflowStep):
            subs = [step.then, step.else_]
        elif isinstance(step, BranchStep):
            subs = list(step.cases.values()) + ([step.default] if step.default else [])
        else:
            subs = [option.steps for option in step.choose]
        skippable = False  # the network check guarantees a case for every value
        for sub in subs:
            stations, through = _entries(sub)
            found |= stations
            skippable = skippable or through
        if not skippable:
            return found, False
    return found, True
