"""Compiled routes: each route's steps as a chain of step objects the engine follows.

A route is compiled back to front, so every branch shares the same continuation. A truck's
``step`` is the next object of its chain: a :class:`Visit` (drive to a station), a decision
(:class:`Branch` on a truck attribute, :class:`Choose` by probability, :class:`Overflow` on a
queue length), a :class:`Rework` loop back to an earlier step, or the :class:`Finish` at the
route's destination.
:meth:`gatesim.model.engine.Replication.forward` walks the chain.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate
from typing import Any

import numpy as np

from gatesim.core.trucks import FIXED_ATTRIBUTES, Truck
from gatesim.model.network import Network
from gatesim.model.routes import stations_in
from gatesim.scenario.schema import (
    BranchStep,
    ChooseStep,
    OverflowStep,
    ReworkStep,
    Scenario,
    Step,
    rework_target,
)
from gatesim.stations.base import Station

__all__ = [
    "Branch",
    "Choose",
    "Finish",
    "Overflow",
    "Rework",
    "Routes",
    "Visit",
    "compile_routes",
    "next_station",
]


class Visit:
    """Drive to ``station`` (``travel``: minutes from each place a truck may come from)."""

    __slots__ = ("arrive", "name", "next", "station", "travel", "vn")

    def __init__(self, station: Station, nxt: Any, travel: dict[str, float]) -> None:
        self.station, self.next = station, nxt
        self.name, self.arrive = station.name, station.arrive  # bound once, used every move
        self.travel = travel
        self.vn = station.spec.side == "VN"


class Branch:
    """Follow the case named by the truck's value of ``attr`` (else ``default``)."""

    __slots__ = ("attr", "cases", "default", "fixed")

    def __init__(self, attr: str, cases: dict[str, Any], default: Any) -> None:
        self.attr, self.cases, self.default = attr, cases, default
        self.fixed = attr in FIXED_ATTRIBUTES  # a slot of Truck, else an entry of Truck.attrs

    def follow(self, truck: Truck) -> Any:
        value = getattr(truck, self.attr) if self.fixed else truck.attrs.get(self.attr, "")
        return self.cases.get(value, self.default)


class Choose:
    """Pick an option by probability, from the route step's own random stream."""

    __slots__ = ("_block", "_i", "cumulative", "options", "rng")

    def __init__(self, cumulative: list[float], options: list[Any], rng: np.random.Generator):
        self.cumulative, self.options, self.rng = cumulative, options, rng
        self._block: list[float] = []
        self._i = 0

    def pick(self) -> Any:
        if self._i >= len(self._block):
            self._block = self.rng.random(256).tolist()
            self._i = 0
        u = self._block[self._i]
        self._i += 1
        index = min(bisect_right(self.cumulative, u), len(self.options) - 1)
        return self.options[index]


class Overflow:
    """``then`` while more than ``waiting`` trucks wait at ``station``, else ``else_``."""

    __slots__ = ("else_", "station", "then", "waiting")

    def __init__(self, station: Station, waiting: int, then: Any, else_: Any) -> None:
        self.station, self.waiting, self.then, self.else_ = station, waiting, then, else_

    def follow(self) -> Any:
        return self.then if len(self.station.queue) > self.waiting else self.else_


class Rework:
    """Back to ``target`` (an earlier step's chain) with probability ``p``, at most ``max``
    times per truck; else on to ``next``. One uniform draw per pass, from the step's own
    random stream, whether or not the truck may still loop (common random numbers).

    ``loops`` counts the returns of the trucks between their first pass and their leaving
    this step; a truck that leaves the system inside the loop (lost, reneged) keeps its entry.
    """

    __slots__ = ("_block", "_i", "loops", "max", "next", "p", "rng", "target")

    def __init__(self, p: float, most: int, nxt: Any, rng: np.random.Generator) -> None:
        self.p, self.max, self.next, self.rng = p, most, nxt, rng
        self.target: Any = None  # set once the earlier steps are compiled
        self.loops: dict[Truck, int] = {}
        self._block: list[float] = []
        self._i = 0

    def follow(self, truck: Truck) -> Any:
        if self._i >= len(self._block):
            self._block = self.rng.random(256).tolist()
            self._i = 0
        u = self._block[self._i]
        self._i += 1
        done = self.loops.get(truck, 0)
        if u < self.p and done < self.max:
            self.loops[truck] = done + 1
            return self.target
        if done:
            del self.loops[truck]
        return self.next


class Finish:
    """The route's destination (a sink node; ``travel``: minutes from each place a truck may
    come from, as :class:`Visit`)."""

    __slots__ = ("node", "travel")

    def __init__(self, node: str, travel: dict[str, float]) -> None:
        self.node, self.travel = node, travel


class _Zero(dict[str, float]):
    """No roads: every move takes no time."""

    def __missing__(self, key: str) -> float:
        return 0.0


class Routes:
    """The compiled routes of one replication: ``start`` by route name, and ``arrive_ids``,
    the ids of the stations' bound ``arrive`` methods that road trips call (to find the trucks
    on roads, :mod:`gatesim.model.conservation`)."""

    def __init__(
        self,
        scenario: Scenario,
        stations: dict[str, Station],
        network: Network,
        rng: Callable[[str], np.random.Generator],
    ) -> None:
        self._stations, self._network, self._rng = stations, network, rng
        self.arrive_ids: set[int] = set()
        self.start: dict[str, Any] = {}
        for name, route in scenario.routes.items():
            if all(s in stations for s in stations_in(route.steps)):  # a part's routes only
                finish = Finish(route.destination, self._travel_to(route.destination))
                steps = self._compile(route.steps, finish, f"route/{name}")
                self.start[name] = steps

    def _travel_to(self, target: str) -> dict[str, float]:
        """Travel minutes to ``target`` by origin (0 for every place in an abstract network)."""
        if self._network.abstract:  # every place listed: a lookup, not a __missing__ call
            return _Zero.fromkeys(self._network.graph.nodes, 0.0)
        return {a: m for (a, b), m in self._network.travel_min.items() if b == target}

    def _compile(self, steps: list[Step], cont: Any, path: str) -> Any:
        waiting: dict[int, list[Rework]] = {}  # rework steps by the index they go back to
        for i in range(len(steps) - 1, -1, -1):
            step = steps[i]
            if isinstance(step, ReworkStep):
                target = rework_target(steps, i)
                assert target is not None  # the scenario check refuses the others
                rework = Rework(step.rework.p, step.rework.max, cont, self._rng(f"{path}/{i}"))
                waiting.setdefault(target, []).append(rework)
                cont = rework
                continue
            cont = self._compile_step(step, cont, f"{path}/{i}")
            for rework in waiting.pop(i, []):
                rework.target = cont
        return cont

    def _compile_step(self, step: Step, cont: Any, path: str) -> Any:
        if isinstance(step, str):
            visit = Visit(self._stations[step], cont, self._travel_to(step))
            self.arrive_ids.add(id(visit.arrive))
            return visit
        if isinstance(step, BranchStep):
            cases = {
                value: self._compile(sub, cont, f"{path}/{value}")
                for value, sub in step.cases.items()
            }
            default = (
                self._compile(step.default, cont, f"{path}/default")
                if step.default is not None
                else None
            )
            return Branch(step.branch, cases, default)
        if isinstance(step, OverflowStep):
            return Overflow(
                self._stations[step.if_queue_above.station],
                step.if_queue_above.waiting,
                self._compile(step.then, cont, f"{path}/then"),
                self._compile(step.else_, cont, f"{path}/else"),
            )
        assert isinstance(step, ChooseStep)
        options = [self._compile(o.steps, cont, f"{path}/{j}") for j, o in enumerate(step.choose)]
        cumulative = list(accumulate(o.p for o in step.choose))
        return Choose(cumulative, options, self._rng(path))


def compile_routes(
    scenario: Scenario,
    stations: dict[str, Station],
    network: Network,
    rng: Callable[[str], np.random.Generator],
) -> Routes:
    """Compile every route whose stations are all in ``stations`` (a part of the scenario
    compiles its own routes only); ``rng(name)`` gives a ``choose`` step its random stream."""
    return Routes(scenario, stations, network, rng)


def next_station(truck: Truck) -> Station | None:
    """The station the truck goes to next (None: its destination), its decisions taken now and
    kept (``truck.step`` becomes that visit, or the finish), so the engine's ``forward`` follows
    the same path (blocking after service, :mod:`gatesim.stations.blocking`)."""
    step = truck.step
    while True:
        kind = type(step)
        if kind is Visit:
            truck.step = step
            return step.station
        if kind is Branch:
            step = step.follow(truck)
        elif kind is Choose:
            step = step.pick()
        elif kind is Overflow:
            step = step.follow()
        else:
            truck.step = step
            return None
