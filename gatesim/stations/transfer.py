"""Moving cargo across the line: manual transshipment, and the smart gate's AGV crossing."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterator
from typing import Any, ClassVar, Literal

import numpy as np
import simpy
from pydantic import BaseModel, ConfigDict, Field

from gatesim.core.distributions import Distribution, Exponential, Triangular
from gatesim.core.monitors import TimeWeighted
from gatesim.core.trucks import CARRIED, Truck
from gatesim.stations.base import Sampler, Station, StationContext
from gatesim.stations.registry import register_station

Side = Literal["VN", "CN"]
OTHER: dict[str, Side] = {"VN": "CN", "CN": "VN"}


@register_station("transshipment")
class Transshipment(Station):
    describe = "manual unload/reload at the far-side yard; servers are crews/bays"
    #: Every truck served is unloaded and reloaded: the cost KPIs charge
    #: ``costs.transshipment_cny_per_truck`` per truck started (gatesim.stations.statistics).
    transships: ClassVar[bool] = True


def _default_origins() -> dict[Literal["export", "import"], Side]:
    return {"export": "VN", "import": "CN"}


class AgvParams(BaseModel):
    """The closed AGV lane, cranes at both ends, fleet behaviour and availability."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    lane_km: float = Field(2.4, gt=0, le=100)
    speed_kmh: float = Field(20.0, gt=0, le=120)
    lanes: int = Field(2, ge=1, le=16)
    cranes_per_side: int = Field(2, ge=1, le=100)
    lift_time: Distribution = Field(default_factory=lambda: Triangular(low=3, mode=4, high=6))
    mtbf_h: float | None = Field(None, gt=0)
    mttr: Distribution = Field(default_factory=lambda: Exponential(mean=120.0))
    origin_side: dict[Literal["export", "import"], Side] = Field(default_factory=_default_origins)
    backhaul: bool = True
    idle: Literal["return", "stay"] = "return"
    home: Literal["VN", "CN", "split"] = "split"


class _SideQueues:
    """The containers waiting at each end; ``len`` is the total (what the base reports)."""

    def __init__(self) -> None:
        self.sides: dict[str, deque[Truck]] = {"VN": deque(), "CN": deque()}

    def __len__(self) -> int:
        return len(self.sides["VN"]) + len(self.sides["CN"])

    def __iter__(self) -> Iterator[Truck]:
        yield from self.sides["VN"]
        yield from self.sides["CN"]


@register_station("agv_crossing")
class AgvCrossing(Station):
    """A fleet of ``servers`` driverless vehicles shuttling containers between the two yards.

    A container (truck) joins the queue at its origin side (``origin_side`` by direction). An
    idle AGV at that side takes it: crane lift on, drive the lane, crane lift off, released.
    After a delivery the AGV takes a waiting container at that side (a backhaul, if allowed),
    otherwise drives back empty (``idle: return``) or waits there (``idle: stay``); an AGV with
    no work at its side drives empty to the other side when containers wait there. Trips start
    only in operating hours (the station calendar). Breakdowns (``mtbf_h``) take effect at the
    end of the trip in progress and last an ``mttr`` draw (minutes).
    """

    describe = "AGV/IGV fleet on a closed lane with cranes at both ends (smart gate)"
    Params = AgvParams
    outcomes: ClassVar[dict[str, tuple[str, ...]]] = {}

    def bind(self, ctx: StationContext) -> None:
        super().bind(ctx)
        p: AgvParams = self.params  # type: ignore[assignment]
        self.p = p
        self.queue = _SideQueues()  # type: ignore[assignment]
        self.trip_minutes = 60.0 * p.lane_km / p.speed_kmh
        self.cranes = {side: simpy.Resource(self.env, p.cranes_per_side) for side in OTHER}
        self.crane_busy = {side: TimeWeighted() for side in OTHER}
        self.crane_overtime = dict.fromkeys(OTHER, 0.0)  # crane-minutes lifting past closing
        self.side_queue = {side: TimeWeighted() for side in OTHER}
        self._lift = Sampler(p.lift_time, ctx.stream("lift"))
        self._repair = Sampler(p.mttr, ctx.stream("repair"))
        self._failures = ctx.stream("failures")
        self._work: simpy.Event = self.env.event()
        self.trip_counts = dict.fromkeys(("loaded", "empty", "backhaul"), 0)
        self.down_minutes = 0.0
        self.idle_at = dict.fromkeys(OTHER, 0)
        self.en_route = dict.fromkeys(OTHER, 0)
        for k in range(self.servers):
            self.env.process(self._agv(self._home(k)))

    def _home(self, k: int) -> Side:
        if self.p.home == "split":
            return "VN" if k % 2 == 0 else "CN"
        return self.p.home

    # ------------------------------------------------------------------ containers
    def arrive(self, truck: Truck) -> None:
        now = self.accept(truck)
        side = self.p.origin_side[truck.direction]  # type: ignore[index]
        self.queue.sides[side].append(truck)  # type: ignore[attr-defined]
        self.queue_changed(now)
        self._side_changed(side, now)
        if not self._work.triggered:
            self._work.succeed()

    def _side_changed(self, side: str, now: float) -> None:
        self.side_queue[side].update(now, len(self.queue.sides[side]))  # type: ignore[attr-defined]

    def _take(self, side: str) -> Truck | None:
        waiting: deque[Truck] = self.queue.sides[side]  # type: ignore[attr-defined]
        if not waiting:
            return None
        truck = waiting.popleft()
        now = self.env.now
        self.queue_changed(now)
        self._side_changed(side, now)
        self.begin_service(truck, now)  # an AGV takes it now (the trip starts at once)
        return truck

    # ------------------------------------------------------------------ one vehicle
    def _agv(self, side: Side) -> Generator[simpy.Event, Any, None]:
        next_failure = self._next_failure()
        just_delivered = False
        while True:
            if self.env.now >= next_failure:
                yield from self._breakdown()
                next_failure = self._next_failure()
            start = self.next_start(self.env.now)
            if start > self.env.now:
                yield self.env.timeout(start - self.env.now) if start < np.inf else self.env.event()
                continue
            truck = self._take(side) if self.p.backhaul or not just_delivered else None
            if truck is not None:
                self.trip_counts["backhaul" if just_delivered else "loaded"] += 1
                yield from self._carry(truck, side)
                side, just_delivered = OTHER[side], True
            elif self._should_reposition(side, just_delivered):
                yield from self._drive_empty(OTHER[side])
                side, just_delivered = OTHER[side], False
            else:
                just_delivered = False
                self.idle_at[side] += 1
                yield self._wait_for_work()
                self.idle_at[side] -= 1

    def _should_reposition(self, side: Side, just_delivered: bool) -> bool:
        """Drive empty when the other side has more waiting containers than AGVs for them."""
        if just_delivered and self.p.idle == "return":
            return True
        other = OTHER[side]
        waiting = len(self.queue.sides[other])  # type: ignore[attr-defined]
        return waiting > self.idle_at[other] + self.en_route[other]

    def _wait_for_work(self) -> simpy.Event:
        if self._work.triggered:
            self._work = self.env.event()
        return self._work

    def _carry(self, truck: Truck, side: Side) -> Generator[simpy.Event, Any, None]:
        start = self.env.now
        self.set_busy(start, self._agvs_busy() + 1)
        yield from self._lift_at(side)
        yield self.env.timeout(self.trip_minutes)
        yield from self._lift_at(OTHER[side])
        self.end_service(truck)
        self.set_busy(self.env.now, self._agvs_busy() - 1)
        self.book_overtime(start, self.env.now)  # trips start in hours but may end after
        self.record_visit(truck, truck.visit_t, self.env.now)
        # The container crossed, the road truck that brought it stayed on its own side: its
        # delivery sends no empty return across the border (gatesim.model.returns).
        truck.attrs[CARRIED] = self.name
        self.depart(truck)

    def _agvs_busy(self) -> float:
        return self.busy_monitor.level

    def _lift_at(self, side: str) -> Generator[simpy.Event, Any, None]:
        with self.cranes[side].request() as request:
            yield request
            start = self.env.now
            self.crane_busy[side].update(start, self.cranes[side].count)
            yield self.env.timeout(self._lift.draw())
        self.crane_busy[side].update(self.env.now, self.cranes[side].count)
        self.crane_overtime[side] += self.overtime_minutes(start, self.env.now)

    def _drive_empty(self, target: Side) -> Generator[simpy.Event, Any, None]:
        self.trip_counts["empty"] += 1
        self.en_route[target] += 1
        start = self.env.now
        self.set_busy(start, self._agvs_busy() + 1)
        yield self.env.timeout(self.trip_minutes)
        self.set_busy(self.env.now, self._agvs_busy() - 1)
        self.book_overtime(start, self.env.now)
        self.en_route[target] -= 1

    def _next_failure(self) -> float:
        if self.p.mtbf_h is None:
            return np.inf
        return self.env.now + float(self._failures.exponential(self.p.mtbf_h * 60.0))

    def _breakdown(self) -> Generator[simpy.Event, Any, None]:
        repair = self._repair.draw()
        self.down_minutes += repair
        yield self.env.timeout(repair)

    # ------------------------------------------------------------------ results
    def reset_statistics(self, now: float) -> None:
        super().reset_statistics(now)
        for monitor in (*self.crane_busy.values(), *self.side_queue.values()):
            monitor.reset(now)
        self.trip_counts = dict.fromkeys(self.trip_counts, 0)
        self.crane_overtime = dict.fromkeys(OTHER, 0.0)
        self.down_minutes = 0.0

    def extra_metrics(self, now: float) -> dict[str, float]:
        days = max((now - self.warmup) / 1440.0, 1e-9)
        trips = sum(self.trip_counts.values())
        open_min = self.calendar.open_minutes(self.warmup, now)
        crane_capacity = self.p.cranes_per_side * max(open_min, 1e-9)
        row = {
            "trips_per_day": trips / days,
            "loaded_trips_per_day": (self.trip_counts["loaded"] + self.trip_counts["backhaul"])
            / days,
            "backhaul_trips_per_day": self.trip_counts["backhaul"] / days,
            "empty_trip_share": self.trip_counts["empty"] / trips if trips else 0.0,
            "availability": 1.0 - self.down_minutes / (self.servers * max(now - self.warmup, 1e-9)),
        }
        for side in OTHER:
            in_hours = self.crane_busy[side].area(now) - self.crane_overtime[side]
            row[f"crane_utilization_{side}"] = in_hours / crane_capacity
            row[f"queue_mean_{side}"] = self.side_queue[side].mean(now)
            row[f"queue_max_{side}"] = float(self.side_queue[side].max)
        return row
