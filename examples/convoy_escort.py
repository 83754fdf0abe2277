"""An advanced station type that runs its own loop: it overrides ``arrive``.

    .venv/bin/python examples/convoy_escort.py

Trucks cross in escorted convoys. They gather at the checkpoint; an escort (a server) leaves
with up to ``size`` waiting trucks as soon as ``size`` wait, or when the first of them has
waited ``max_wait`` minutes. The crossing takes one service-time draw for the whole convoy;
then the escort is free again. A full gathering area (``queue_capacity``) turns trucks away.

The type keeps the station ledger (arrived = rejected + waiting + in service + held +
departed) with the public helpers of :class:`gatesim.stations.base.Station` only: ``accept``,
``reject``, ``queue_changed``, ``begin_service``, ``set_busy``, ``end_service``,
``record_visit`` and ``depart`` (docs/extending.md, "Advanced: a station with its own loop").
The script runs a hand-checked timeline and prints it (``convoy_escort.out``).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, cast

import simpy
from pydantic import BaseModel, ConfigDict, Field

from gatesim import Scenario, simulate
from gatesim.core.trucks import Truck
from gatesim.stations.base import Station, StationContext
from gatesim.stations.registry import register_station


class ConvoyParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    size: int = Field(3, ge=1, le=100)
    max_wait: float = Field(20.0, gt=0)


@register_station("convoy_escort")
class ConvoyEscort(Station):
    describe = "escorted convoys: up to `size` trucks cross together (example, own loop)"
    Params = ConvoyParams

    def bind(self, ctx: StationContext) -> None:
        super().bind(ctx)
        params = cast(ConvoyParams, self.params)
        self.size, self.max_wait = params.size, params.max_wait
        self.escorts_out = 0
        self.convoys = 0

    def arrive(self, truck: Truck) -> None:
        capacity = self.spec.queue_capacity
        if capacity is not None and len(self.queue) >= capacity:
            self.reject(truck)  # counted as arrived and rejected; the engine loses it
            return
        now = self.accept(truck)
        self.queue.push(truck)
        self.queue_changed(now)
        self.env.process(self._deadline(now + self.max_wait))
        self._dispatch(now)

    def _deadline(self, when: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(when - self.env.now)
        self._dispatch(self.env.now)

    def _ready(self, now: float) -> bool:
        """A convoy may leave: a full one waits, or the first truck has waited long enough."""
        if len(self.queue) >= self.size:
            return True
        return bool(self.queue) and now >= next(iter(self.queue)).visit_t + self.max_wait

    def _dispatch(self, now: float) -> None:
        while self.escorts_out < self.servers and self._ready(now):
            convoy = [self.queue.pop() for _ in range(min(self.size, len(self.queue)))]
            self.queue_changed(now)
            for truck in convoy:
                self.begin_service(truck, now)
            self.escorts_out += 1
            self.set_busy(now, self.escorts_out)
            self.convoys += 1
            self.env.process(self._cross(convoy, now))

    def _cross(self, convoy: list[Truck], start: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(self.service_time(convoy[0]))  # one draw for the convoy
        now = self.env.now
        self.escorts_out -= 1
        self.set_busy(now, self.escorts_out)
        for truck in convoy:
            self.end_service(truck)
            self.record_visit(truck, start, now)
            self.depart(truck)
        self._dispatch(now)

    def extra_metrics(self, now: float) -> dict[str, float]:
        return {"convoys": float(self.convoys)}


ARRIVALS = [0.0, 5.0, 10.0, 12.0, 50.0, 55.0, 60.0, 61.0, 62.0, 63.0]
#: (truck, convoy start, convoy end), worked out by hand: one escort, convoys of 3, 20 min
#: at most in line, 30 min a crossing, room for 3 waiting trucks.
EXPECTED = [
    (0, 10.0, 40.0),  # 0, 5, 10: a full convoy at 10
    (1, 10.0, 40.0),
    (2, 10.0, 40.0),
    (3, 40.0, 70.0),  # 12 waited 20 min at 32, the escort is back at 40: alone
    (4, 70.0, 100.0),  # 50, 55, 60 make a full convoy at 60; the escort is back at 70
    (5, 70.0, 100.0),
    (6, 70.0, 100.0),
    (7, 100.0, 130.0),  # 61, 62, 63 full at 63; the escort is back at 100
    (8, 100.0, 130.0),
    (9, 100.0, 130.0),
]


def scenario(arrivals: list[float], capacity: int | None) -> Scenario:
    escort = {
        "type": "convoy_escort",
        "servers": 1,
        "service": {"dist": "deterministic", "value": 30.0},
        "queue_capacity": capacity,
        "params": {"size": 3, "max_wait": 20.0},
    }
    return Scenario.model_validate(
        {
            "name": "convoy",
            "days": 1,
            "nodes": {"src": {"kind": "source"}, "out": {"kind": "sink"}},
            "stations": {"escort": escort},
            "routes": {"r": {"origin": "src", "steps": ["escort"], "destination": "out"}},
            "arrivals": {
                "a": {
                    "lane": "L",
                    "direction": "export",
                    "cargo": "c",
                    "route": "r",
                    "trace": {"times": arrivals},
                }
            },
            "records": {"trucks": True, "visits": True},
        }
    )


def main() -> None:
    result = simulate(scenario(ARRIVALS, capacity=None))  # raises if the ledger breaks
    assert result.visits is not None
    visits = [(truck, start, end) for truck, _, _, start, end in result.visits]
    print("truck  convoy start  convoy end")
    for truck, start, end in visits:
        print(f"{truck:5d}  {start:12.1f}  {end:10.1f}")
    print("timeline as worked out by hand:", "yes" if visits == EXPECTED else "NO")
    row = result.stations["escort"]
    print(f"convoys {row['convoys']:.0f}, station gap {result.station_gaps['escort']}")

    # Room for 3 waiting trucks: 0, 1, 2 leave at 2; 2.5, 3, 3.5 wait for the escort (back
    # at 32) and fill the area, so the truck at 4 is turned away.
    crowded = simulate(scenario([0.0, 1.0, 2.0, 2.5, 3.0, 3.5, 4.0], capacity=3))
    row = crowded.stations["escort"]
    print(
        f"crowded: arrived {row['arrived']:.0f}, rejected {row['rejected']:.0f}, "
        f"departed {row['departed']:.0f}, lost {int(crowded.lost_by_stream.sum())}, "
        f"station gap {crowded.station_gaps['escort']}"
    )


if __name__ == "__main__":
    main()
