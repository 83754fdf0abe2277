"""The arrival chain: every stream's trucks, generated before time 0 and merged in time order.

Each stream is generated from its own named random streams (:mod:`gatesim.model.arrivals`,
booked into arrival slots when the scenario has ``slots:``, :mod:`gatesim.model.slots`, and
with its initial backlog, :mod:`gatesim.model.backlog`); the merged chain schedules one arrival
at a time, so the heap holds one pending arrival whatever the horizon. A truck's id is its
place in the merged chain.

Only compact typed arrays survive the build (times as 8-byte floats, streams, channels and
attribute values as 2-byte codes; the generated numpy arrays are dropped), so a year holds
each arrival in some 14 bytes, not as Python objects.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from gatesim.core.loop import FastEnvironment
from gatesim.core.results import StreamInfo
from gatesim.core.trucks import Truck
from gatesim.model import arrivals as arrival_streams
from gatesim.model.backlog import with_backlog
from gatesim.model.slots import SlotBookings, book_slots
from gatesim.scenario.schema import Scenario

__all__ = ["ArrivalChain"]

_CODE = "H"  # stream and category indices: far fewer than 65,536 of each


class ArrivalChain:
    """Creates each truck at its arrival time, hands it to ``enter`` (the replication counts
    it), schedules the next arrival, then hands the truck to ``forward`` (its first move); in
    that order, which fixes the event ids and so the order of simultaneous events.

    ``own`` names the streams whose trucks are created; the others (another part's, when a
    replication simulates one part of the scenario) are generated all the same and only
    schedule the next arrival, so truck ids and the order of the own events, ties included,
    are those of the whole scenario.
    """

    slots: SlotBookings | None

    def __init__(
        self,
        scenario: Scenario,
        env: FastEnvironment,
        streams: list[StreamInfo],
        rng: Callable[[str], np.random.Generator],
        own: set[str],
    ) -> None:
        s = scenario
        self._rng, self._env = rng, env
        generated, demand = self._generate(s)
        times = [g.times for g in generated]
        all_times = np.concatenate(times) if times else np.zeros(0)
        stream_ix = np.concatenate(
            [np.full(len(t), i, dtype=np.int64) for i, t in enumerate(times)]
        )
        order = np.argsort(all_times, kind="stable")
        self._times = array("d", all_times[order].tobytes())
        self._stream = _codes(stream_ix[order])
        self._next = 0
        self._position = [0] * len(generated)
        self._active = [name in own for name in s.arrivals]
        # Per own stream: channel names and each truck's channel as a code into them.
        self._channels = [
            (g.channel_names, _codes(g.channels)) if active else ((), _codes(np.zeros(0)))
            for g, active in zip(generated, self._active, strict=True)
        ]
        # Per own stream: (attribute, its values, each truck's value as a code into them).
        self._attributes = [
            [(a, names, _codes(index)) for a, (names, index) in g.attributes.items()]
            if active
            else []
            for g, active in zip(generated, self._active, strict=True)
        ]
        self.offered_after_warmup = _offered(times, self._active, s.warmup_min)
        self.arrived_by_hour = _by_hour(times, self._active, s.days)
        #: trucks each own stream owes over the run (generated, backlog included)
        self.demand = [n if active else 0 for n, active in zip(demand, self._active, strict=True)]
        # Per stream: the Truck fields every truck of it shares (name, lane, direction, cargo,
        # origin), read once per arrival.
        self._fixed = [
            (info.name, info.lane, info.direction, info.cargo, s.routes[a.route].origin)
            for info, a in zip(streams, s.arrivals.values(), strict=True)
        ]
        self._arrive_next = self._arrive  # bound once: every arrival schedules the next
        self._enter: Callable[[Truck], None] = _unset
        self._forward: Callable[[Truck], None] = _unset

    def unarrived(self) -> list[int]:
        """Trucks of each own stream that will not arrive in this run: booked slot no-shows
        and bookings past the horizon (zero without slots)."""
        if self.slots is None:
            return [0] * len(self._active)
        missed = self.slots.unarrived().tolist()
        return [n if active else 0 for n, active in zip(missed, self._active, strict=True)]

    def own_slot_bookings(self) -> SlotBookings | None:
        """The booking ledger restricted to the own streams (None without slots)."""
        if self.slots is None:
            return None
        own = np.asarray(self._active, dtype=bool)
        keep = own[self.slots.delay_stream]
        return SlotBookings(
            self.slots.counts * own[:, None],
            self.slots.delay_min[keep],
            self.slots.delay_stream[keep],
        )

    def _generate(self, s: Scenario) -> tuple[list[arrival_streams.StreamArrivals], list[int]]:
        """Every stream's arrivals: generated (the wished times), booked into slots when the
        scenario has plans (``self.slots`` keeps the ledger), then with the initial backlog in
        front; and the trucks each stream owes (generated and backlog)."""
        wished = [
            arrival_streams.generate(s, spec, self._rng(f"arrivals/{name}"), self._named(name))
            for name, spec in s.arrivals.items()
        ]
        specs = list(s.arrivals.values())
        demand = [len(g.times) + a.initial_backlog for g, a in zip(wished, specs, strict=True)]
        booked, self.slots = wished, None
        if s.slots:
            booked, self.slots = book_slots(s, wished, self._rng)
        generated = [
            with_backlog(g, spec, self._named(f"{name}/backlog"))
            for g, (name, spec) in zip(booked, s.arrivals.items(), strict=True)
        ]
        return generated, demand

    def _named(self, prefix: str) -> Callable[[str], np.random.Generator]:
        return lambda part: self._rng(f"arrivals/{prefix}/{part}")

    def start(self, enter: Callable[[Truck], None], forward: Callable[[Truck], None]) -> None:
        """Schedule the first arrival (see the class docstring for what each one does)."""
        self._enter, self._forward = enter, forward
        self._schedule_next()

    def drop(self) -> None:
        """Forget the pending arrivals (the replication is over)."""
        self._times, self._stream = array("d"), array(_CODE)
        self._channels, self._attributes = [], []

    def _schedule_next(self) -> None:
        i = self._next
        if i < len(self._times):
            env = self._env
            now = env._now  # at now + (t - now), the float call_in(t - now, ...) would give
            env.call_at(now + (self._times[i] - now), self._arrive)

    def _arrive(self, _arg: object) -> None:
        i = self._next
        self._next = i + 1
        k = self._stream[i]
        if not self._active[k]:  # another part's truck
            self._schedule_next()
            return
        position = self._position[k]
        self._position[k] = position + 1
        name, lane, direction, cargo, origin = self._fixed[k]
        channel_names, channels = self._channels[k]
        attrs = None
        attributes = self._attributes[k]
        if attributes:
            attrs = {}
            for attr, values, codes in attributes:
                attrs[attr] = values[codes[position]]
        now = self._env._now
        channel = channel_names[channels[position]]
        truck = Truck(i, name, k, lane, direction, cargo, channel, now, origin, attrs)
        self._enter(truck)
        if i + 1 < len(self._times):  # _schedule_next(), inlined
            self._env.call_at(now + (self._times[i + 1] - now), self._arrive_next)
        self._forward(truck)


def _offered(
    times: list[npt.NDArray[np.float64]], active: list[bool], warmup: float
) -> npt.NDArray[np.int64]:
    """Arrivals each own stream offers at or after the warm-up, counted from the generated
    times (every one of them arrives: nothing is lost before the route's first step), so the
    hot path carries no extra counter."""
    offered = np.zeros(len(times), dtype=np.int64)
    for k, stream_times in enumerate(times):
        if active[k]:
            offered[k] = int((stream_times >= warmup).sum())
    return offered


def _by_hour(
    times: list[npt.NDArray[np.float64]], active: list[bool], days: int
) -> npt.NDArray[np.int64]:
    """Arrivals of each own stream in each clock hour of the horizon, shape (days × 24,
    streams): the input of the peak-hour KPI."""
    counts = np.zeros((days * 24, len(times)), dtype=np.int64)
    for k, stream_times in enumerate(times):
        if active[k] and len(stream_times):
            hours = (stream_times // 60.0).astype(np.int64)
            counts[:, k] = np.bincount(hours, minlength=days * 24)[: days * 24]
    return counts


def _codes(values: npt.NDArray[Any]) -> array[int]:
    """Small non-negative integers (stream indices, category indices) as 2-byte codes."""
    return array(_CODE, np.asarray(values, dtype=np.uint16).tobytes())


def _unset(truck: Any) -> None:
    raise RuntimeError("ArrivalChain.start was not called")
