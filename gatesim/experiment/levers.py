"""Who controls a lever: the side of the border a planned change belongs to.

A station is run by its side (``side: VN | CN``) unless ``run_by`` names the other one (the
Chinese acceptance of Vietnamese trucks waits in Vietnam but is China's lever); a calendar by
the sides of the stations that keep it (both: a bilateral decision, such as the opening hours
of the crossing); a road by the
sides of its two ends (the 0-line road between the two control areas is bilateral). Anything
else a plan could vary (arrivals, demand, costs) is not a lever of either side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gatesim.core.errors import UsageError
from gatesim.experiment.targets import Dimension
from gatesim.scenario.schema import Scenario

__all__ = ["SIDES", "check_sides", "lever_side", "override_sides", "policy_side"]

SIDES = ("VN", "CN", "bilateral")
NOT_A_LEVER = "neither side"


def lever_side(scenario: Scenario, path: str) -> str:
    """``VN``, ``CN``, ``bilateral`` or ``neither side`` for a scenario field path."""
    section, _, rest = path.partition(".")
    name = rest.partition(".")[0]
    if section == "stations" and name in scenario.stations:
        station = scenario.stations[name]
        return station.run_by or station.side
    if section == "calendars" and name in scenario.calendars:
        return _joint(
            {s.run_by or s.side for s in scenario.stations.values() if s.calendar == name}
        )
    if section == "roads" and name in scenario.roads:
        road = scenario.roads[name]
        return _joint({_place_side(scenario, road.from_), _place_side(scenario, road.to)})
    return NOT_A_LEVER


def _place_side(scenario: Scenario, place: str) -> str:
    if place in scenario.stations:
        station = scenario.stations[place]
        return station.run_by or station.side
    return scenario.nodes[place].side


def _joint(sides: set[str]) -> str:
    if not sides:
        return NOT_A_LEVER
    return sides.pop() if len(sides) == 1 else "bilateral"


def check_sides(scenario: Scenario, dimensions: Sequence[Dimension], side: str | None) -> None:
    """With ``side``, every varied field must be that side's lever (one-line error if not)."""
    if side is None:
        return
    for dim in dimensions:
        owner = lever_side(scenario, dim.path)
        if owner != side:
            raise UsageError(
                "vary",
                f"{dim.path} is a lever of {owner}; {{side}} {side} varies only {side} levers",
            )


def override_sides(scenario: Scenario, overrides: Mapping[str, object]) -> dict[str, str]:
    """The side each ``--set`` field path belongs to, so a plan run on top of a policy says
    whose decision it is (24-hour opening: ``bilateral``)."""
    return {path: lever_side(scenario, path) for path in overrides if "." in path}


def policy_side(scenario: Scenario, overrides: Mapping[str, object]) -> str:
    """Whose decision a set of ``--set`` changes is taken together: both sides' opening hours
    changed at once (24-hour opening) is ``bilateral`` though each calendar is one side's."""
    sides = set(override_sides(scenario, overrides).values()) - {NOT_A_LEVER}
    return _joint(sides)
