"""A SimPy environment that also runs plain callbacks, for the engine's and stations' own events.

gatesim's stations and engine never wait on an event: each of their events is "call this
function with this truck at time t". :meth:`FastEnvironment.call_in` puts exactly that on
SimPy's own heap as ``(time, NORMAL, eid, fn, arg)``, without an ``Event`` object or a
callbacks list; :meth:`FastEnvironment.call_at` is the one place that builds such an entry.
It takes the next event id from SimPy's counter, so it is ordered against
every other event exactly as ``env.timeout(delay, arg)`` created at the same moment would be:
results do not change, and SimPy processes (AGV loops, researchers' own processes) still work.

Invariant: every heap entry is ``(time, priority, id, fn, arg)`` and processing it is
``fn(arg)``; SimPy's own events are scheduled as ``(..., _fire, event)``. (time, priority, id)
is unique, so a comparison never reaches ``fn``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from heapq import heappop, heappush
from typing import Any, Protocol

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL, URGENT, Event


class _Stop(Exception):
    """Raised by the horizon sentinel to leave :meth:`FastEnvironment.run`."""


def _stop(_arg: Any) -> None:
    raise _Stop


class CallAt(Protocol):
    def __call__(
        self, when: float, fn: Callable[[Any], object], arg: Any = None, priority: int = NORMAL
    ) -> None: ...


def _pusher(heap: list[Any], eid: Iterator[int]) -> CallAt:
    """The one builder of a heap entry: ``call_at(when, fn, arg=None, priority=NORMAL)``.

    ``when`` must be >= now: callers compute it as ``now + delay`` with ``delay >= 0``, so a
    Timeout made now would land at the same float. The entry's place among the events at the
    same time (``priority``, then the next event id, i.e. creation order) is decided here."""

    def call_at(
        when: float, fn: Callable[[Any], object], arg: Any = None, priority: int = NORMAL
    ) -> None:
        heappush(heap, (when, priority, next(eid), fn, arg))

    return call_at


class FastEnvironment(simpy.Environment):
    """``simpy.Environment`` plus :meth:`call_in`; ``run(until=number)`` is an inlined loop."""

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self._heap: list[Any] = self._queue  # SimPy's heap, holding (time, prio, id, fn, arg)
        self.processed = 0  # events taken off the heap by run() (benchmarks count them)
        self._fire_event = self._fire  # bound once: SimPy schedules every event through it
        #: ``call_at(when, fn, arg=None, priority=NORMAL)``: call ``fn(arg)`` at time ``when``
        #: (see :func:`_pusher`); a closure over the heap and the id counter, as it runs for
        #: nearly every event.
        self.call_at: CallAt = _pusher(self._heap, self._eid)

    def call_in(self, delay: float, fn: Callable[[Any], object], arg: Any = None) -> None:
        """Call ``fn(arg)`` at ``now + delay`` (same time arithmetic and order as a Timeout)."""
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        self.call_at(self._now + delay, fn, arg)

    def schedule(self, event: Event, priority: int = NORMAL, delay: float = 0) -> None:
        """SimPy's ``schedule``; the entry names :meth:`_fire` as the function to call."""
        self.call_at(self._now + delay, self._fire_event, event, priority)

    def step(self) -> None:
        """Process the next event or plain callback (SimPy's public single step)."""
        try:
            self._now, _, _, fn, arg = heappop(self._heap)
        except IndexError:
            raise EmptySchedule from None
        fn(arg)

    def run(self, until: float | Event | None = None) -> Any:
        """As SimPy's ``run``; a numeric horizon runs the inlined loop below."""
        if until is None or isinstance(until, Event):
            return super().run(until)
        at = float(until)
        if at <= self._now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        # The sentinel sits where SimPy puts its until-event: URGENT, so events at `at` stay.
        self.call_at(at, _stop, None, URGENT)
        queue, pop = self._heap, heappop
        n = 0
        try:
            while queue:
                self._now, _, _, fn, arg = pop(queue)
                n += 1
                fn(arg)
        except _Stop:
            n -= 1  # the sentinel is not a model event
        except StopSimulation as exc:  # a process stopped the run early, as SimPy allows
            return exc.args[0]
        finally:
            self.processed += n
        return None

    def _fire(self, event: Event) -> None:
        """SimPy's processing of one popped event (callbacks, then crash on an undefused fail)."""
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:
            event.callbacks = callbacks[callbacks.index(callback) + 1 :]
            self.schedule(event, URGENT - 1)
            raise
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc


Call = Callable[[float, Callable[[Any], object], Any], None]


def scheduler(env: simpy.Environment) -> Call:
    """``env.call_in``, or the same through a Timeout for a plain SimPy environment."""
    if isinstance(env, FastEnvironment):
        return env.call_in

    def call_in(delay: float, fn: Callable[[Any], object], arg: Any = None) -> None:
        def fire(event: Event) -> None:
            fn(event._value)

        env.timeout(delay, arg).callbacks.append(fire)

    return call_in


def timed_scheduler(env: simpy.Environment) -> Call:
    """``env.call_at``, or the same through a Timeout for a plain SimPy environment."""
    if isinstance(env, FastEnvironment):
        return env.call_at
    call_in = scheduler(env)

    def call_at(when: float, fn: Callable[[Any], object], arg: Any = None) -> None:
        call_in(when - env.now, fn, arg)

    return call_at
