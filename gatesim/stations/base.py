"""The station base class: a multi-server queue with opening hours, owned by the station.

The base owns the loop (arrive → queue → service → release → hand on) and all recording.
There is no SimPy process per truck: the station schedules one event per service completion
and one per re-opening, which is why gatesim schedules fewer events per visit than the
request/timeout/release idiom.

Subclasses customise behaviour by overriding one or two hooks (the full contract, what a
subclass may override and what it must keep, is in the :class:`Station` docstring):

``admit(truck) -> bool``
    False turns the truck away (counted as lost). Default: room in ``queue_capacity``.
``service_time(truck) -> float``
    Minutes of service, called exactly once as the service starts. Default: the first matching
    ``service_when`` rule, else ``service``.
``next_start(now) -> float``
    Earliest time >= now at which a waiting truck may start (opening hours by default; caps
    and appointment slots override it). The station wakes itself up at that time.
``hold_time(truck) -> float``
    Minutes the truck stays after service *without* a server (e.g. waiting for lab results).
``on_queue_change(now, waiting)``
    Called whenever the number of waiting trucks changes (yards use it for spill-back).
``extra_metrics(now) -> dict[str, float]``
    Station-specific figures added to the station's row of the KPI table.

Reneging and balking (``patience``, ``patience_by_cargo``, ``balk_at`` in the station's spec)
are the base's, for every type (:mod:`gatesim.stations.impatience`); a station without them
runs exactly the loop above.

Parameters of a subclass are declared as a pydantic model in the class attribute ``Params``;
the loader validates ``params:`` from the scenario file against it, with the usual errors.
Random draws must come from ``self.rng`` (the station's own named stream).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np
import simpy
from pydantic import BaseModel, ConfigDict

from gatesim.core.calendar import Calendar
from gatesim.core.distributions import Distribution
from gatesim.core.loop import scheduler, timed_scheduler
from gatesim.core.monitors import TimeWeighted
from gatesim.core.records import Records
from gatesim.core.trucks import Truck
from gatesim.scenario.schema import StationSpec
from gatesim.stations.blocking import RoomGate, deadlock_error, find_deadlock
from gatesim.stations.class_statistics import ClassStatistics
from gatesim.stations.impatience import Impatience
from gatesim.stations.opening_wait import book_closed_wait
from gatesim.stations.preemption import bind_preemption
from gatesim.stations.queues import ImpatientQueue, make_queue
from gatesim.stations.statistics import with_extra_metrics

SAMPLE_BLOCK = 512
S = TypeVar("S", bound="Station")


def littles_law_gap(queue_mean: float, started: float, wait_mean: float, span: float) -> float:
    """Relative gap between L (time-weighted queue) and λW (start rate × mean wait).

    Exact when the queue is empty at both ends of the span; trucks still waiting at the end (or
    already waiting at the warm-up) make it approximate, so it is reported, not enforced.
    """
    lambda_w = started / span * wait_mean if span > 0 else 0.0
    scale = max(queue_mean, lambda_w)
    return abs(queue_mean - lambda_w) / scale if scale > 1e-9 else 0.0


class NoParams(BaseModel):
    """Stations without parameters accept an empty ``params:`` only."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Sampler:
    """Draws from a distribution in blocks (one numpy call per block, deterministic per stream)."""

    __slots__ = ("_dist", "_rng", "next")

    def __init__(self, dist: Distribution, rng: np.random.Generator) -> None:
        self._dist = dist
        self._rng = rng
        #: The next draw of the current block, a C call; StopIteration when it is used up
        #: (then ``refill``). Hot loops call it directly: ``draw`` costs a Python call more.
        self.next: Callable[[], float] = iter(()).__next__

    def draw(self) -> float:
        try:
            return self.next()
        except StopIteration:
            return self.refill()

    def refill(self) -> float:
        """Start a new block (the next SAMPLE_BLOCK draws in one numpy call); its first draw."""
        self.next = iter(self._dist.sample_many(self._rng, SAMPLE_BLOCK).tolist()).__next__
        return self.next()


@dataclass
class StationContext:
    """What the engine gives a station before time 0 (late binding, checked when bound)."""

    env: simpy.Environment
    rng: np.random.Generator
    calendar: Calendar
    forward: Callable[[Truck], None]
    lose: Callable[[Truck], None]
    warmup: float
    #: visit rows (VISIT_COLUMNS) are appended here when kept (gatesim.core.records)
    visits: Records | list[tuple[Any, ...]] | None = None
    substream: Callable[[str], np.random.Generator] | None = None
    #: Where a truck that reneged / balked leaves the system (default: ``lose``).
    renege: Callable[[Truck], None] | None = None
    balk: Callable[[Truck], None] | None = None
    #: Only in a scenario with a ``when_full: block`` station: resolves a truck's next station
    #: (None: its destination), and lists every station (for the deadlock check).
    next_station: Callable[[Truck], Station | None] | None = None
    peers: Callable[[], list[Station]] | None = None

    def stream(self, name: str) -> np.random.Generator:
        """An extra named random stream of this station (independent of ``rng``)."""
        return self.substream(name) if self.substream is not None else self.rng


class Station:
    """A station of ``spec.servers`` identical servers.

    **The ledger** (what every subclass must keep): at any time ``arrived = rejected + balked
    + reneged + waiting + in_service + in_hold + departed``, where waiting is ``len(queue)``, and
    :meth:`conservation_gap` (the difference, over the station and its internal stations)
    is 0. The engine checks it at the end of every run, and checks that every truck in the
    system is inside a station (:meth:`inside`) or on a road.

    **What a subclass may override**

    * ``admit``, ``service_time``, ``hold_time``, ``next_start``, ``on_queue_change``,
      ``extra_metrics``: the hooks of the module docstring; the base keeps the ledger.
    * ``bind`` (call ``super().bind(ctx)`` first) and ``reset_statistics`` (call super).
    * ``arrive(truck)``: an advanced type that runs its own loop (e.g. a fleet of vehicles as
      SimPy processes). It keeps the ledger with the public helpers only: :meth:`accept`
      (count the arrival), :meth:`reject` (turn it away), :meth:`queue_changed` (after the
      queue changed), :meth:`begin_service` / :meth:`end_service` (a server takes / finishes
      the truck), :meth:`depart` (hand it on along its route), :meth:`record_visit` (the
      per-visit record), :meth:`set_busy` and :meth:`book_overtime` (its busy level), and
      :meth:`serve_waiting` (let the base start waiting trucks). Whoever watches its queue
      (:meth:`watch_queue`, the platform's dispatch) hears of every change made through
      ``queue_changed`` or the base's loop. It may call
      ``super().arrive(truck)`` to use the base's loop for a truck.
    * A station made of sub-stations (e.g. a manual booth behind an automatic gate) binds each
      with :meth:`add_internal` and passes trucks with :meth:`hand_to`; :meth:`inside`,
      :meth:`conservation_gap` and :meth:`reset_statistics` then cover them.
    * ``inside()`` and ``conservation_gap()`` only for trucks held where neither the queue,
      the counters nor an internal station sees them (none of the built-ins does).

    **What it must not do**: change ``arrived``, ``rejected``, ``in_service``, ``in_hold``,
    ``served`` or ``departed`` by hand, or call the engine's ``forward``/``lose`` directly.
    """

    Params: ClassVar[type[BaseModel]] = NoParams
    #: Attributes this type sets on trucks, with their possible values (routes may branch on them).
    outcomes: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: Short human description, shown by ``run_sim.py types``.
    describe: ClassVar[str] = "generic multi-server station"

    def __init__(self, name: str, spec: StationSpec, params: BaseModel) -> None:
        self.name = name
        self.spec = spec
        self.params = params
        self.servers = spec.servers
        self.queue = make_queue(spec.discipline, spec.priority)
        self.arrived = self.rejected = self.served = self.departed = 0  # whole run (conservation)
        self.arrived_measured = self.rejected_measured = 0  # after the warm-up (statistics)
        self.in_service = self.in_hold = 0
        self.wait_sum = self.wait_max = 0.0
        self.wait_n = 0
        self.internal: list[Station] = []  # sub-stations (add_internal): in the ledger
        self.reneged = self.balked = 0  # impatient trucks that left, whole run (ledger)
        self.reneged_measured = self.balked_measured = 0  # after the warm-up
        self.reneged_wait_sum = 0.0  # minutes waited by the trucks that reneged after warm-up
        #: waits and queues by class (``class_statistics:``, gatesim.stations.class_statistics)
        self.by_class: ClassStatistics | None = None

    # ------------------------------------------------------------------ binding
    def bind(self, ctx: StationContext) -> None:
        """Wire the station into a replication; called once before time 0."""
        self.env = ctx.env
        self._call = scheduler(ctx.env)  # call_in(delay, fn, truck): one heap entry, no Event
        self._call_at = timed_scheduler(ctx.env)  # call_at(time, fn, truck): service ends
        self.rng = ctx.rng
        self.calendar = ctx.calendar
        self._forward = ctx.forward
        self._lose = ctx.lose
        self.warmup = ctx.warmup
        self._visits = ctx.visits
        # Only gated stations (hours, or an overridden next_start) pay for the check.
        self._gated = (
            not ctx.calendar.always_open or type(self).next_start is not Station.next_start
        )
        self._wake_time = math.inf  # earliest pending wake-up (inf: none)
        # Gated by the calendar alone: "open now?" is answered from the cached stretch
        # [_lo, _hi) of constant state (_open) that the last query fell into.
        self._by_calendar = self._gated and type(self).next_start is Station.next_start
        self._lo = self._hi = -math.inf
        self._open = False
        self.queue_monitor = TimeWeighted(0.0, 0.0)
        self.busy_monitor = TimeWeighted(0.0, 0.0)
        self._overtime = 0.0  # busy server-minutes outside opening hours (services past closing)
        self._default = Sampler(self.spec.service, ctx.rng)
        self._rules = [
            (tuple(rule.when.items()), Sampler(rule.service, ctx.rng))
            for rule in self.spec.service_when
        ]
        self._bind_fast_paths()
        self._impatience: Impatience | None = None
        if self.spec.impatient:
            self._bind_impatience(ctx)
        self.blocked = 0  # servers holding a truck blocked after service (in ``in_service``)
        self._blocked_on: dict[Truck, Station] = {}
        self._gate: RoomGate | None = None
        self.blocked_monitor: TimeWeighted | None = None
        if ctx.next_station is not None:
            self._bind_blocking(ctx)
        if self.spec.priority is not None and self.spec.priority.preempt:
            bind_preemption(self)

    def _bind_fast_paths(self) -> None:
        """Skip hooks a type does not override (the base's loop calls them on every visit)."""
        cls = type(self)
        self._checks_admission = (
            cls.admit is not Station.admit or self.spec.queue_capacity is not None
        )
        self._holds = cls.hold_time is not Station.hold_time
        self._watches_queue = cls.on_queue_change is not Station.on_queue_change
        self._plain_service = cls.service_time is Station.service_time and not self._rules
        self._done = self._service_done

    def reset_statistics(self, now: float) -> None:
        """End of warm-up: time-weighted monitors restart; counters of waits restart."""
        self.queue_monitor.reset(now)
        self.busy_monitor.reset(now)
        if self.blocked_monitor is not None:
            self.blocked_monitor.reset(now)
        if self._gate is not None:
            self._gate.approach_monitor.reset(now)
        self._overtime = 0.0
        self.wait_sum = self.wait_max = 0.0
        self.wait_n = 0
        self.arrived_measured = self.rejected_measured = 0
        self.reneged_measured = self.balked_measured = 0
        self.reneged_wait_sum = 0.0
        if self.by_class is not None:
            self.by_class.reset(now)
        for station in self.internal:
            station.reset_statistics(now)

    # ------------------------------------------------------------------ hooks
    def admit(self, truck: Truck) -> bool:
        capacity = self.spec.queue_capacity
        return (
            capacity is None
            or len(self.queue) < capacity
            or (self.in_service < self.servers and self.is_open(self.env.now))
        )

    def service_time(self, truck: Truck) -> float:
        for conditions, sampler in self._rules:
            if all(truck.get(attr) == value for attr, value in conditions):
                return sampler.draw()
        return self._default.draw()

    def hold_time(self, truck: Truck) -> float:
        return 0.0

    def on_queue_change(self, now: float, waiting: int) -> None:
        return None

    def extra_metrics(self, now: float) -> dict[str, float]:
        """Figures of this type added to its statistics row (declare them in ``metrics``)."""
        return {}

    # ------------------------------------------------------------------ the loop
    def next_start(self, now: float) -> float:
        return self.calendar.next_open(now)

    def is_open(self, now: float) -> bool:
        """True when a waiting truck could start service right now."""
        if not self._gated:
            return True
        if self._by_calendar:
            return self._open_now(now)
        return self.next_start(now) <= now

    def _open_now(self, now: float) -> bool:
        """Calendar-only gate: ``next_start(now) <= now``; when closed, ``_hi`` is
        ``next_start(now)`` and when open, ``_hi`` is the next closing time."""
        if not self._lo <= now < self._hi:
            self._lo, self._hi, self._open = self.calendar.stretch(now)
        return self._open

    def _waited_open(self, since: float, now: float) -> bool:
        """True when ``[since, now]`` lies in the cached stretch and it is open: the closed part
        of a wait there is exactly 0.0 (``open_minutes`` is ``now - since`` within one of the
        calendar's intervals), so booking it would add nothing. The cache only ever holds a
        stretch of ``self.calendar`` (``_open_now``)."""
        return self._open and self._lo <= since and now < self._hi

    def arrive(self, truck: Truck) -> None:
        """A truck reaches the station (called by the engine at the current time)."""
        self.arrived += 1  # accept(truck), inlined (same statements)
        self.arrived_measured += 1
        if self._checks_admission and not self.admit(truck):
            self.rejected += 1  # reject(truck), inlined
            self.rejected_measured += 1
            self._lose(truck)
            return
        now = self.env._now  # the value slot: the property costs a call per visit
        truck.visit_t = now
        free = self.in_service < self.servers
        queue = self.queue
        if (
            free
            and not queue
            and (  # open now: the cached stretch when it covers now, else is_open
                not self._gated or (self._open if self._lo <= now < self._hi else self.is_open(now))
            )
        ):
            self._start(truck, now)  # fast path: nobody ahead, a server free, open
            return
        queue.push(truck)
        waiting = len(queue)  # queue_changed(now), inlined (same statements)
        self.queue_monitor.update(now, waiting)
        if self._watches_queue:
            self.on_queue_change(now, waiting)
        if free:
            self._pull(now)  # keeps the discipline's order when others already wait

    def _start(self, truck: Truck, now: float) -> None:
        """The base loop's service start: :meth:`begin_service`'s statements, inlined (a call
        per visit), then the busy level, the service draw and the service end."""
        busy = self.in_service + 1
        self.in_service = busy
        self.busy_monitor.update(now, busy)
        if self._gated and now > truck.visit_t and not self._waited_open(truck.visit_t, now):
            book_closed_wait(truck, self.calendar, now)  # waited: book the part while closed
        measured = now >= self.warmup
        if measured:
            wait = now - truck.visit_t
            if wait < 0.0:
                raise RuntimeError(f"{self.name}: truck {truck.id} starts before it arrived")
            self.wait_sum += wait
            self.wait_n += 1
            if wait > self.wait_max:
                self.wait_max = wait
        if self._plain_service:  # self._default.draw(), inlined
            sampler = self._default
            try:
                duration = sampler.next()
            except StopIteration:
                duration = sampler.refill()
        else:
            duration = self.service_time(truck)
        if measured and self._gated:  # the part of this service after closing time
            end = now + duration
            if self._open and end <= self._hi:
                # Within the cached open interval (a start always refreshes it):
                # open_minutes(now, end) is exactly end - now, so the same float is booked.
                self._overtime += duration - (end - now)
            else:
                self._overtime += duration - self.calendar.open_minutes(now, end)
        if self._visits is not None:
            self._visits.append((truck.id, self.name, truck.visit_t, now, now + duration))
        if duration < 0:
            raise ValueError(f"{self.name}: negative service time {duration}")
        # `now` is env.now here (every caller passes it): call_in(duration, ...) would push
        # the same entry; the bound method is made once.
        self._call_at(now + duration, self._done, truck)

    def _service_done(self, truck: Truck) -> None:
        now = self.env._now
        busy = self.in_service - 1
        self.in_service = busy
        self.served += 1
        self.busy_monitor.update(now, busy)
        if self.queue:
            self._pull(now)
        hold = self.hold_time(truck) if self._holds else 0.0
        if hold > 0.0:
            self.in_hold += 1
            self._call(hold, self._hold_done, truck)
        else:
            self.departed += 1
            self._forward(truck)

    def _hold_done(self, truck: Truck) -> None:
        self.in_hold -= 1
        self.departed += 1
        self._forward(truck)

    def set_busy(self, now: float, busy: float) -> None:
        """Record that ``busy`` servers work from ``now`` on (for types with their own loop)."""
        self.busy_monitor.update(now, busy)

    def overtime_minutes(self, start: float, end: float) -> float:
        """Minutes of the busy spell [start, end] outside opening hours, as statistics count
        them: 0 for a spell that began before the warm-up (the base counts its services so)."""
        if start < self.warmup or self.calendar.always_open:
            return 0.0
        return (end - start) - self.calendar.open_minutes(start, end)

    def book_overtime(self, start: float, end: float) -> None:
        """Count a server's busy spell past closing as overtime, not utilisation (for types
        with their own loop; the base books its services as they start)."""
        self._overtime += self.overtime_minutes(start, end)

    def _pull(self, now: float) -> None:
        """Start waiting trucks while servers are free and the station is open."""
        while self.queue and self.in_service < self.servers:
            if self._by_calendar:
                if not (self._open if self._lo <= now < self._hi else self._open_now(now)):
                    self._wake_at(self._hi)  # the next opening (inf: never, trucks stay)
                    return
            elif self._gated:
                start = self.next_start(now)
                if start > now:
                    self._wake_at(start)
                    return
            truck = self.queue.pop()
            waiting = len(self.queue)  # queue_changed(now), inlined (same statements)
            self.queue_monitor.update(now, waiting)
            if self._watches_queue:
                self.on_queue_change(now, waiting)
            self._start(truck, now)

    def _wake_at(self, when: float) -> None:
        """Pull waiting trucks at ``when``; an earlier request supersedes a later one."""
        if when >= self._wake_time:  # also covers inf: never opens again, trucks stay queued
            return
        self._wake_time = when
        self._call(when - self.env._now, self._wake, None)

    def _wake(self, _arg: object) -> None:
        now = self.env._now
        if now >= self._wake_time:
            self._wake_time = math.inf
        self._pull(now)  # a superseded, later wake-up is harmless: _pull re-checks

    # ------------------------------------------------------------------ blocking after service
    def _bind_blocking(self, ctx: StationContext) -> None:
        """A scenario with ``when_full: block`` (:mod:`gatesim.stations.blocking`): every
        base-loop station without a hold checks its truck's next station at the end of service;
        a blocking station puts its gate in front of its arrivals. Stations of other scenarios
        never come here, so their loop is unchanged."""
        assert ctx.next_station is not None and ctx.peers is not None
        self._next_station = ctx.next_station
        self._peers = ctx.peers
        self.blocked_monitor = TimeWeighted(0.0, 0.0)
        if not self._holds:
            self._done = self._service_done_unless_blocked
        if self.spec.when_full != "block":
            return
        if type(self).admit is Station.admit:
            self._checks_admission = False  # the gate keeps the waiting room finite
        gate = RoomGate(self, self.arrive)
        self._gate = gate
        self.arrive = gate.arrive  # type: ignore[method-assign]
        inner = self._done

        def done_then_offer(truck: Truck) -> None:
            inner(truck)
            gate.place_may_free()

        self._done = done_then_offer
        self.watch_queue(lambda _now, _waiting: gate.place_may_free())

    def _service_done_unless_blocked(self, truck: Truck) -> None:
        """End of service: on if the next station admits the truck (its place reserved), else
        the truck stays on its server, blocked, until that station's gate releases it."""
        target = self._next_station(truck)
        gate = target._gate if target is not None else None
        if gate is None:
            self._service_done(truck)
            return
        now = self.env._now
        if gate.admits_now(now):
            gate.reserved.add(truck)
            self._service_done(truck)
            return
        assert target is not None and self.blocked_monitor is not None
        self.served += 1
        self.blocked += 1
        self.blocked_monitor.update(now, self.blocked)
        self._blocked_on[truck] = target
        gate.hold_back(self, truck)
        dead = find_deadlock(self._peers())
        if dead:
            raise deadlock_error(dead, now)

    def release_blocked(self, truck: Truck) -> None:
        """The next station admitted a truck blocked here: its server is free, it drives on."""
        assert self.blocked_monitor is not None
        now = self.env._now
        del self._blocked_on[truck]
        self.blocked -= 1
        self.blocked_monitor.update(now, self.blocked)
        busy = self.in_service - 1
        self.in_service = busy
        self.busy_monitor.update(now, busy)
        self.departed += 1
        if self.queue:
            self._pull(now)
        if self._gate is not None:
            self._gate.place_may_free()
        self._forward(truck)

    # ------------------------------------------------------------------ impatient trucks
    def _bind_impatience(self, ctx: StationContext) -> None:
        """Patience and balking: their own named streams (``patience``, ``balk``), so turning
        them on leaves the service draws as they were. Only these stations pay for them: the
        queue is wrapped, and ``arrive`` is wrapped only when trucks balk."""
        spec = self.spec
        patience_rng = ctx.stream("patience")
        default = Sampler(spec.patience, patience_rng).draw if spec.patience else None
        by_cargo = {
            cargo: Sampler(dist, patience_rng).draw
            for cargo, dist in spec.patience_by_cargo.items()
        }
        fixed, balk_draw = None, None
        if isinstance(spec.balk_at, int):
            fixed = spec.balk_at
        elif spec.balk_at is not None:  # a distribution: one threshold per arriving truck
            balk_draw = Sampler(spec.balk_at, ctx.stream("balk")).draw
        self._impatience = Impatience(default, by_cargo, fixed, balk_draw)
        self._renege_exit = ctx.renege or ctx.lose
        self._balk_exit = ctx.balk or ctx.lose
        if self._impatience.reneging:
            self._waiting = ImpatientQueue(self.queue, self._join_queue)
            self.queue = self._waiting
        if self._impatience.balking:
            # An instance attribute: the routes bind ``station.arrive`` after this, so only a
            # balking station's arrivals pass through the check (its type's ``arrive`` follows).
            self.arrive = self._arrive_unless_balking  # type: ignore[method-assign]

    def _arrive_unless_balking(self, truck: Truck) -> None:
        """A truck that could not start at once and finds too many waiting balks; any other
        truck arrives as the type's ``arrive`` says."""
        assert self._impatience is not None
        if self._impatience.balks(truck, len(self.queue)) and not self._starts_at_once():
            self.arrived += 1
            self.arrived_measured += 1
            self.balked += 1
            if self.env._now >= self.warmup:
                self.balked_measured += 1
            self._balk_exit(truck)
            return
        type(self).arrive(self, truck)

    def _starts_at_once(self) -> bool:
        """Would an arriving truck start service now (a server free, nobody waiting, open)?"""
        return self.in_service < self.servers and not self.queue and self.is_open(self.env.now)

    def _join_queue(self, truck: Truck) -> tuple[Truck] | None:
        """The truck joins the queue: its patience timer (one heap entry; when the truck is
        served first, the entry finds it gone and does nothing). Returns the timer's ticket."""
        assert self._impatience is not None
        patience = self._impatience.patience(truck)
        if patience is None:
            return None
        ticket = (truck,)  # a new object per wait: a stale timer can never match a later wait
        self._call_at(self.env._now + patience, self._renege, ticket)
        return ticket

    def _renege(self, ticket: tuple[Truck]) -> None:
        """Patience ran out: the truck leaves the system if it is still waiting here."""
        truck = ticket[0]
        if not self._waiting.leave(truck, ticket):
            return  # served (or gone) first
        now = self.env._now
        self.reneged += 1
        if now >= self.warmup:
            self.reneged_measured += 1
            self.reneged_wait_sum += now - truck.visit_t
        self.queue_changed(now)
        self._renege_exit(truck)

    # ------------------------------------------------------------------ the ledger, for subclasses
    def accept(self, truck: Truck) -> float:
        """Count the truck as arrived and stamp its arrival; returns now (for ``arrive``)."""
        self.arrived += 1
        self.arrived_measured += 1
        now: float = self.env.now
        truck.visit_t = now
        return now

    def reject(self, truck: Truck) -> None:
        """Turn away a truck that has not been accepted: counted as rejected and lost."""
        self.arrived += 1
        self.arrived_measured += 1
        self.rejected += 1
        self.rejected_measured += 1
        self._lose(truck)

    def queue_changed(self, now: float) -> None:
        """Record the number of waiting trucks (``len(queue)``) after a type changed it."""
        waiting = len(self.queue)
        self.queue_monitor.update(now, waiting)
        if self._watches_queue:
            self.on_queue_change(now, waiting)

    def begin_service(self, truck: Truck, now: float) -> None:
        """A server takes the truck ``now``: it is in service; its wait since it arrived is
        measured and the part of it while closed is booked. The busy level is the type's
        (:meth:`set_busy`)."""
        self.in_service += 1
        if self._gated and now > truck.visit_t and not self._waited_open(truck.visit_t, now):
            book_closed_wait(truck, self.calendar, now)
        if now >= self.warmup:
            wait = now - truck.visit_t
            if wait < 0.0:
                raise RuntimeError(f"{self.name}: truck {truck.id} starts before it arrived")
            self.wait_sum += wait
            self.wait_n += 1
            if wait > self.wait_max:
                self.wait_max = wait

    def end_service(self, truck: Truck) -> None:
        """The truck's service is over (it is still here until :meth:`depart`)."""
        self.in_service -= 1
        self.served += 1
        self.in_hold += 1  # between service and departure, counted as held

    def depart(self, truck: Truck) -> None:
        """The truck leaves for the next step of its route (after :meth:`end_service`)."""
        self.in_hold -= 1
        self.departed += 1
        self._forward(truck)

    def record_visit(self, truck: Truck, start: float, end: float) -> None:
        """Add the visit's row to the per-visit records, when they are kept."""
        if self._visits is not None:
            self._visits.append((truck.id, self.name, truck.visit_t, start, end))

    def watch_queue(self, listener: Callable[[float, int], None]) -> None:
        """Call ``listener(now, waiting)`` after every change of the number of waiting trucks,
        after the type's own ``on_queue_change`` (the model's dispatch watches its gate-side
        station so). Bound before time 0; a station nobody watches pays nothing. The listener
        runs inside the station's loop: it must not hand trucks to the station directly
        (schedule that instead)."""
        own = self.on_queue_change if self._watches_queue else None

        def changed(now: float, waiting: int) -> None:
            if own is not None:
                own(now, waiting)
            listener(now, waiting)

        self.on_queue_change = changed  # type: ignore[method-assign]
        self._watches_queue = True

    def serve_waiting(self, now: float) -> None:
        """Start waiting trucks now if servers are free and the station may start them (call
        it after something :meth:`next_start` depends on changed)."""
        self._pull(now)

    def add_internal(self, station: S, ctx: StationContext) -> S:
        """Bind ``station`` as a part of this one (e.g. a fallback booth): its trucks count in
        :meth:`inside` and :meth:`conservation_gap`, and it restarts its statistics with this
        station. It forwards its own trucks along their routes."""
        station.bind(ctx)
        self.internal.append(station)
        return station

    def hand_to(self, station: Station, truck: Truck) -> None:
        """Pass an accepted truck to an internal station, which accounts for it from here."""
        self.departed += 1
        station.arrive(truck)

    # ------------------------------------------------------------------ results
    def statistics(self, now: float) -> dict[str, float]:
        """The station's statistics row: the figures of ``BASE_STATISTICS`` (declared in
        :mod:`gatesim.stations.statistics`, which says which are KPIs), then ``extra_metrics``.

        Waits, queues, utilisation, ``arrived_measured`` and ``blocking_share`` cover
        [warm-up, now]; ``arrived``, ``served``, ``rejected``, ``departed`` and the ``*_end``
        counts cover the whole run (they are the conservation ledger).
        """
        open_min = self.calendar.open_minutes(self.warmup, now)
        capacity = self.servers * open_min
        row = {
            "servers": float(self.servers),
            "arrived": float(self.arrived),
            "served": float(self.served),
            "rejected": float(self.rejected),
            "arrived_measured": float(self.arrived_measured),
            "blocking_share": self.rejected_measured / self.arrived_measured
            if self.arrived_measured
            else 0.0,
            "waiting_end": float(len(self.queue)),
            "in_service_end": float(self.in_service),
            "in_hold_end": float(self.in_hold),
            "departed": float(self.departed),
            "utilization": self._busy_in_open_hours(now) / capacity if capacity > 0 else math.nan,
            "overtime_hours": (self.busy_monitor.area(now) - self._busy_in_open_hours(now)) / 60.0,
            "busy_mean": self.busy_monitor.mean(now),
            "wait_mean_min": self.wait_sum / self.wait_n if self.wait_n else 0.0,
            "wait_max_min": self.wait_max,
            "started": float(self.wait_n),
            "queue_mean": self.queue_monitor.mean(now),
            "queue_max": float(self.queue_monitor.max),
            "open_hours": open_min / 60.0,
        }
        left, waited = self._waits_of_trucks_that_left()
        row["littles_law_gap"] = littles_law_gap(
            row["queue_mean"], row["started"] + left, waited, now - self.warmup
        )
        if self._impatience is not None:
            row.update(self._impatience_statistics(now))
        if self.blocked_monitor is not None:
            row.update(self._blocking_statistics(now))
        row = with_extra_metrics(row, self.extra_metrics(now), type(self).__name__)
        if self.by_class is None:
            return row
        return {**row, **self.by_class.figures(now, self.queue)}

    def _waits_of_trucks_that_left(self) -> tuple[int, float]:
        """Trucks that left the queue after the warm-up other than by service (reneged), and
        the mean wait of all that left it: Little's law counts every departure from the queue."""
        if not self.reneged_measured:
            return 0, self.wait_sum / self.wait_n if self.wait_n else 0.0
        left = self.wait_n + self.reneged_measured
        return self.reneged_measured, (self.wait_sum + self.reneged_wait_sum) / left

    def _impatience_statistics(self, now: float) -> dict[str, float]:
        """The figures of ``IMPATIENCE_STATISTICS`` (stations with patience or balking only)."""
        days = (now - self.warmup) / 1440.0
        arrived = self.arrived_measured
        return {
            "reneged": float(self.reneged),
            "balked": float(self.balked),
            "reneged_per_day": self.reneged_measured / days if days > 0 else 0.0,
            "balked_per_day": self.balked_measured / days if days > 0 else 0.0,
            "reneged_share": self.reneged_measured / arrived if arrived else 0.0,
            "balked_share": self.balked_measured / arrived if arrived else 0.0,
            "wait_reneged_mean_min": self.reneged_wait_sum / self.reneged_measured
            if self.reneged_measured
            else 0.0,
            "reneged_measured": float(self.reneged_measured),
        }

    def _blocking_statistics(self, now: float) -> dict[str, float]:
        """The figures of ``BLOCKING_STATISTICS`` (every station of a scenario with a
        ``when_full: block`` station; the approach road only at the blocking ones)."""
        assert self.blocked_monitor is not None
        row = {
            "blocked_share": self.blocked_monitor.mean(now) / self.servers,
            "blocked_end": float(self.blocked),
        }
        if self._gate is not None:
            row["approach_mean"] = self._gate.approach_monitor.mean(now)
            row["approach_end"] = float(self._gate.on_approach)
        return row

    def _busy_in_open_hours(self, now: float) -> float:
        """Busy server-minutes minus overtime: utilisation counts opening hours only (a service
        that runs past closing is overtime, not extra capacity). Overtime is booked when a
        service starts, so a service still running at the end counts all of its overtime."""
        return self.busy_monitor.area(now) - self._overtime

    def inside(self) -> int:
        """Trucks physically at the station now: waiting, in service (blocked included) or
        held, here or at an internal station, or held back on its approach road."""
        own = len(self.queue) + self.in_service + self.in_hold
        if self._gate is not None:
            own += self._gate.on_approach
        return own + sum(station.inside() for station in self.internal)

    def conservation_gap(self) -> int:
        """arrived − (rejected + own waiting, serving, held + departed), plus the internal
        stations' gaps; 0 unless a truck leaked."""
        own = len(self.queue) + self.in_service + self.in_hold
        left = self.rejected + self.balked + self.reneged  # never handed on
        gap = self.arrived - (left + own + self.departed)
        return gap + sum(station.conservation_gap() for station in self.internal)
