"""The platform's dispatch: registered trucks released to the gate while the gate side is short.

The gate-side level is the number of the platform's trucks between dispatch and the start of
their first station: those on the road to it (dispatched minus the station's arrivals, exact
because the schema allows no other route to visit that station) plus its waiting queue. While
the level is below ``below`` the first truck in dispatch order goes: in registration order (a
FIFO of the moments trucks became eligible), or by priority of a truck attribute with
registration order within a class (:mod:`gatesim.stations.queues`).

A release is always a scheduled call at the current time, never made inside the station's
loop: it runs when a truck becomes eligible, when the station's queue shrinks below the level
(the station's ``watch_queue``), and when a batch of released trucks should have reached the
station (one travel time later), since a truck that starts at once changes no queue.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from gatesim.core.loop import FastEnvironment
from gatesim.core.trucks import Truck
from gatesim.scenario.platform import DispatchSpec
from gatesim.stations.base import Station
from gatesim.stations.queues import make_queue

__all__ = ["Dispatch"]


class Dispatch:
    """Eligible trucks in dispatch order and the rule that releases them.

    ``release(truck)`` is called for each released truck (the platform hands it on);
    ``window_min`` is the span over which :meth:`recent` counts releases (None: not counted,
    no response rule asks).
    """

    def __init__(
        self,
        spec: DispatchSpec,
        station: Station,
        travel_min: float,
        env: FastEnvironment,
        release: Callable[[Truck], None],
        window_min: float | None,
    ) -> None:
        if spec.order == "priority":
            self._eligible = make_queue("priority", spec.priority)
        else:
            self._eligible = make_queue("fifo", None)
        self._station, self._below, self._travel = station, spec.below, travel_min
        self._env, self._release, self._window = env, release, window_min
        self._pending = False
        self.dispatched = 0
        self._times: deque[float] = deque()  # release times within the window
        station.watch_queue(self._queue_changed)

    def __len__(self) -> int:
        return len(self._eligible)

    def level(self) -> int:
        """The platform's trucks on the way to the gate-side station or in its queue."""
        station = self._station
        return self.dispatched - station.arrived + len(station.queue)

    def add(self, truck: Truck) -> None:
        """``truck`` is registered: it may be released from now on."""
        self._eligible.push(truck)
        self._request()

    def recent(self, now: float) -> int:
        """Releases within the last ``window_min`` minutes (up to now)."""
        assert self._window is not None, "no response rule: release times are not kept"
        times, start = self._times, now - self._window
        while times and times[0] < start:
            times.popleft()
        return len(times)

    def _queue_changed(self, now: float, waiting: int) -> None:
        if waiting < self._below and self._eligible:
            self._request()

    def _request(self) -> None:
        if not self._pending:
            self._pending = True
            self._env.call_in(0.0, self._run)

    def _run(self, _arg: object) -> None:
        self._pending = False
        self.release_while_short()

    def _recheck(self, _arg: object) -> None:
        self.release_while_short()

    def release_while_short(self) -> None:
        """Release trucks in order while the gate-side level is below the set level."""
        released = 0
        now = self._env._now
        # The level is read afresh before each release: the station's counts change inside
        # _release (a truck that reaches it at once).
        while self._eligible and self.level() < self._below:
            truck = self._eligible.pop()
            self.dispatched += 1
            if self._window is not None:
                self._times.append(now)
            released += 1
            self._release(truck)
        if released and self._travel > 0.0:
            self._env.call_in(self._travel, self._recheck)
