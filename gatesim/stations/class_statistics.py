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
station's service-start methods and renege timer (instance attributes), never in the base
loop. By construction the class waits add up: Σ started_c × wait_c = started ×
``wait_mean_min``, and the class queues add up to ``queue_mean`` (up to float rounding), for
the base's loop; a type with its own loop counts its ``begin_service`` calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from gatesim.core.trucks import FIXED_ATTRIBUTES, Truck
from gatesim.scenario.schema import Scenario

if TYPE_CHECKING:  # the station module imports this one
    from gatesim.stations.base import Station

__all__ = ["ClassStatistics", "bind_class_statistics", "class_values"]

#: kind -> the truck attribute it reads (priority: the station's ``priority.by``)
KINDS = ("cargo", "channel", "priority")


class ClassStatistics:
    """Per kind and class, after the warm-up w: services started, their waits, and the area
    under the class's number waiting. ``classes`` is [(kind, attribute, class values)].

    The area is summed truck by truck, as each one leaves the queue (served or reneged): its
    time waiting within [w, now], ``now − max(arrival, w)``; :meth:`figures` adds the trucks
    still waiting. That is the integral of the class's queue length over [w, now] exactly,
    with no bookkeeping when a truck joins the queue. The hot method loops over ``_kinds``
    (getter, class index, kind index) without generators."""

    def __init__(self, classes: list[tuple[str, str, tuple[str, ...]]], warmup: float) -> None:
        self.warmup = warmup
        self.names = [(kind, values) for kind, _, values in classes]
        self.started = [[0] * len(values) for _, values in self.names]
        self.wait_sum = [[0.0] * len(values) for _, values in self.names]
        self.area = [[0.0] * len(values) for _, values in self.names]
        self._kinds = [
            (_getter(attr), {v: i for i, v in enumerate(values)}, k)
            for k, (_, attr, values) in enumerate(classes)
        ]

    def left_queue(self, truck: Truck, now: float, served: bool) -> None:
        """The truck's service starts (``served``) or it reneges, at ``now`` >= w."""
        joined = truck.visit_t
        waited = now - (joined if joined > self.warmup else self.warmup)
        for get, index, k in self._kinds:
            i = index.get(get(truck))
            if i is not None:
                self.area[k][i] += waited
                if served:
                    self.started[k][i] += 1
                    self.wait_sum[k][i] += now - joined

    def reset(self, now: float) -> None:
        """Forget the warm-up (in place: the bound start wrappers hold these lists)."""
        for k, (_, values) in enumerate(self.names):
            self.started[k][:] = [0] * len(values)
            self.wait_sum[k][:] = [0.0] * len(values)
            self.area[k][:] = [0.0] * len(values)

    def figures(self, now: float, waiting: Iterable[Truck]) -> dict[str, float]:
        """The row's figures at ``now``, ``waiting`` the trucks in the queue now."""
        area = [list(by_class) for by_class in self.area]
        for truck in waiting:
            waited = now - max(truck.visit_t, self.warmup)
            for get, index, k in self._kinds:
                i = index.get(get(truck))
                if i is not None:
                    area[k][i] += waited
        span = now - self.warmup
        row: dict[str, float] = {}
        for k, (kind, values) in enumerate(self.names):
            for i, value in enumerate(values):
                n = self.started[k][i]
                row[f"wait_mean_min.{kind}.{value}"] = self.wait_sum[k][i] / n if n else 0.0
            for i, value in enumerate(values):
                row[f"queue_mean.{kind}.{value}"] = area[k][i] / span if span > 0 else 0.0
        return row


def _getter(attr: str) -> Callable[[Truck], Any]:
    """A truck's class value: a slot of Truck (cargo, channel…) or an extra attribute."""
    if attr in FIXED_ATTRIBUTES:
        return attrgetter(attr)
    return lambda truck: truck.attrs.get(attr, "")


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
    station: Station, kinds: Sequence[str], values: dict[str, tuple[str, ...]]
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
    station: Station, kinds: Sequence[str], values: dict[str, tuple[str, ...]]
) -> ClassStatistics | None:
    """Wrap the bound station's service starts (and its reneging) so they feed a collector;
    None (and nothing wrapped) when the station has none of the kinds."""
    classes = station_classes(station, kinds, values)
    if not classes:
        return None
    collector = ClassStatistics(classes, station.warmup)
    station._start = _counting(station._start, collector)  # type: ignore[method-assign,assignment]
    station.begin_service = _counting(  # type: ignore[method-assign,assignment]
        station.begin_service, collector
    )
    station._renege = _reneging(station, collector)  # type: ignore[method-assign,assignment]
    return collector


def _counting(
    start: Callable[[Truck, float], None], collector: ClassStatistics
) -> Callable[[Truck, float], None]:
    """``start(truck, now)`` that first books the truck's wait by class (after the warm-up):
    :meth:`ClassStatistics.left_queue` for a served truck, inlined (it runs on every start)."""
    warmup, kinds = collector.warmup, collector._kinds
    started, wait_sum, area = collector.started, collector.wait_sum, collector.area

    def counted(truck: Truck, now: float) -> None:
        if now >= warmup:
            joined = truck.visit_t
            wait = now - joined
            waited = wait if joined > warmup else now - warmup
            for get, index, k in kinds:
                i = index.get(get(truck))
                if i is not None:
                    area[k][i] += waited
                    started[k][i] += 1
                    wait_sum[k][i] += wait
        start(truck, now)

    return counted


def _reneging(station: Station, collector: ClassStatistics) -> Callable[[tuple[Truck]], None]:
    """The station's renege timer, booking the truck's wait when it did leave the queue
    (the timer of a truck served first changes nothing)."""
    renege = station._renege

    def timed_out(ticket: tuple[Truck]) -> None:
        before = station.reneged
        renege(ticket)
        now = station.env._now
        if station.reneged != before and now >= collector.warmup:
            collector.left_queue(ticket[0], now, False)

    return timed_out
