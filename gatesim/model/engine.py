"""One replication: build (stations, routes, arrivals), run the SimPy environment, collect.

Phases, as in desmod: ``build`` wires everything and validates before time 0, ``run`` advances
the environment to the horizon, ``collect`` turns counters into a :class:`RunResult`.
Trucks are handed from station to station by :meth:`Replication.forward`; travel along roads is
one timeout per move with a non-zero travel time.
"""

from __future__ import annotations

import dataclasses
import gc
import time
from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from heapq import heappush
from itertools import accumulate
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
from simpy.events import NORMAL

from gatesim.core.calendar import Calendar, utc_offset_minutes
from gatesim.core.loop import FastEnvironment
from gatesim.core.randomness import stream
from gatesim.core.results import RunResult, StreamInfo
from gatesim.core.trucks import FIXED_ATTRIBUTES, Truck
from gatesim.model import arrivals as arrival_streams
from gatesim.model.backlog import with_backlog
from gatesim.model.components import Component, components
from gatesim.model.network import Network, build_network
from gatesim.model.returns import ReturnTrips
from gatesim.model.stages import pipeline
from gatesim.scenario.schema import BranchStep, ChooseStep, OverflowStep, Scenario, Step
from gatesim.stations.base import Station, StationContext
from gatesim.stations.registry import station_outcomes, validate_station_specs

MINUTES_PER_DAY = 1440.0


class ConservationError(RuntimeError):
    """A truck was created but is neither cleared, lost nor in the system: an engine bug."""


# --------------------------------------------------------------------------- compiled routes
class _Visit:
    __slots__ = ("arrive", "name", "next", "station", "travel", "vn")

    def __init__(self, station: Station, nxt: Any, travel: dict[str, float]) -> None:
        self.station, self.next = station, nxt
        self.name, self.arrive = station.name, station.arrive  # bound once, used every move
        self.travel = travel  # minutes to this station from each place a truck may come from
        self.vn = station.spec.side == "VN"


class _Branch:
    __slots__ = ("attr", "cases", "default", "fixed")

    def __init__(self, attr: str, cases: dict[str, Any], default: Any) -> None:
        self.attr, self.cases, self.default = attr, cases, default
        self.fixed = attr in FIXED_ATTRIBUTES  # a slot of Truck, else an entry of Truck.attrs

    def follow(self, truck: Truck) -> Any:
        value = getattr(truck, self.attr) if self.fixed else truck.attrs.get(self.attr, "")
        return self.cases.get(value, self.default)


class _Choose:
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


class _Overflow:
    __slots__ = ("else_", "station", "then", "waiting")

    def __init__(self, station: Station, waiting: int, then: Any, else_: Any) -> None:
        self.station, self.waiting, self.then, self.else_ = station, waiting, then, else_

    def follow(self) -> Any:
        return self.then if len(self.station.queue) > self.waiting else self.else_


class _Zero(dict[str, float]):
    """No roads: every move takes no time."""

    def __missing__(self, key: str) -> float:
        return 0.0


class _Finish:
    __slots__ = ("node",)

    def __init__(self, node: str) -> None:
        self.node = node


class _Handoff:
    """A visit to a station of a later pipeline stage: the truck leaves this stage here."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key  # the route position ("route/<name>/<step>...") the next stage resumes at


#: A truck handed to a later pipeline stage: (time it left, hourly snapshots and reports the
#: stage it left had taken by then, the truck).
Handoff = tuple[float, int, int, Truck]


class _Observed:
    """One kind of observer (hourly snapshots or daily reports) of a pipeline stage.

    ``taken`` counts the observers taken here; a hand-over stamps the truck with it. ``pending``
    and ``unseen`` hold the trucks taken over from the stage before that it still counted at
    its observer number ``taken`` (the stamp is > ``taken``): this stage leaves them out."""

    __slots__ = ("pending", "taken", "unseen")

    def __init__(self, streams: int) -> None:
        self.taken = 0
        self.pending: deque[tuple[int, int]] = deque()  # (stamp, stream), stamps ascending
        self.unseen = [0] * streams  # per stream: trucks in ``pending``

    def expect(self, stamp: int, stream: int) -> None:
        """A truck taken over with ``stamp`` (observers the stage before had taken)."""
        self.pending.append((stamp, stream))
        self.unseen[stream] += 1

    def unseen_now(self) -> list[int]:
        """Per stream, the taken-over trucks the stage before counts at this observer; the
        observer is then taken."""
        pending, unseen = self.pending, self.unseen
        while pending and pending[0][0] <= self.taken:
            unseen[pending.popleft()[1]] -= 1
        self.taken += 1
        return unseen


#: Heap priority of a taken-over truck's arrival: before every other event at the same time
#: (SimPy's lowest is URGENT - 1), and ordered among themselves by the head's hand-over order.
HANDOFF = -2


# --------------------------------------------------------------------------- the replication
class Replication:
    """One independent run of a scenario with its own named random streams."""

    def __init__(
        self,
        scenario: Scenario,
        replication: int = 0,
        seed: int | None = None,
        network: Network | None = None,
        component: Component | None = None,
        stage: int | None = None,
    ) -> None:
        self.scenario = scenario
        self.replication = replication
        self.seed = scenario.seed if seed is None else seed
        self.component = component
        # A pipeline stage (gatesim.model.stages): stage 0 generates the arrivals and hands
        # trucks for the next stage over to ``outbox``; that stage takes them through ``take``.
        self.stage = stage
        self.outbox: list[Handoff] = []
        self._station_types = validate_station_specs(scenario)
        self.network = network or build_network(scenario, station_outcomes(self._station_types))
        if component is not None:  # one independent part: its stations and streams only
            own = component.stations if stage is None else component.stages[stage]
            self._station_types = {n: self._station_types[n] for n in own}
        self.env = FastEnvironment()
        self._call = self.env.call_in
        self._land = self._clear  # bound once: a road trip to the sink is (..., _land, truck)
        self._heap, self._eid = self.env._heap, self.env._eid  # road trips push directly
        self._abstract = self.network.abstract
        self._travel_min = self.network.travel_min
        self._build_streams()
        self._build_stations()
        self._build_routes()
        self._build_arrivals()
        self._build_observers()

    # ------------------------------------------------------------------ build
    def _rng(self, name: str) -> np.random.Generator:
        return stream(self.seed, self.replication, name)

    def _build_streams(self) -> None:
        s = self.scenario
        self.streams = [
            StreamInfo(name, a.lane, a.direction, a.cargo) for name, a in s.arrivals.items()
        ]
        n = len(self.streams)
        self._warmup, self._days = s.warmup_min, s.days  # properties, read once per truck
        # Plain lists on the hot path (a numpy element update costs ~3x a list one); the
        # result record turns them into arrays.
        self.arrived = [0] * n
        self.cleared = [0] * n
        self.lost = [0] * n
        self.in_system = [0] * n
        self.cleared_after_warmup = [0] * n
        self.cleared_by_day_stream = [[0] * n for _ in range(s.days)]
        self.cleared_by_day_hour = [[0] * 24 for _ in range(s.days)]
        self.tis = array("d")
        self.tis_stream = array("l")
        self.tis_created = array("d")
        self.tis_closed = array("d")  # waiting for opening of each sample (opening_wait)
        self.truck_rows: list[tuple[Any, ...]] | None = [] if s.records.trucks else None
        self.visit_rows: list[tuple[Any, ...]] | None = [] if s.records.visits else None
        self.live: dict[int, Truck] = {}
        self.handed_out = [0] * n  # trucks handed over to a later pipeline stage
        self.handed_in = [0] * n  # trucks taken over from an earlier stage
        self._handoff_seq = 0
        # see take(); reports count by (stream, side): index k + n for trucks on the VN side
        self._snapshots, self._reports = _Observed(n), _Observed(2 * n)
        self.on_vn = [0] * n  # loaded trucks at, or heading for, a place in Vietnam
        self._vn_side = {name: spec.side == "VN" for name, spec in s.nodes.items()}
        self._vn_side.update({name: spec.side == "VN" for name, spec in s.stations.items()})
        self.returns = ReturnTrips(s, self.streams, self._rng, self._call, self._vn_side)
        self._wall = 0.0  # seconds spent in advance()

    def _build_stations(self) -> None:
        s = self.scenario
        offset = utc_offset_minutes(s.timezone, s.start_date)
        always = Calendar.unrestricted()
        calendars = {
            name: Calendar.compile(spec, s.start_date, s.days, offset)
            for name, spec in s.calendars.items()
        }
        self.stations: dict[str, Station] = {}
        for name, (cls, params) in self._station_types.items():
            spec = s.stations[name]
            station = cls(name, spec, params)
            station.bind(
                StationContext(
                    env=self.env,
                    rng=self._rng(f"station/{name}"),
                    calendar=calendars[spec.calendar] if spec.calendar else always,
                    forward=self.forward,
                    lose=self._lose,
                    warmup=s.warmup_min,
                    visits=self.visit_rows,
                    substream=self._substreams(name),
                )
            )
            self.stations[name] = station

    def _travel_to(self, target: str) -> dict[str, float]:
        """Travel minutes to ``target`` by origin (0 for every place in an abstract network)."""
        if self._abstract:
            return _Zero()
        return {a: m for (a, b), m in self._travel_min.items() if b == target}

    def _build_routes(self) -> None:
        self._road_ends = {id(self._land)}  # ids of what road trips call (+ each _Visit.arrive)
        self._resume_at: dict[str, _Visit] = {}  # route position -> its visit (for take-overs)
        used = None
        if self.component is not None:
            specs = [self.scenario.arrivals[k] for k in self.component.streams]
            used = {a.route for a in specs} | {a.returns.route for a in specs if a.returns}
        self.route_start = {
            name: self._compile(route.steps, _Finish(route.destination), f"route/{name}")
            for name, route in self.scenario.routes.items()
            if used is None or name in used
        }
        self.returns.bind(self.route_start, self.forward, self.stations, lambda: self.env._now)

    def _compile(self, steps: list[Step], cont: Any, path: str) -> Any:
        """Compile steps back to front so every branch shares the same continuation."""
        for i in range(len(steps) - 1, -1, -1):
            cont = self._compile_step(steps[i], cont, f"{path}/{i}")
        return cont

    def _compile_step(self, step: Step, cont: Any, path: str) -> Any:
        if isinstance(step, str):
            if step not in self.stations:  # a station of another pipeline stage
                return _Handoff(path)
            visit = _Visit(self.stations[step], cont, self._travel_to(step))
            self._road_ends.add(id(visit.arrive))
            self._resume_at[path] = visit
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
            return _Branch(step.branch, cases, default)
        if isinstance(step, OverflowStep):  # a cut keeps the station with its deciders
            return _Overflow(
                self.stations.get(step.if_queue_above.station),  # type: ignore[arg-type]
                step.if_queue_above.waiting,
                self._compile(step.then, cont, f"{path}/then"),
                self._compile(step.else_, cont, f"{path}/else"),
            )
        assert isinstance(step, ChooseStep)
        options = [self._compile(o.steps, cont, f"{path}/{j}") for j, o in enumerate(step.choose)]
        cumulative = list(accumulate(o.p for o in step.choose))
        return _Choose(cumulative, options, self._rng(path))

    def _build_arrivals(self) -> None:
        """Generate every stream, then merge them into one time-ordered callback chain.

        Only Python lists survive the build (the generated arrays are dropped), so the year
        does not hold every arrival twice.

        A component piece still generates every stream and keeps the whole arrival chain, so
        truck ids (the arrival's place in the chain) and the order of its own events, ties
        included, are those of the whole scenario; arrivals of other streams only schedule
        the next arrival."""
        s = self.scenario
        self.arrived_after_warmup = np.zeros(len(s.arrivals), dtype=np.int64)
        if self.stage:  # a later pipeline stage: its trucks come from the stage before
            self._arrival_times, self._arrival_stream = [], []
            self._channels, self._attribute_values = [], []
            return
        generated = [
            with_backlog(
                arrival_streams.generate(
                    s, spec, self._rng(f"arrivals/{name}"), self._attribute_streams(name)
                ),
                spec,
                self._backlog_streams(name),
            )
            for name, spec in s.arrivals.items()
        ]
        times = [g.times for g in generated]
        all_times = np.concatenate(times) if times else np.zeros(0)
        stream_ix = np.concatenate(
            [np.full(len(t), i, dtype=np.int64) for i, t in enumerate(times)]
        )
        order = np.argsort(all_times, kind="stable")
        self._arrival_times = all_times[order].tolist()
        self._arrival_stream = stream_ix[order].tolist()
        self._next_arrival = 0
        self._stream_position = [0] * len(generated)
        self._channels = [[g.channel_names[c] for c in g.channels.tolist()] for g in generated]
        # Per stream: (attribute, value of each truck) as lists, so a truck reads list items.
        self._attribute_values = [
            [
                (name, [names[i] for i in index.tolist()])
                for name, (names, index) in g.attributes.items()
            ]
            for g in generated
        ]
        specs = list(s.arrivals.values())
        own = set(s.arrivals) if self.component is None else set(self.component.streams)
        self._active = [name in own for name in s.arrivals]
        self._count_offered(times)
        for k, active in enumerate(self._active):
            if not active:  # never read: drop another component's truck data
                self._channels[k], self._attribute_values[k] = [], []
        self._origins = [s.routes[a.route].origin for a in specs]
        self._starts = [self.route_start.get(a.route) for a in specs]
        self._schedule_next_arrival()

    def _count_offered(self, times: list[npt.NDArray[np.float64]]) -> None:
        """Arrivals each own stream offers at or after the warm-up, counted from the generated
        times (every one of them arrives: nothing is lost before the route's first step), so
        the hot path carries no extra counter."""
        for k, stream_times in enumerate(times):
            if self._active[k]:
                self.arrived_after_warmup[k] = int((stream_times >= self._warmup).sum())

    def _substreams(self, station: str) -> Callable[[str], np.random.Generator]:
        return lambda sub: self._rng(f"station/{station}/{sub}")

    def _backlog_streams(self, stream_name: str) -> Callable[[str], np.random.Generator]:
        return lambda part: self._rng(f"arrivals/{stream_name}/backlog/{part}")

    def _attribute_streams(self, stream_name: str) -> Callable[[str], np.random.Generator]:
        return lambda attribute: self._rng(f"arrivals/{stream_name}/{attribute}")

    def _truck_attributes(self, k: int, position: int) -> dict[str, str] | None:
        attributes = self._attribute_values[k]
        if not attributes:
            return None
        return {name: values[position] for name, values in attributes}

    def _build_observers(self) -> None:
        s = self.scenario
        self.backlog_at_report = np.zeros((s.days, len(self.streams)), dtype=np.int64)
        self.vn_side_at_report = np.zeros((s.days, len(self.streams)), dtype=np.int64)
        self.in_system_by_hour = np.zeros((s.days, 24), dtype=np.int64)
        self.queue_by_hour = {
            name: np.zeros((s.days, 24), dtype=np.int64) for name in self.stations
        }
        hours, minutes = (int(x) for x in s.report_time.split(":"))
        self._report_offset = hours * 60.0 + minutes
        self._call(self._report_offset, self._report)
        self._call(0, self._hourly_snapshot)
        if s.warmup_min > 0:
            self._call(s.warmup_min, self._end_warmup)

    # ------------------------------------------------------------------ truck movement
    def _schedule_next_arrival(self) -> None:
        i = self._next_arrival
        if i < len(self._arrival_times):
            self._call(self._arrival_times[i] - self.env._now, self._on_arrival)

    def _on_arrival(self, _arg: object) -> None:
        i = self._next_arrival
        self._next_arrival = i + 1
        k = self._arrival_stream[i]
        if not self._active[k]:  # another component's truck
            self._schedule_next_arrival()
            return
        position = self._stream_position[k]
        self._stream_position[k] = position + 1
        info = self.streams[k]
        truck = Truck(
            i,
            info.name,
            k,
            info.lane,
            info.direction,
            info.cargo,
            self._channels[k][position],
            self.env._now,
            self._origins[k],
            self._truck_attributes(k, position),
        )
        truck.step = self._starts[k]
        truck.on_vn = self._vn_side[truck.node]
        self.on_vn[k] += truck.on_vn
        self.arrived[k] += 1
        self.in_system[k] += 1
        if self.truck_rows is not None:
            self.live[truck.id] = truck
        if self.returns.pairs:  # backhaul: a truck waiting in the far yard may carry it
            self.returns.load_arrived(truck)
        self._schedule_next_arrival()
        self.forward(truck)

    def forward(self, truck: Truck) -> None:
        """Send a truck to the next station of its route (or to the sink), resolving branches."""
        step = truck.step
        while True:
            kind = type(step)
            if kind is _Visit:  # the common case, inlined: a road trip to the next station
                if step.vn is not truck.on_vn:
                    self._cross(truck, step.vn)
                truck.step = step.next
                minutes = step.travel[truck.node]
                truck.node = step.name
                if minutes > 0.0:  # call_in(minutes, step.arrive, truck), inlined
                    heappush(
                        self._heap,
                        (self.env._now + minutes, NORMAL, next(self._eid), step.arrive, truck),
                    )
                else:
                    step.arrive(truck)
                return
            if kind is _Branch:  # step.follow(truck), inlined
                attr = step.attr
                value = getattr(truck, attr) if step.fixed else truck.attrs.get(attr, "")
                step = step.cases.get(value, step.default)
            elif kind is _Choose:
                step = step.pick()
            elif kind is _Overflow:
                step = step.follow()
            elif kind is _Handoff:
                self._hand_off(truck, step.key)
                return
            else:
                self._to_sink(truck, step.node)
                return

    def _cross(self, truck: Truck, vn: bool) -> None:
        """The truck heads for a place on the other side of the border."""
        if truck.empty:
            self.returns.cross(truck, vn)
            return
        truck.on_vn = vn
        self.on_vn[truck.stream_index] += 1 if vn else -1

    def _to_sink(self, truck: Truck, sink: str) -> None:
        """Drive to the route's destination and clear there: now, or after one road trip."""
        minutes = 0.0 if self._abstract else self._travel_min[(truck.node, sink)]
        truck.node = sink
        if minutes > 0.0:  # call_in(minutes, self._land, truck), inlined
            heappush(
                self._heap, (self.env._now + minutes, NORMAL, next(self._eid), self._land, truck)
            )
        else:
            self._clear(truck)

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
        if self.returns.active:
            self.returns.delivered(truck, now)

    # ------------------------------------------------------------------ pipeline stages
    def _hand_off(self, truck: Truck, key: str) -> None:
        """The truck leaves for a later stage, which resumes its route at ``key``.

        It goes with how many hourly snapshots and reports this stage has taken: those counted
        it here, the later stage counts it in the following ones (exact even when it leaves
        at the very time of a snapshot, before or after it)."""
        k = truck.stream_index
        self.in_system[k] -= 1
        self.on_vn[k] -= truck.on_vn
        self.handed_out[k] += 1
        truck.step = key
        if self.truck_rows is not None:
            self.live.pop(truck.id, None)
        self.outbox.append((self.env._now, self._snapshots.taken, self._reports.taken, truck))

    def handed_over(self) -> list[Handoff]:
        """The trucks handed over since the last call, in hand-over order."""
        trucks, self.outbox = self.outbox, []
        return trucks

    def take(self, handoffs: list[Handoff]) -> None:
        """Schedule the trucks handed over by the stage before (departures >= now, in its order).

        Each truck's road trip to its first station here is one heap entry, at the head of
        its time (the head's hand-over order breaks ties). It is in this stage's system from
        now on, but the snapshots and reports that the stage before took while it still held
        the truck leave it out here (:class:`_Observed`).
        """
        heap, resume_at = self._heap, self._resume_at
        snapshots, reports = self._snapshots, self._reports
        for departed, snapshots_seen, reports_seen, truck in handoffs:
            visit = resume_at[truck.step]
            truck.step = visit.next
            arrives = departed + visit.travel[truck.node]
            truck.node = visit.name
            heappush(heap, (arrives, HANDOFF, self._handoff_seq, visit.arrive, truck))
            self._handoff_seq += 1
            k = truck.stream_index
            self.in_system[k] += 1
            truck.on_vn = visit.vn
            self.on_vn[k] += visit.vn
            self.handed_in[k] += 1
            snapshots.expect(snapshots_seen, k)
            # counted here by its side until it arrives, so left out of reports by that side
            reports.expect(reports_seen, k + len(self.streams) * visit.vn)
            if self.truck_rows is not None:
                self.live[truck.id] = truck

    def _lose(self, truck: Truck) -> None:
        if truck.empty:
            self.returns.lost(truck)
            return
        k = truck.stream_index
        self.lost[k] += 1
        self.in_system[k] -= 1
        self.on_vn[k] -= truck.on_vn
        if self.returns.active:
            self.returns.lost_load(truck)
        if self.truck_rows is not None:
            self._record_truck(truck, self.env.now, "lost")

    def _record_truck(self, truck: Truck, when: float, outcome: str) -> None:
        assert self.truck_rows is not None
        self.live.pop(truck.id, None)
        self.truck_rows.append(_truck_row(truck, when, outcome))

    # ------------------------------------------------------------------ observers
    def _report(self, _arg: object) -> None:
        day = int(self.env.now // MINUTES_PER_DAY)
        unseen = self._reports.unseen_now()
        n = len(self.streams)
        unseen_vn = unseen[n:]
        self.backlog_at_report[day] = [
            inside - u - v
            for inside, u, v in zip(self.in_system, unseen[:n], unseen_vn, strict=True)
        ]
        self.vn_side_at_report[day] = [
            inside - v for inside, v in zip(self.on_vn, unseen_vn, strict=True)
        ]
        self.returns.report(day)
        if day + 1 < self.scenario.days:
            self._call(MINUTES_PER_DAY, self._report)

    def _hourly_snapshot(self, _arg: object) -> None:
        now = self.env.now
        day, hour = int(now // MINUTES_PER_DAY), int(now % MINUTES_PER_DAY // 60)
        self.in_system_by_hour[day, hour] = sum(self.in_system) - sum(self._snapshots.unseen_now())
        for name, station in self.stations.items():
            self.queue_by_hour[name][day, hour] = len(station.queue)
        if now + 60.0 < self.scenario.horizon_min:
            self._call(60.0, self._hourly_snapshot)

    def _end_warmup(self, _arg: object) -> None:
        for station in self.stations.values():
            station.reset_statistics(self.env.now)

    # ------------------------------------------------------------------ run and collect
    def run(self) -> RunResult:
        self.advance(self.scenario.horizon_min)
        return self.finish()

    def advance(self, until: float) -> None:
        """Process every event before ``until`` (pipeline stages advance a day at a time).

        Running in steps processes the same events in the same order as one run: each stop
        only adds a sentinel, whose event id shifts later ids without reordering them."""
        started = time.perf_counter()
        if until > self.env._now:
            with _older_objects_frozen():
                self.env.run(until=until)
        self._wall += time.perf_counter() - started

    def finish(self) -> RunResult:
        started = time.perf_counter()
        result = self._collect()
        result.wall_seconds = self._wall + time.perf_counter() - started
        return result

    def release(self) -> None:
        """Drop what only the run needed (arrival lists, pending events, live trucks).

        The stations and the engine refer to each other through bound methods, so a finished
        replication is freed by the cycle collector, maybe late; this frees the bulk at once.
        """
        self._arrival_times, self._arrival_stream = [], []
        self._channels, self._attribute_values = [], []
        self.env._queue.clear()
        self.live = {}

    def _collect(self) -> RunResult:
        s, now = self.scenario, self.env.now
        self._check_conservation()
        if self.truck_rows is not None:
            for truck in sorted(self.live.values(), key=lambda t: t.id):
                self.truck_rows.append(_truck_row(truck, float("nan"), "in_system"))
        return RunResult(
            scenario=s.name,
            replication=self.replication,
            seed=self.seed,
            days=s.days,
            warmup_min=s.warmup_min,
            horizon_min=s.horizon_min,
            streams=self.streams,
            arrived_by_stream=_ints(self.arrived),
            cleared_by_stream=_ints(self.cleared),
            lost_by_stream=_ints(self.lost),
            in_system_by_stream=_ints(self.in_system),
            cleared_after_warmup_by_stream=_ints(self.cleared_after_warmup),
            arrived_after_warmup_by_stream=self.arrived_after_warmup,
            cleared_by_day_stream=_ints(self.cleared_by_day_stream),
            cleared_by_day_hour=_ints(self.cleared_by_day_hour),
            backlog_at_report=self.backlog_at_report,
            vn_side_at_report=self.vn_side_at_report,
            empty_by_stream=self.returns.counts.copy(),
            empty_at_report=self.returns.at_report,
            empty_tis_sum_min=np.asarray(self.returns.tis_sum, dtype=np.float64),
            in_system_by_hour=self.in_system_by_hour,
            queue_by_hour=self.queue_by_hour,
            time_in_system_min=np.frombuffer(self.tis, dtype=np.float64).copy(),
            time_in_system_stream=np.asarray(self.tis_stream, dtype=np.int64),
            time_in_system_created_min=np.frombuffer(self.tis_created, dtype=np.float64).copy(),
            waiting_for_opening_min=np.frombuffer(self.tis_closed, dtype=np.float64).copy(),
            stations={name: st.statistics(now) for name, st in self.stations.items()},
            station_types={name: s.stations[name].type for name in self.stations},
            station_gaps={name: st.conservation_gap() for name, st in self.stations.items()},
            trucks=self.truck_rows,
            visits=self.visit_rows,
            meta=s.result_meta(),
        )

    def _on_road(self) -> int:
        """Trucks on a road: road trips still on the heap (``(..., _Visit.arrive, truck)`` to a
        station, ``(..., _land, truck)`` to the sink; no other entry holds those methods)."""
        ends = self._road_ends
        return sum(1 for entry in self._heap if entry[4] is not None and id(entry[3]) in ends)

    def _check_conservation(self) -> None:
        total = sum(self.arrived) + sum(self.handed_in) - sum(self.handed_out)
        in_system = sum(self.in_system)
        accounted = sum(self.cleared) + sum(self.lost) + in_system
        if total != accounted or min(self.in_system) < 0:
            raise ConservationError(f"arrived {total} != cleared + lost + in system {accounted}")
        empties = self.returns.conservation_error()
        if empties is not None or min(self.on_vn, default=0) < 0:
            raise ConservationError(empties or "negative count of trucks on the VN side")
        present = self._on_road() + sum(st.inside() for st in self.stations.values())
        moving = in_system + self.returns.moving()  # loaded trucks and empties not parked
        if present != moving:
            raise ConservationError(
                f"{moving} trucks (loaded and empty) in the system but {present} found at "
                "stations or on roads (a station kept or dropped a truck without handing it on)"
            )
        leaks = {
            n: st.conservation_gap() for n, st in self.stations.items() if st.conservation_gap()
        }
        if leaks:
            raise ConservationError(f"station conservation broken: {leaks}")


@contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """Leave the objects that exist before a run out of the cycle collector's passes during it.

    A full pass otherwise walks every object of the imported modules (~100 ms each; a year
    triggers 7-10 of them, and they slow decoding a pipeline stage's trucks). Objects made
    during the run are collected as usual; the frozen ones are collectable again afterwards.
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


def _truck_row(truck: Truck, when: float, outcome: str) -> tuple[Any, ...]:
    """One row of the per-truck records, in TRUCK_COLUMNS order."""
    return (
        truck.id,
        truck.stream,
        truck.lane,
        truck.direction,
        truck.cargo,
        truck.channel,
        truck.created,
        when,
        outcome,
    )


def _ints(values: list[Any]) -> npt.NDArray[np.int64]:
    return np.asarray(values, dtype=np.int64)


def simulate(
    scenario: Scenario, replication: int = 0, seed: int | None = None, fork: bool = False
) -> RunResult:
    """Run one replication of ``scenario`` and return its measurements.

    A long run is cut into two pipeline stages (:func:`gatesim.model.stages.pipeline`) that
    advance day by day, serially or, with ``fork``, side by side in two processes
    (:mod:`gatesim.model.pipeline`). Otherwise a scenario made of independent parts
    (:func:`gatesim.model.components.components`) is run one part at a time and the parts
    merged (:func:`merge_pieces`), exactly as a process pool or Dask runs them side by side.
    Either way the result never depends on the executor.
    """
    staged = pipeline(scenario)
    if staged is not None:
        from gatesim.model.pipeline import run_stages  # it builds on this module

        return merge_pieces(scenario, run_stages(scenario, replication, staged, seed, fork))
    parts = components(scenario)
    count = len(parts)
    if count <= 1:
        return Replication(scenario, replication, seed).run()
    pieces = [simulate_piece(scenario, replication, i, seed) for i in range(count)]
    return merge_pieces(scenario, pieces)


def simulate_piece(
    scenario: Scenario, replication: int, piece: int, seed: int | None = None
) -> RunResult:
    """Run component number ``piece`` of one replication alone (its stations and streams).

    Its random draws, truck ids and event order (ties included) are those the same trucks
    have in the whole scenario; arrays by stream keep every stream (zero for other parts).
    """
    part = components(scenario)[piece]
    run = Replication(scenario, replication, seed, component=part)
    result = run.run()
    run.release()  # the next piece should not find this one's arrivals still held
    return result


def merge_pieces(scenario: Scenario, pieces: list[RunResult]) -> RunResult:
    """One replication's result from its pieces: its components (lanes) or its pipeline
    stages, given in component or stage order.

    Counts and hourly/daily arrays are summed; station rows follow the scenario's station
    order. The merge does not depend on how the replication was cut: time-in-system samples
    are sorted by creation time, stream and time in system (rows equal in all three are
    interchangeable), so every sum over them adds in the same order; truck and visit records
    are sorted by truck id (a stable sort: a truck's visits keep their order). The merged run
    time is the sum of the pieces' run times.
    """
    if len(pieces) == 1:
        return pieces[0]
    first = pieces[0]
    order = [name for name in scenario.stations if any(name in p.stations for p in pieces)]
    owner = {name: p for p in pieces for name in p.stations}

    merged: dict[str, Any] = {
        attr: sum((getattr(p, attr) for p in pieces[1:]), getattr(first, attr).copy())
        for attr in SUMMED_FIELDS
    }
    merged.update(_joined_in_canonical_order(pieces))
    merged.update(
        {attr: {name: getattr(owner[name], attr)[name] for name in order} for attr in _BY_STATION}
    )
    for attr in _RECORDS:  # None when the records were not kept (the same in every piece)
        kept = getattr(first, attr) is not None
        rows = (row for p in pieces for row in getattr(p, attr))
        merged[attr] = sorted(rows, key=_TRUCK_ID) if kept else None
    merged["wall_seconds"] = sum(p.wall_seconds for p in pieces)
    return dataclasses.replace(first, **merged)


def _joined_in_canonical_order(pieces: list[RunResult]) -> dict[str, Any]:
    """The pieces' time-in-system samples, concatenated and sorted (see merge_pieces)."""
    joined = {attr: np.concatenate([getattr(p, attr) for p in pieces]) for attr in _JOINED}
    keys = [joined[attr] for attr in reversed(_JOINED)]  # lexsort: the last key is primary
    canonical = np.lexsort(keys)
    return {attr: values[canonical] for attr, values in joined.items()}


#: How ``merge_pieces`` combines each RunResult field; the rest are the same in every piece.
#: SUMMED_FIELDS are the truck counts (by stream, day, hour), equal however a run is split.
SUMMED_FIELDS = (
    "arrived_by_stream",
    "cleared_by_stream",
    "lost_by_stream",
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
)
#: _JOINED are per-truck samples, sorted by the last column first (see merge_pieces).
_JOINED = (
    "time_in_system_min",
    "time_in_system_stream",
    "time_in_system_created_min",
    "waiting_for_opening_min",
)
_BY_STATION = ("queue_by_hour", "stations", "station_types", "station_gaps")
_RECORDS = ("trucks", "visits")
_TRUCK_ID = itemgetter(0)  # the first column of TRUCK_COLUMNS and VISIT_COLUMNS
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
    *_JOINED,
    *_BY_STATION,
    *_RECORDS,
    *_SHARED,
    "wall_seconds",
}, "a RunResult field has no merge rule in merge_pieces"
