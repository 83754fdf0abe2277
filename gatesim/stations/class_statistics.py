"""Waits and queues by class at a station, from streaming statistics (no records needed).

A scenario with ``class_statistics: [cargo, channel, priority]`` adds to each station's row,
for every class of each listed kind:

* ``wait_mean_min.<kind>.<class>``: mean wait before service of that class's trucks whose
  service started after the warm-up (0 when none did, as ``wait_mean_min``);
* ``queue_mean.<kind>.<class>``: time-average number of that class's trucks waiting.

Kinds: ``cargo`` (the arrival streams' cargo classes), ``channel`` (their customs channels)
and ``priority`` (the values of the station's ``priority.order``; stations without
``priority`` have none). The figures become the KPIs ``station.<name>.wait_mean_min.cargo.<c>``
and so on (:func:`gatesim.stats.kpis` family ``stations``).

A station without ``class_statistics`` pays nothing: the collector is bound by wrapping the
station's queue and its service-start methods (instance attributes), never in the base loop.
By construction the class waits add up: Σ started_c × wait_c = started × ``wait_mean_min``, and
the class queues add up to ``queue_mean``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from gatesim.core.monitors import TimeWeighted
from gatesim.core.trucks import Truck
from gatesim.scenario.schema import Scenario

if TYPE_CHECKING:  # the station module imports this one
    from gatesim.stations.base import Station

__all__ = ["ClassQueue", "ClassStatistics", "bind_class_statistics", "class_values"]

#: kind -> the truck attribute it reads (priority: the station's ``priority.by``)
KINDS = ("cargo", "channel", "priority")


class ClassStatistics:
    """Per kind and class: started count and wait sum (after the warm-up), and the
    time-weighted number waiting. ``classes`` is [(kind, attribute, class values)]."""

    def __init__(self, classes: list[tuple[str, str, tuple[str, ...]]], now: float) -> None:
        self.kinds = [(kind, attr, {value: i for i, value in enumerate(values)})
                      for kind, attr, values in classes]  # fmt: skip
        self.values = [values for _, _, values in classes]
        self.started = [[0] * len(values) for values in self.values]
        self.wait_sum = [[0.0] * len(values) for values in self.values]
        self.waiting = [[0] * len(values) for values in self.values]
        self.queues = [[TimeWeighted(now, 0.0) for _ in values] for values in self.values]

    def _indices(self, truck: Truck) -> Iterator[tuple[int, int]]:
        """(kind index, class index) of each kind the truck has a declared class of."""
        for k, (_, attr, index) in enumerate(self.kinds):
            i = index.get(truck.get(attr) or "")
            if i is not None:
                yield k, i

    def started_after_warmup(self, truck: Truck, wait: float) -> None:
        for k, i in self._indices(truck):
            self.started[k][i] += 1
            self.wait_sum[k][i] += wait

    def joined(self, truck: Truck, now: float, step: int) -> None:
        """The truck joined (step +1) or left (step −1) the queue at ``now``."""
        for k, i in self._indices(truck):
            self.waiting[k][i] += step
            self.queues[k][i].update(now, self.waiting[k][i])

    def reset(self, now: float) -> None:
        for k, values in enumerate(self.values):
            self.started[k] = [0] * len(values)
            self.wait_sum[k] = [0.0] * len(values)
            for monitor in self.queues[k]:
                monitor.reset(now)

    def figures(self, now: float) -> dict[str, float]:
        row: dict[str, float] = {}
        for k, (kind, _, _) in enumerate(self.kinds):
            for i, value in enumerate(self.values[k]):
                n = self.started[k][i]
                row[f"wait_mean_min.{kind}.{value}"] = self.wait_sum[k][i] / n if n else 0.0
            for i, value in enumerate(self.values[k]):
                row[f"queue_mean.{kind}.{value}"] = self.queues[k][i].mean(now)
        return row


class ClassQueue:
    """The station's queue, telling the collector of every truck that joins or leaves it
    (served, or reneged through ``leave``)."""

    __slots__ = ("_classes", "_env", "_inner")

    def __init__(self, inner: Any, classes: ClassStatistics, env: Any) -> None:
        self._inner, self._classes, self._env = inner, classes, env

    def push(self, truck: Truck) -> None:
        self._inner.push(truck)
        self._classes.joined(truck, self._env._now, 1)

    def pop(self) -> Truck:
        truck: Truck = self._inner.pop()
        self._classes.joined(truck, self._env._now, -1)
        return truck

    def leave(self, truck: Truck, ticket: Any) -> bool:
        left: bool = self._inner.leave(truck, ticket)
        if left:
            self._classes.joined(truck, self._env._now, -1)
        return left

    def __len__(self) -> int:
        return len(self._inner)

    def __bool__(self) -> bool:
        return bool(len(self._inner))

    def __iter__(self) -> Iterator[Truck]:
        return iter(self._inner)


def class_values(scenario: Scenario) -> dict[str, tuple[str, ...]]:
    """The cargo classes and customs channels of the arrival streams, in first-use order
    (channels of probability 0 included: the KPI columns do not depend on the draws)."""
    cargo: dict[str, None] = {}
    channel: dict[str, None] = {}
    for arrival in scenario.arrivals.values():
        cargo.setdefault(arrival.cargo)
        for name in arrival.channels:
            channel.setdefault(name)
    return {"cargo": tuple(cargo), "channel": tuple(channel)}


def station_classes(
    station: Station, kinds: list[str], values: dict[str, tuple[str, ...]]
) -> list[tuple[str, str, tuple[str, ...]]]:
    """(kind, truck attribute, class values) of the kinds this station has."""
    out = []
    for kind in kinds:
        if kind == "priority":
            priority = station.spec.priority
            if priority is not None and station.spec.discipline == "priority":
                out.append((kind, priority.by, tuple(priority.order)))
        else:
            out.append((kind, kind, values[kind]))
    return out


def bind_class_statistics(
    station: Station, kinds: list[str], values: dict[str, tuple[str, ...]]
) -> ClassStatistics | None:
    """Wrap the bound station's queue and service starts so they feed a collector; None (and
    nothing wrapped) when the station has none of the kinds."""
    classes = station_classes(station, kinds, values)
    if not classes:
        return None
    collector = ClassStatistics(classes, station.env._now)
    station.queue = ClassQueue(station.queue, collector, station.env)  # type: ignore[assignment]
    if hasattr(station, "_waiting"):  # reneging goes through the wrapper too
        station._waiting = station.queue  # type: ignore[assignment]
    warmup = station.warmup
    station._start = _counting(station._start, collector, warmup)  # type: ignore[method-assign]
    station.begin_service = _counting(  # type: ignore[method-assign]
        station.begin_service, collector, warmup
    )
    return collector


def _counting(
    start: Callable[[Truck, float], None], collector: ClassStatistics, warmup: float
) -> Callable[[Truck, float], None]:
    """``start(truck, now)`` that first books the truck's wait by class (after the warm-up)."""

    def counted(truck: Truck, now: float) -> None:
        if now >= warmup:
            collector.started_after_warmup(truck, now - truck.visit_t)
        start(truck, now)

    return counted
