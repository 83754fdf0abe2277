"""Blocking after service (``when_full: block``): a full station holds trucks back upstream
instead of losing them.

A station with ``when_full: block`` and a finite ``queue_capacity`` owns a :class:`RoomGate`.
A truck that finishes service upstream and whose next station is such a station, full, stays
on its upstream server (the server is *blocked*: occupied, not working) until the gate admits
it; a truck that reaches the gate any other way (from an arrival stream, after a hold, from a
type with its own loop) waits on the *approach road* in front of it. Both wait in one FIFO
line: the first held back is the first admitted.

Road trips: the place is reserved when the gate admits the truck, before it travels. A truck
blocked upstream keeps its server until admitted, then drives; the reservation counts as an
occupied waiting place meanwhile, so the truck always finds its place on arrival.

Invariant: a truck admitted by the gate (``reserved``) is never turned away, so with ``block``
no truck is lost at the station (a type's own ``admit`` rule still applies).

A set of stations whose servers all hold blocked trucks that wait for one another's full
waiting rooms can never move again: :func:`find_deadlock` names it, and the run stops with one
line (a :class:`gatesim.core.errors.ScenarioError`) instead of running on with a frozen line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from gatesim.core.errors import ScenarioError
from gatesim.core.monitors import TimeWeighted
from gatesim.core.trucks import Truck

if TYPE_CHECKING:
    from gatesim.stations.base import Station

__all__ = ["RoomGate", "find_deadlock"]


class RoomGate:
    """The finite waiting room of a blocking station, and the line of trucks held back for it.

    ``waiters``: (upstream station or None for the approach road, truck), first held first.
    ``reserved``: trucks admitted and on their way (they count as occupying a waiting place).
    """

    def __init__(self, station: Station, enter: Callable[[Truck], None]) -> None:
        self.station = station
        self.enter = enter  # the station's own arrival, without the gate
        self.waiters: deque[tuple[Station | None, Truck]] = deque()
        self.reserved: set[Truck] = set()
        self.on_approach = 0
        self.approach_monitor = TimeWeighted(0.0, 0.0)
        self._pending = False
        self._wake = float("inf")

    def has_room(self, now: float) -> bool:
        """Would a truck admitted now find a place (a reserved truck takes one)?"""
        st = self.station
        taken = len(self.reserved)
        capacity = st.spec.queue_capacity
        assert capacity is not None  # the schema refuses ``block`` without it
        if len(st.queue) + taken < capacity:
            return True
        return st.in_service + taken < st.servers and st.is_open(now)

    def admits_now(self, now: float) -> bool:
        """Room and nobody held back ahead (the line is first-held, first-admitted)."""
        return not self.waiters and self.has_room(now)

    def arrive(self, truck: Truck) -> None:
        """A truck reaches the station: in if reserved or there is room, else the approach."""
        reserved = self.reserved
        if truck in reserved:
            reserved.discard(truck)
            self.enter(truck)
            return
        now = self.station.env._now
        if self.admits_now(now):
            self.enter(truck)
            return
        self.waiters.append((None, truck))
        self.on_approach += 1
        self.approach_monitor.update(now, self.on_approach)
        self.place_may_free()

    def hold_back(self, upstream: Station, truck: Truck) -> None:
        """``truck`` finished at ``upstream`` and stays on its server until admitted."""
        self.waiters.append((upstream, truck))

    def place_may_free(self) -> None:
        """Something that may free a place happened: admit the held-back trucks in a moment
        (a zero-delay event, so the station's own loop is never re-entered)."""
        if self.waiters and not self._pending:
            self._pending = True
            self.station._call(0.0, self._admit, None)

    def _admit(self, _arg: object) -> None:
        self._pending = False
        st = self.station
        now = st.env._now
        while self.waiters and self.has_room(now):
            upstream, truck = self.waiters.popleft()
            if upstream is None:
                self.on_approach -= 1
                self.approach_monitor.update(now, self.on_approach)
                self.enter(truck)
            else:
                self.reserved.add(truck)
                upstream.release_blocked(truck)
        if self.waiters and st._gated:  # closed: try again when it opens
            opens = st.next_start(now)
            if now < opens < self._wake:
                self._wake = opens
                st._call(opens - now, self._reopen, None)

    def _reopen(self, _arg: object) -> None:
        self._wake = float("inf")
        self.place_may_free()


def stuck(station: Station) -> bool:
    """Every server holds a blocked truck, nothing else can free a place (no reneging)."""
    return (
        station.blocked > 0
        and station.blocked >= station.servers
        and station._impatience is None
        and (station._gate is None or not station._gate.has_room(station.env._now))
    )


def find_deadlock(stations: list[Station]) -> list[str]:
    """Names of the stations that can never move again (empty when none): the largest set of
    stuck stations whose blocked trucks all wait for stations of the same set."""
    dead = {st.name: st for st in stations if stuck(st)}
    changed = True
    while changed:
        changed = False
        for name, st in list(dead.items()):
            if any(target.name not in dead for target in st._blocked_on.values()):
                del dead[name]
                changed = True
    return sorted(dead)


def deadlock_error(names: list[str], now: float) -> ScenarioError:
    """The one line a deadlocked run stops with."""
    return ScenarioError(
        None,
        f"stations.{names[0]}.when_full",
        f"deadlock at {now:.1f} min: every server of {', '.join(names)} holds a truck blocked "
        "by another of them (cyclic blocking with full waiting rooms); give a waiting room "
        "more places or use when_full: lose",
    )
