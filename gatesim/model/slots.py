"""Booking arrival slots: wished arrival times in, booked and kept (or missed) arrivals out.

For each slot plan (``slots:``, :mod:`gatesim.scenario.slots`) the trucks of its lane and
direction book in the order of their wished arrival times (the arrival process's times; ties
in stream order, then in the stream's own order): each takes the earliest slot with room that
starts at or after its wished time's slot. A truck for which no slot has room before the
horizon ends stays booked beyond it (``pending``: demand owed, never silently dropped); one
whose slot lies on a later day than its wish has rolled over (``rolled``).

Then each booked truck keeps its slot early, on time or late, or does not come (no-show: lost
and counted, it does not book again). Categories and offsets are drawn in booking order from
the plan's own named streams (``slots/<plan>/...``), so the generated trucks (times, channels,
attributes) are those of the scenario without slots, and adding a plan changes no other
source's draws. Nothing here runs in the event loop: the arrival chain replays the result.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gatesim.core.results import SLOT_COUNTS
from gatesim.model.arrivals import StreamArrivals
from gatesim.scenario.schema import Scenario
from gatesim.scenario.slots import SlotPlanSpec, slot_capacity

__all__ = ["SlotBookings", "book_slots", "earliest_with_room"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_EARLY, _ON_TIME, _LATE, _NO_SHOW = range(4)
_COLUMN = {name: i for i, name in enumerate(SLOT_COUNTS)}


@dataclass
class SlotBookings:
    """What booking did to each stream: counts (rows: streams, columns: SLOT_COUNTS) and the
    booking delay (minutes from the wished time to the slot's start, 0 when the wished slot
    had room) of each truck wished at or after the warm-up and booked before the horizon."""

    counts: IntArray
    delay_min: FloatArray
    delay_stream: IntArray

    @classmethod
    def empty(cls, streams: int) -> SlotBookings:
        return cls(
            np.zeros((streams, len(SLOT_COUNTS)), dtype=np.int64),
            np.zeros(0, dtype=np.float64),
            np.zeros(0, dtype=np.int64),
        )

    def unarrived(self) -> IntArray:
        """Trucks of each stream that never arrived: no-shows and bookings past the horizon."""
        return self.counts[:, _COLUMN["no_show_all"]] + self.counts[:, _COLUMN["pending"]]


def earliest_with_room(wished_slot: IntArray, capacity: IntArray) -> IntArray:
    """The slot each request books, in request order (``wished_slot`` non-decreasing): the
    earliest at or after its wished slot with room left, or -1 when none has room.

    Invariant: every slot from the previous request's wished slot up to the slot it took was
    full when it booked, so the search resumes at the later of the wish and that slot."""
    left = capacity.copy()
    booked = np.full(len(wished_slot), -1, dtype=np.int64)
    cursor, last = 0, len(left)
    for i, wish in enumerate(wished_slot.tolist()):
        j = max(wish, cursor)
        while j < last and left[j] == 0:
            j += 1
        if j >= last:  # later requests wish no earlier, so none of them finds room either
            break
        left[j] -= 1
        booked[i] = cursor = j
    return booked


def book_slots(
    scenario: Scenario,
    generated: list[StreamArrivals],
    rng: Callable[[str], np.random.Generator],
) -> tuple[list[StreamArrivals], SlotBookings]:
    """Every stream's arrivals after booking (streams without a plan unchanged)."""
    out = list(generated)
    bookings = SlotBookings.empty(len(generated))
    flows = [(a.lane, a.direction) for a in scenario.arrivals.values()]
    for name, plan in scenario.slots.items():
        members = [k for k, flow in enumerate(flows) if flow == (plan.lane, plan.direction)]
        _book_plan(scenario, name, plan, members, out, bookings, rng)
    return out, bookings


def _book_plan(
    scenario: Scenario,
    name: str,
    plan: SlotPlanSpec,
    members: list[int],
    out: list[StreamArrivals],
    bookings: SlotBookings,
    rng: Callable[[str], np.random.Generator],
) -> None:
    wished = np.concatenate([out[k].times for k in members])
    stream = np.concatenate([np.full(len(out[k].times), k, dtype=np.int64) for k in members])
    position = np.concatenate([np.arange(len(out[k].times)) for k in members])
    order = np.argsort(wished, kind="stable")  # members in stream order: ties in stream order
    wished, stream, position = wished[order], stream[order], position[order]
    length = plan.slot_min
    slot = earliest_with_room((wished // length).astype(np.int64), slot_capacity(scenario, plan))
    category, arrival = _comply(plan, slot, rng, f"slots/{name}")
    arrives = (category != _NO_SHOW) & (slot >= 0) & (arrival < scenario.horizon_min)
    for k in members:
        mine = stream == k
        out[k] = _kept(out[k], position[mine & arrives], arrival[mine & arrives])
    _count(scenario, plan, bookings, wished, stream, slot, category, arrives)


def _comply(
    plan: SlotPlanSpec, slot: IntArray, rng: Callable[[str], np.random.Generator], prefix: str
) -> tuple[IntArray, FloatArray]:
    """Each booking's compliance category and arrival time (NaN for no-shows and trucks with
    no slot); drawn for every request, in booking order, one stream per kind of draw."""
    n, length = len(slot), plan.slot_min
    shares = np.asarray(plan.compliance.shares(), dtype=float)
    category = rng(f"{prefix}/compliance").choice(4, size=n, p=shares / shares.sum())
    early = plan.early_min.sample_many(rng(f"{prefix}/early"), n)
    on_time_rng = rng(f"{prefix}/on_time")
    if plan.on_time_min is None:
        on_time = on_time_rng.random(n) * length
    else:
        on_time = plan.on_time_min.sample_many(on_time_rng, n)
    late = plan.late_min.sample_many(rng(f"{prefix}/late"), n)
    start = slot * length
    arrival = np.select(
        [category == _EARLY, category == _ON_TIME, category == _LATE],
        [np.maximum(start - early, 0.0), start + on_time, start + length + late],
        default=math.nan,
    )
    arrival[slot < 0] = math.nan
    return category.astype(np.int64), arrival


def _kept(arrivals: StreamArrivals, position: IntArray, times: FloatArray) -> StreamArrivals:
    """The trucks at ``position`` of a stream, at their new times, in time order (ties in the
    stream's own order)."""
    order = np.lexsort([position, times])
    chosen = position[order]
    return StreamArrivals(
        times=times[order],
        channels=arrivals.channels[chosen],
        channel_names=arrivals.channel_names,
        attributes={a: (names, index[chosen]) for a, (names, index) in arrivals.attributes.items()},
    )


def _count(
    scenario: Scenario,
    plan: SlotPlanSpec,
    bookings: SlotBookings,
    wished: FloatArray,
    stream: IntArray,
    slot: IntArray,
    category: IntArray,
    arrives: npt.NDArray[np.bool_],
) -> None:
    """Add one plan's bookings to the ledger (see SLOT_COUNTS for what each column covers)."""
    counts, col = bookings.counts, _COLUMN
    booked = slot >= 0
    np.add.at(counts[:, col["demand"]], stream, 1)
    np.add.at(counts[:, col["no_show_all"]], stream[booked & (category == _NO_SHOW)], 1)
    np.add.at(counts[:, col["pending"]], stream[~arrives & (category != _NO_SHOW) | ~booked], 1)
    first = math.ceil(scenario.warmup_min / plan.slot_min - 1e-9)
    measured = booked & (slot >= first)
    np.add.at(counts[:, col["booked"]], stream[measured], 1)
    for kind, column in enumerate(("early", "on_time", "late", "no_show")):
        np.add.at(counts[:, col[column]], stream[measured & (category == kind)], 1)
    wished_measured = wished >= scenario.warmup_min
    later_day = ~booked | (slot // plan.slots_per_day() > wished // 1440.0)
    np.add.at(counts[:, col["rolled"]], stream[wished_measured & later_day], 1)
    sample = wished_measured & booked
    delay = np.maximum(slot[sample] * plan.slot_min - wished[sample], 0.0)
    bookings.delay_min = np.concatenate([bookings.delay_min, delay])
    bookings.delay_stream = np.concatenate([bookings.delay_stream, stream[sample]])
