"""The expected flow of trucks through a scenario's stations, from its arrival means and
route shares, without simulating: visits per station and moves between places.

Used to order the parts of a split replication by expected work
(:mod:`gatesim.experiment.parts`) and written as the network-and-flows table of a run.
Station outcomes (an alarm, a failed read) are counted as equally likely, since their shares
are only known once simulated.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from gatesim.model.arrivals import hourly_means
from gatesim.model.renewal import expected_renewal_trucks
from gatesim.scenario.schema import (
    ArrivalSpec,
    BranchStep,
    ChooseStep,
    OverflowStep,
    ReworkStep,
    Scenario,
    Step,
    rework_target,
)

__all__ = ["FIXED", "ORIGIN", "Flow", "expected_visits"]

ORIGIN = "\0origin"  # the virtual place every route starts from
FIXED = ("lane", "direction", "cargo", "stream")


@dataclass
class Flow:
    """What the walk over a component's routes found."""

    visits: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    #: expected trucks moving from a place (station or ORIGIN) straight to a station
    edges: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    #: places that must share a stage: the deciders of each choose / overflow step
    together: list[set[str]] = field(default_factory=list)


def expected_visits(scenario: Scenario, streams: tuple[str, ...]) -> Flow:
    """Expected visits per station over the horizon, and the station-to-station moves."""
    flow = Flow()
    deciders: dict[int, set[str]] = defaultdict(set)
    observed: dict[int, str] = {}
    for name in streams:
        arrival = scenario.arrivals[name]
        if arrival.interarrival is not None:
            mass = expected_renewal_trucks(scenario, arrival)
        else:
            mass = float(hourly_means(scenario, arrival).sum())
        steps = scenario.routes[arrival.route].steps
        _walk(steps, {ORIGIN: mass}, name, arrival, flow, deciders, observed)
    for key, places in deciders.items():
        flow.together.append(places | ({observed[key]} if key in observed else set()))
    return flow


def _walk(
    steps: list[Step],
    flows: dict[str, float],
    name: str,
    arrival: ArrivalSpec,
    flow: Flow,
    deciders: dict[int, set[str]],
    observed: dict[int, str],
) -> dict[str, float]:
    """Push ``flows`` (expected trucks by the place they come from) through ``steps``."""
    for i, step in enumerate(steps):
        if not flows:
            return flows
        if isinstance(step, str):
            total = sum(flows.values())
            flow.visits[step] += total
            for place, mass in flows.items():
                flow.edges[place, step] += mass
            flows = {step: total}
            continue
        if isinstance(step, ReworkStep):
            _walk_rework(steps, i, flows, (name, arrival, flow, deciders, observed))
            continue
        branches: list[tuple[float, list[Step]]]
        if isinstance(step, BranchStep):
            branches = _branch_shares(step, name, arrival)
        elif isinstance(step, ChooseStep):
            deciders[id(step)].update(flows)
            branches = [(o.p, o.steps) for o in step.choose]
        else:
            assert isinstance(step, OverflowStep)
            deciders[id(step)].update(flows)
            observed[id(step)] = step.if_queue_above.station
            branches = [(0.5, step.then), (0.5, step.else_)]
        merged: dict[str, float] = defaultdict(float)
        for share, sub in branches:  # zero shares too: a cut must hold for every way
            scaled = {place: mass * share for place, mass in flows.items()}
            for place, mass in _walk(sub, scaled, name, arrival, flow, deciders, observed).items():
                merged[place] += mass
        flows = dict(merged)
    return flows


def _walk_rework(
    steps: list[Step], index: int, flows: dict[str, float], walk_args: tuple[Any, ...]
) -> None:
    """The extra passes of a rework loop: a share p of the trucks goes back and walks the
    loop's steps again, p² a second time… up to ``max``; every truck leaves the loop at last,
    so the flow after it is the flow before it."""
    step = steps[index]
    assert isinstance(step, ReworkStep)
    start = rework_target(steps, index)
    assert start is not None
    back = {place: mass * step.rework.p for place, mass in flows.items()}
    for _ in range(step.rework.max):
        if not back or sum(back.values()) <= 0:
            return
        out = _walk(steps[start:index], back, *walk_args)
        back = {place: mass * step.rework.p for place, mass in out.items()}


def _branch_shares(
    step: BranchStep, name: str, arrival: ArrivalSpec
) -> list[tuple[float, list[Step]]]:
    """(share, steps) of each way out of a branch, for trucks of one stream."""
    attr = step.branch
    if attr in FIXED:
        value = name if attr == "stream" else getattr(arrival, attr)
        shares = {value: 1.0}
    elif attr == "channel":
        shares = _normalised(arrival.channels)
    elif attr in arrival.attributes:
        shares = _normalised(arrival.attributes[attr])
    else:  # an outcome a station sets: every case (and the default) counted as equally likely
        ways = list(step.cases.values()) + ([step.default] if step.default is not None else [])
        return [(1.0 / len(ways), sub) for sub in ways]
    out: list[tuple[float, list[Step]]] = []
    for value, share in shares.items():
        sub = step.cases.get(value, step.default)
        out.append((share, sub if sub is not None else []))
    return out


def _normalised(shares: dict[str, float]) -> dict[str, float]:
    total = sum(shares.values())
    return {k: v / total for k, v in shares.items()} if total > 0 else {}
