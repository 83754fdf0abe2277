"""Queue disciplines: FIFO, LIFO and priority by a truck attribute (FIFO within a class).

Each queue offers ``push(truck)``, ``pop() -> truck``, ``len()`` and iteration; the station
does not know which one it holds. :class:`ImpatientQueue` wraps any of them for a station whose
trucks may leave the queue before service (reneging).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterator
from itertools import count
from typing import Any, Protocol

from gatesim.core.trucks import Truck
from gatesim.scenario.schema import PrioritySpec


class TruckQueue(Protocol):
    def push(self, truck: Truck) -> None: ...
    def pop(self) -> Truck: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Truck]: ...


class FifoQueue(deque[Truck]):
    """A deque: ``len`` and truth tests stay in C on the hot path."""

    push = deque.append
    pop = deque.popleft


class LifoQueue:
    __slots__ = ("_items", "pop", "push")

    def __init__(self) -> None:
        self._items: list[Truck] = []
        self.push = self._items.append
        self.pop = self._items.pop

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Truck]:
        return reversed(self._items)


class PriorityQueue:
    """Lower rank first; the sequence number keeps FIFO order within a rank."""

    __slots__ = ("_attr", "_front", "_heap", "_rank", "_seq", "_unlisted")

    def __init__(self, spec: PrioritySpec) -> None:
        self._attr = spec.by
        self._rank = {value: i for i, value in enumerate(spec.order)}
        self._unlisted = len(spec.order)
        self._heap: list[tuple[int, int, Truck]] = []
        self._seq = count()
        self._front = count(-1, -1)  # push_first: ahead of every truck pushed so far

    def rank(self, truck: Truck) -> int:
        """The truck's class rank (0 first; unlisted values last)."""
        return self._rank.get(truck.get(self._attr) or "", self._unlisted)

    def push(self, truck: Truck) -> None:
        rank = self._rank.get(truck.get(self._attr) or "", self._unlisted)  # rank(), inlined
        heapq.heappush(self._heap, (rank, next(self._seq), truck))

    def push_first(self, truck: Truck) -> None:
        """Put the truck at the head of its class (a preempted truck resumes first)."""
        heapq.heappush(self._heap, (self.rank(truck), next(self._front), truck))

    def pop(self) -> Truck:
        return heapq.heappop(self._heap)[2]

    def __len__(self) -> int:
        return len(self._heap)

    def __iter__(self) -> Iterator[Truck]:
        return (item[2] for item in sorted(self._heap))


class ImpatientQueue:
    """A discipline's queue from which a waiting truck may also leave (renege) in O(1).

    ``push`` asks ``joined(truck)`` for the truck's *ticket* (the object its patience timer
    carries, or None for a truck that never reneges) and keeps it in :attr:`waiting`, the trucks
    waiting now. :meth:`leave` takes a truck out only while it still waits on that ticket, so a
    timer whose truck was served first costs one dict lookup. A truck that left stays in the
    inner queue, marked gone, until the discipline would have served it; then ``pop`` skips it.
    Invariant: ``len(self) == len(waiting)`` = trucks in the inner queue that are not gone.
    """

    __slots__ = ("_gone", "_inner", "_joined", "waiting")

    def __init__(self, inner: TruckQueue, joined: Callable[[Truck], Any]) -> None:
        self._inner = inner
        self._joined = joined
        self._gone: set[Truck] = set()
        self.waiting: dict[Truck, Any] = {}

    def push(self, truck: Truck) -> None:
        self._inner.push(truck)
        self.waiting[truck] = self._joined(truck)

    def pop(self) -> Truck:
        pop, gone = self._inner.pop, self._gone
        truck = pop()
        while truck in gone:
            gone.discard(truck)
            truck = pop()
        del self.waiting[truck]
        return truck

    def leave(self, truck: Truck, ticket: Any) -> bool:
        """Take ``truck`` out of the queue if it still waits on ``ticket`` (not None); False
        when it was served (or left) first."""
        if ticket is None or self.waiting.get(truck) is not ticket:
            return False
        del self.waiting[truck]
        self._gone.add(truck)
        return True

    def __len__(self) -> int:
        return len(self.waiting)

    def __bool__(self) -> bool:
        return bool(self.waiting)

    def __iter__(self) -> Iterator[Truck]:
        return (truck for truck in self._inner if truck not in self._gone)


def make_queue(discipline: str, priority: PrioritySpec | None) -> TruckQueue:
    if discipline == "fifo":
        return FifoQueue()
    if discipline == "lifo":
        return LifoQueue()
    if discipline == "priority" and priority is not None:
        return PriorityQueue(priority)
    raise ValueError(f"unknown queue discipline '{discipline}'")
