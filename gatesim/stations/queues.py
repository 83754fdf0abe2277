"""Queue disciplines: FIFO, LIFO and priority by a truck attribute (FIFO within a class).

Each queue offers ``push(truck)``, ``pop() -> truck``, ``len()`` and iteration; the station
does not know which one it holds.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator
from itertools import count
from typing import Protocol

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

    __slots__ = ("_attr", "_heap", "_rank", "_seq", "_unlisted")

    def __init__(self, spec: PrioritySpec) -> None:
        self._attr = spec.by
        self._rank = {value: i for i, value in enumerate(spec.order)}
        self._unlisted = len(spec.order)
        self._heap: list[tuple[int, int, Truck]] = []
        self._seq = count()

    def push(self, truck: Truck) -> None:
        rank = self._rank.get(truck.get(self._attr) or "", self._unlisted)
        heapq.heappush(self._heap, (rank, next(self._seq), truck))

    def pop(self) -> Truck:
        return heapq.heappop(self._heap)[2]

    def __len__(self) -> int:
        return len(self._heap)

    def __iter__(self) -> Iterator[Truck]:
        return (item[2] for item in sorted(self._heap))


def make_queue(discipline: str, priority: PrioritySpec | None) -> TruckQueue:
    if discipline == "fifo":
        return FifoQueue()
    if discipline == "lifo":
        return LifoQueue()
    if discipline == "priority" and priority is not None:
        return PriorityQueue(priority)
    raise ValueError(f"unknown queue discipline '{discipline}'")
