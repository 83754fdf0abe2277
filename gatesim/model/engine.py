"""One replication: build (stations, routes, arrivals), run the environment, collect.

The kernel of gatesim is one replication in one environment. Phases, as in desmod: the
constructor wires everything and validates before time 0, :meth:`Replication.run` advances
the environment to the horizon and collects the counters into a :class:`RunResult`. Trucks
are handed from station to station by :meth:`Replication.forward`; travel along roads is one
heap entry per move with a non-zero travel time.

A replication may simulate a :class:`gatesim.model.parts.Part` of the scenario only (its
stations and streams); running parts side by side is the business of the layer that runs
replications (:mod:`gatesim.experiment.parts`).
"""

from __future__ import annotations

import gc
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import numpy as np

from gatesim.core.calendar import Calendar, utc_offset_minutes
from gatesim.core.loop import FastEnvironment
from gatesim.core.randomness import stream
from gatesim.core.records import Records
from gatesim.core.results import RunResult, StreamInfo
from gatesim.core.trucks import Truck
from gatesim.model.arrival_chain import ArrivalChain
from gatesim.model.collect import collect, truck_records, truck_row, visit_rows
from gatesim.model.conservation import ConservationError, check_conservation
from gatesim.model.network import Network, build_network
from gatesim.model.observers import MINUTES_PER_DAY, Observers
from gatesim.model.parts import Part
from gatesim.model.platform import Platforms
from gatesim.model.returns import ReturnTrips
from gatesim.model.routing import (
    Branch,
    Choose,
    Overflow,
    Rework,
    Visit,
    compile_routes,
    next_station,
)
from gatesim.scenario.schema import Scenario
from gatesim.stations.base import Station, StationContext
from gatesim.stations.class_statistics import bind_class_statistics, class_values
from gatesim.stations.registry import station_outcomes, validate_station_specs

__all__ = ["MINUTES_PER_DAY", "ConservationError", "Replication", "simulate"]


class Replication:
    """One independent run of a scenario (or of one :class:`Part` of it) with its own named
    random streams."""

    def __init__(
        self,
        scenario: Scenario,
        replication: int = 0,
        seed: int | None = None,
        network: Network | None = None,
        part: Part | None = None,
    ) -> None:
        self.scenario = scenario
        self.replication = replication
        self.seed = scenario.seed if seed is None else seed
        types = validate_station_specs(scenario)
        self.network = network or build_network(scenario, station_outcomes(types))
        if part is not None:  # its stations only; other parts' trucks never come here
            types = {name: types[name] for name in part.stations}
        self.env = FastEnvironment()
        self._call_at = self.env.call_at  # road trips: one heap entry each
        self._land = self._clear  # bound once: a road trip to the sink calls it
        self._build_ledger()
        self._build_stations(types)
        routes = compile_routes(scenario, self.stations, self.network, self._rng)
        self._road_ends = routes.arrive_ids | {id(self._land)}
        self.returns.bind(routes.start, self.forward, self.stations, lambda: self.env._now)
        self._returns_active = self.returns.active  # fixed once bound; asked per truck
        self._starts = [routes.start.get(a.route) for a in scenario.arrivals.values()]
        own = set(scenario.arrivals) if part is None else set(part.streams)
        self.arrivals = ArrivalChain(scenario, self.env, self.streams, self._rng, own)
        self.platforms = self._build_platforms() if scenario.platform else None
        first_move: Callable[[Truck], None] = self.forward
        if self.platforms is not None:  # their streams' trucks go to the platform first
            first_move = self.platforms.first_move(self.forward)
        self.arrivals.start(self._enter, first_move)
        self.observers = Observers(
            scenario,
            self.env,
            self.stations,
            self.in_system,
            self.on_vn,
            self.returns,
            self.platforms,
        )
        self.observers.start()
        if self.platforms is not None:
            self.platforms.start()

    # ------------------------------------------------------------------ build
    def _rng(self, name: str) -> np.random.Generator:
        return stream(self.seed, self.replication, name)

    def _build_ledger(self) -> None:
        """The replication's truck counts (plain lists: the hot path updates them per truck;
        the result turns them into arrays)."""
        s = self.scenario
        self.streams = [
            StreamInfo(name, a.lane, a.direction, a.cargo) for name, a in s.arrivals.items()
        ]
        n = len(self.streams)
        self._warmup, self._days = s.warmup_min, s.days  # properties, read once per truck
        self.arrived = [0] * n
        self.cleared = [0] * n
        self.lost = [0] * n
        self.reneged = [0] * n  # left a station's queue impatient (gatesim.stations.impatience)
        self.balked = [0] * n  # would not join a station's queue
        self.reneged_after_warmup = [0] * n
        self.balked_after_warmup = [0] * n
        self.in_system = [0] * n
        self.on_vn = [0] * n  # loaded trucks at, or heading for, a place in Vietnam
        self.cleared_after_warmup = [0] * n
        self.cleared_by_day_stream = [[0] * n for _ in range(s.days)]
        self.cleared_by_day_hour = [[0] * 24 for _ in range(s.days)]
        self.tis = array("d")
        self.tis_stream = array("l")
        self.tis_created = array("d")
        self.tis_closed = array("d")  # waiting for opening of each sample (opening_wait)
        self.truck_rows: Records | None = truck_records() if s.records.trucks else None
        self.visit_rows = visit_rows(s.records.visits, s.records.visits_day)
        self.live: dict[int, Truck] = {}
        self._vn_side = {name: spec.side == "VN" for name, spec in s.nodes.items()}
        self._vn_side.update({name: spec.side == "VN" for name, spec in s.stations.items()})
        self.returns = ReturnTrips(s, self.streams, self._rng, self.env.call_in, self._vn_side)

    def _build_stations(self, types: dict[str, Any]) -> None:
        s = self.scenario
        offset = utc_offset_minutes(s.timezone, s.start_date)
        always = Calendar.unrestricted()
        calendars = {
            name: Calendar.compile(spec, s.start_date, s.days, offset)
            for name, spec in s.calendars.items()
        }
        self.stations: dict[str, Station] = {}
        blocking = any(s.stations[name].when_full == "block" for name in types)
        classes = class_values(s)
        for name, (cls, params) in types.items():
            spec = s.stations[name]
            station = cls(name, spec, params)
            station.bind(
                StationContext(
                    env=self.env,
                    rng=self._rng(f"station/{name}"),
                    calendar=calendars[spec.calendar] if spec.calendar else always,
                    forward=self.forward,
                    lose=self._lose,
                    renege=partial(self._leave, self.reneged, self.reneged_after_warmup, "reneged"),
                    balk=partial(self._leave, self.balked, self.balked_after_warmup, "balked"),
                    warmup=s.warmup_min,
                    visits=self.visit_rows,
                    substream=_substreams(self._rng, name),
                    next_station=next_station if blocking else None,
                    peers=lambda: list(self.stations.values()),
                )
            )
            if s.class_statistics:
                station.by_class = bind_class_statistics(station, s.class_statistics, classes)
            self.stations[name] = station

    def _build_platforms(self) -> Platforms:
        """The platforms (``platform:``) of this replication's part: arriving trucks of their
        streams go to them first (gatesim.model.platform)."""
        record = self._record_truck if self.truck_rows is not None else None
        ledger = (self.in_system, self.on_vn, self.forward, record)
        return Platforms(
            self.scenario, self.streams, self.stations, self.network, self.env, self._rng, ledger
        )

    # ------------------------------------------------------------------ truck movement
    def _enter(self, truck: Truck) -> None:
        """A truck of the arrival chain enters the system at its route's origin."""
        k = truck.stream_index
        truck.step = self._starts[k]
        truck.on_vn = self._vn_side[truck.node]
        self.on_vn[k] += truck.on_vn
        self.arrived[k] += 1
        self.in_system[k] += 1
        if self.truck_rows is not None:
            self.live[truck.id] = truck
        if self.returns.pairs:  # backhaul: a truck waiting in the far yard may carry it
            self.returns.load_arrived(truck)

    def forward(self, truck: Truck) -> None:
        """Send a truck to the next station of its route (or to the sink), resolving branches."""
        step = truck.step
        while True:
            kind = type(step)
            if kind is Visit:  # the common case, inlined: a road trip to the next station
                if step.vn is not truck.on_vn:
                    self._cross(truck, step.vn)
                truck.step = step.next
                minutes = step.travel[truck.node]
                truck.node = step.name
                if minutes > 0.0:
                    self._call_at(self.env._now + minutes, step.arrive, truck)
                else:
                    step.arrive(truck)
                return
            if kind is Branch:  # step.follow(truck), inlined
                attr = step.attr
                value = getattr(truck, attr) if step.fixed else truck.attrs.get(attr, "")
                step = step.cases.get(value, step.default)
            elif kind is Choose:
                step = step.pick()
            elif kind is Overflow:
                step = step.follow()
            elif kind is Rework:
                step = step.follow(truck)
            else:  # the Finish: drive to the destination, clear there now or after the trip
                minutes = step.travel[truck.node]
                truck.node = step.node
                if minutes > 0.0:
                    self._call_at(self.env._now + minutes, self._land, truck)
                else:
                    self._clear(truck)
                return

    def _cross(self, truck: Truck, vn: bool) -> None:
        """The truck heads for a place on the other side of the border."""
        if truck.empty:
            self.returns.cross(truck, vn)
            return
        truck.on_vn = vn
        self.on_vn[truck.stream_index] += 1 if vn else -1

    def _clear(self, truck: Truck) -> None:
        now = self.env._now
        if now < truck.created:
            raise ConservationError(f"truck {truck.id} cleared at {now} before it arrived")
        if truck.empty:  # an empty return is counted apart, never as a cleared load
            self.returns.cleared(truck, now)
            return
        k = truck.stream_index
        self.cleared[k] += 1
        self.in_system[k] -= 1
        self.on_vn[k] -= truck.on_vn
        day = int(now // MINUTES_PER_DAY)
        if day < self._days:
            self.cleared_by_day_stream[day][k] += 1
            self.cleared_by_day_hour[day][int(now % MINUTES_PER_DAY // 60)] += 1
        warmup = self._warmup
        if now >= warmup:
            self.cleared_after_warmup[k] += 1
            if truck.created >= warmup:
                self.tis.append(now - truck.created)
                self.tis_stream.append(k)
                self.tis_created.append(truck.created)
                self.tis_closed.append(truck.closed_wait)
        if self.truck_rows is not None:
            self._record_truck(truck, now, "cleared")
        if self._returns_active:
            self.returns.delivered(truck, now)

    def _lose(self, truck: Truck) -> None:
        if truck.empty:
            self.returns.lost(truck)
            return
        k = truck.stream_index
        self.lost[k] += 1
        self.in_system[k] -= 1
        self.on_vn[k] -= truck.on_vn
        if self._returns_active:
            self.returns.lost_load(truck)
        if self.truck_rows is not None:
            self._record_truck(truck, self.env.now, "lost")

    def _leave(self, whole: list[int], measured: list[int], outcome: str, truck: Truck) -> None:
        """A loaded truck leaves the system impatient, counted in ``whole`` (and ``measured``
        after the warm-up) as ``outcome``; bound per outcome as the stations' ``renege`` and
        ``balk`` exits (stations never make an empty truck impatient)."""
        if truck.empty:
            raise ConservationError(f"empty return {truck.id} {outcome}")
        k = truck.stream_index
        whole[k] += 1
        now = self.env._now
        if now >= self._warmup:
            measured[k] += 1
        self.in_system[k] -= 1
        self.on_vn[k] -= truck.on_vn
        if self._returns_active:
            self.returns.lost_load(truck)
        if self.truck_rows is not None:
            self._record_truck(truck, now, outcome)

    def _record_truck(self, truck: Truck, when: float, outcome: str) -> None:
        assert self.truck_rows is not None
        self.live.pop(truck.id, None)
        self.truck_rows.append(truck_row(truck, when, outcome))

    # ------------------------------------------------------------------ run and collect
    def run(self) -> RunResult:
        """Process every event before the horizon, check conservation, collect the result."""
        started = time.perf_counter()
        with _older_objects_frozen():
            self.env.run(until=self.scenario.horizon_min)
        check_conservation(self, self._road_ends)
        result = collect(self)
        result.wall_seconds = time.perf_counter() - started
        return result

    def release(self) -> None:
        """Drop what only the run needed (arrival lists, pending events, live trucks).

        The stations and the engine refer to each other through bound methods, so a finished
        replication is freed by the cycle collector, maybe late; this frees the bulk at once.
        """
        self.arrivals.drop()
        self.env._queue.clear()
        self.live = {}


def _substreams(
    rng: Callable[[str], np.random.Generator], station: str
) -> Callable[[str], np.random.Generator]:
    return lambda sub: rng(f"station/{station}/{sub}")


@contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """Leave the objects that exist before a run out of the cycle collector's passes during it.

    A full pass otherwise walks every object of the imported modules, and a long run triggers
    several. Objects made during the run are collected as usual; the frozen ones are
    collectable again afterwards.
    Skipped when the caller already froze objects (unfreezing would release theirs too) or
    disabled the collector.
    """
    if not gc.isenabled() or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_and_release(build: Callable[[], Replication]) -> RunResult:
    """Build one :class:`Replication`, run it, and free it before returning its result.

    A finished replication is a web of cycles (stations hold bound methods of themselves),
    which only the cycle collector frees; a run freezes the older objects, so uncollected it
    would be frozen by the next run and outlive it too, and back-to-back replications would
    each keep every earlier one. The older objects are frozen here, before the replication
    is built, so the collection at the end walks only what the replication made."""
    with _older_objects_frozen():
        run = build()
        result = run.run()
        run.release()
        del run
        if gc.isenabled():
            gc.collect()
    return result


def simulate(scenario: Scenario, replication: int = 0, seed: int | None = None) -> RunResult:
    """Run one replication of ``scenario`` in one environment and return its measurements."""
    return run_and_release(lambda: Replication(scenario, replication, seed))
