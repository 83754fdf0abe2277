"""Preemptive-resume priority (``priority: {by, order, preempt: true}``).

A truck that arrives while every server is busy takes the server of the lowest-class truck in
service (the one that started last among those) when its own class ranks strictly higher. The
interrupted truck goes back to the head of its class in the queue and later resumes: its
service then lasts what remained of it (resume, not repeat; no new draw).

Waits: a truck's wait is all its time in the queue, before its first start and after each
interruption, counted once (the part booked at an interrupted start is taken back).
Per-visit records (``records.visits``) hold one row per stretch of service (an interrupted
stretch ends at the interruption; the next row's ``arrive_min`` is set back by the wait so far,
so ``start - arrive`` is the truck's wait up to that stretch).
The schema allows ``preempt`` only on a ``discipline: priority`` station without a calendar
and without impatience (overtime booking and reneging assume an uninterrupted service).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gatesim.core.records import Records
from gatesim.core.trucks import Truck
from gatesim.stations.queues import PriorityQueue

if TYPE_CHECKING:
    from gatesim.stations.base import Station

__all__ = ["Preemption", "bind_preemption"]


class Preemption:
    """The trucks in service of one preemptive station and the remaining work of those
    interrupted. Invariant: ``serving`` holds exactly the trucks whose service runs now, each
    with its scheduled end and start; a completion event whose end does not match is stale."""

    def __init__(self, station: Station, queue: PriorityQueue) -> None:
        self.station = station
        self.queue = queue
        self.serving: dict[Truck, tuple[float, float]] = {}  # truck -> (end, start)
        self.remaining: dict[Truck, float] = {}
        self._draw = type(station).service_time.__get__(station)
        self._arrive = station.arrive
        self._done = station._done

    def service_time(self, truck: Truck) -> float:
        """The remaining service of a resumed truck, else a new draw; remembered as running."""
        duration = self.remaining.pop(truck, None)
        if duration is None:
            duration = self._draw(truck)
        now = self.station.env._now
        self.serving[truck] = (now + duration, now)
        return duration

    def done(self, truck: Truck) -> None:
        """A service completion: the station's own, unless the service was interrupted since."""
        entry = self.serving.get(truck)
        if entry is None or entry[0] != self.station.env._now:
            return  # stale: this stretch of service was interrupted
        del self.serving[truck]
        self._done(truck)

    def arrive(self, truck: Truck) -> None:
        """An arrival that finds every server busy interrupts a lower class, then arrives."""
        st = self.station
        now = st.env._now
        if st.in_service >= st.servers and self.serving:
            rank = self.queue.rank(truck)
            victim = max(self.serving, key=lambda t: (self.queue.rank(t), self.serving[t][1]))
            if self.queue.rank(victim) > rank:
                self._interrupt(victim, now)
        self._arrive(truck)

    def _interrupt(self, victim: Truck, now: float) -> None:
        st = self.station
        end, start = self.serving.pop(victim)
        self.remaining[victim] = end - now
        waited = start - victim.visit_t
        if start >= st.warmup:  # take back the wait booked at that start: counted at resume
            st.wait_sum -= waited
            st.wait_n -= 1
        if st._visits is not None:
            _cut_visit_row(st._visits, victim.id, start, now)
        victim.visit_t = now - waited
        st.in_service -= 1
        st.busy_monitor.update(now, st.in_service)
        self.queue.push_first(victim)
        st.queue_changed(now)


def _cut_visit_row(
    rows: Records | list[tuple[Any, ...]], truck_id: int, start: float, now: float
) -> None:
    """The interrupted stretch's visit row (the last one of the truck) ends now, not as drawn."""
    for i in range(len(rows) - 1, -1, -1):
        row = rows[i]
        if row[0] == truck_id and row[3] == start:
            rows[i] = (*row[:4], now)
            return


def bind_preemption(station: Station) -> None:
    """Route the station's service draws, completions and arrivals through a
    :class:`Preemption` (only stations with ``preempt: true`` pay for it)."""
    queue = station.queue
    assert isinstance(queue, PriorityQueue)  # the schema allows preempt with priority only
    preemption = Preemption(station, queue)
    station.service_time = preemption.service_time  # type: ignore[method-assign]
    station._plain_service = False
    station._done = preemption.done
    station.arrive = preemption.arrive  # type: ignore[method-assign]
