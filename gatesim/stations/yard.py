"""A finite staging yard whose overflow spills back onto the approach road.

Trucks wait in the yard's areas in order (e.g. gate holding area → non-tariff zone → logistics
park); those that find every area full wait on the approach road. The servers are the dispatch
lanes that call trucks forward to the gate, so the yard's queue *is* the staged fleet.
Spill-back length (km) = trucks on the road × spacing / road lanes.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from gatesim.core.monitors import TimeWeighted
from gatesim.stations.base import Station, StationContext
from gatesim.stations.registry import register_station
from gatesim.stations.statistics import Metric


def fill_areas(capacities: list[int], waiting: int) -> list[int]:
    """How many of ``waiting`` trucks stand in each area, filling areas in order; the last
    entry is the rest, on the approach road (spill-back)."""
    occupancy, left = [], waiting
    for capacity in capacities:
        here = min(left, capacity)
        occupancy.append(here)
        left -= here
    occupancy.append(left)
    return occupancy


class YardArea(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    name: str = Field(min_length=1)
    capacity: int = Field(ge=0, le=10_000_000)


class YardParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    areas: list[YardArea] = Field(default_factory=list)
    truck_spacing_m: float = Field(20.0, gt=0, le=1000)
    road_lanes: int = Field(1, ge=1, le=16)


@register_station("staging_yard")
class StagingYard(Station):
    describe = "finite staging yard with dispatch lanes; overflow queues on the approach road"
    Params = YardParams
    metrics: ClassVar[tuple[Metric, ...]] = (
        Metric("yard_capacity", "trucks", "parking places in the yard's areas"),
        Metric("yard_occupancy_mean", "trucks", "time-average trucks parked in the yard"),
        Metric("yard_occupancy_max", "trucks", "most trucks parked in the yard at once"),
        Metric("spillback_trucks_mean", "trucks", "time-average trucks on the approach road"),
        Metric("spillback_trucks_max", "trucks", "most trucks on the approach road at once"),
        Metric("spillback_km_mean", "km", "time-average queue length on the approach road"),
        Metric("spillback_km_max", "km", "longest queue on the approach road", gate="max"),
        Metric("spillback_km_end", "km", "queue length on the approach road at the end"),
    )

    def bind(self, ctx: StationContext) -> None:
        super().bind(ctx)
        params: YardParams = self.params  # type: ignore[assignment]
        self.yard_capacity = sum(area.capacity for area in params.areas)
        self._km_per_truck = params.truck_spacing_m / 1000.0 / params.road_lanes
        self.road_monitor = TimeWeighted(0.0, 0.0)
        self.yard_monitor = TimeWeighted(0.0, 0.0)

    def on_queue_change(self, now: float, waiting: int) -> None:
        on_road = waiting - self.yard_capacity
        self.road_monitor.update(now, on_road if on_road > 0 else 0)
        self.yard_monitor.update(now, waiting if on_road < 0 else self.yard_capacity)

    def reset_statistics(self, now: float) -> None:
        super().reset_statistics(now)
        self.road_monitor.reset(now)
        self.yard_monitor.reset(now)

    def area_occupancy(self, waiting: int) -> dict[str, int]:
        """How many of ``waiting`` trucks stand in each area, filling areas in order."""
        params: YardParams = self.params  # type: ignore[assignment]
        counts = fill_areas([area.capacity for area in params.areas], waiting)
        occupancy = {area.name: count for area, count in zip(params.areas, counts, strict=False)}
        occupancy["approach_road"] = counts[-1]
        return occupancy

    def spillback_km(self) -> float:
        """Length of the queue on the approach road now (km)."""
        return self.area_occupancy(len(self.queue))["approach_road"] * self._km_per_truck

    def extra_metrics(self, now: float) -> dict[str, float]:
        road_mean = self.road_monitor.mean(now)
        return {
            "yard_capacity": float(self.yard_capacity),
            "yard_occupancy_mean": self.yard_monitor.mean(now),
            "yard_occupancy_max": float(self.yard_monitor.max),
            "spillback_trucks_mean": road_mean,
            "spillback_trucks_max": float(self.road_monitor.max),
            "spillback_km_mean": road_mean * self._km_per_truck,
            "spillback_km_max": self.road_monitor.max * self._km_per_truck,
            "spillback_km_end": self.spillback_km(),
        }
