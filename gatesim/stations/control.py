"""Flow control: a daily cap on how many trucks a point releases (e.g. the Chinese side's
acceptance limit in a disruption, rows 42-43 of the domain sheet), and the Chinese side's
acceptance of Vietnamese trucks: a daily registration limit and a finite far-side yard."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gatesim.core.trucks import Truck
from gatesim.stations.base import Station, StationContext
from gatesim.stations.registry import register_station

MINUTES_PER_DAY = 1440.0


class DailyCapParams(BaseModel):
    """At most ``per_day`` service starts per model day on days [from_day, to_day)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    per_day: int = Field(ge=0, le=10_000_000)
    from_day: int = Field(0, ge=0)
    to_day: int | None = Field(None, gt=0)


@register_station("daily_cap")
class DailyCap(Station):
    """A station that starts at most ``per_day`` services per day inside its cap window;
    the rest wait for the next day (and for the station's opening hours)."""

    describe = "daily release cap (downstream acceptance limit for disruption runs)"
    Params = DailyCapParams

    def bind(self, ctx: StationContext) -> None:
        super().bind(ctx)
        params: DailyCapParams = self.params  # type: ignore[assignment]
        self._cap = params.per_day
        self._from = params.from_day
        self._to = params.to_day if params.to_day is not None else 10**9
        self._starts_by_day: dict[int, int] = {}
        self.capped_days = 0

    def _capped(self, day: int) -> bool:
        return self._from <= day < self._to and self._starts_by_day.get(day, 0) >= self._cap

    def next_start(self, now: float) -> float:
        start = self.calendar.next_open(now)
        while start != float("inf") and self._capped(int(start // MINUTES_PER_DAY)):
            # a zero cap closes the whole window; otherwise only today is used up
            next_day = self._to if self._cap == 0 else start // MINUTES_PER_DAY + 1
            if next_day >= 10**9:
                return float("inf")
            start = self.calendar.next_open(next_day * MINUTES_PER_DAY)
        return start

    def service_time(self, truck: Truck) -> float:
        day = int(self.env.now // MINUTES_PER_DAY)
        self._starts_by_day[day] = self._starts_by_day.get(day, 0) + 1
        if self._from <= day < self._to and self._starts_by_day[day] == self._cap:
            self.capped_days += 1
        return super().service_time(truck)

    def extra_metrics(self, now: float) -> dict[str, float]:
        return {"capped_days": float(self.capped_days)}


class AcceptanceParams(BaseModel):
    """``per_day``: registrations accepted per model day (none: no daily limit); ``slots``:
    parking slots of the far-side yard the accepted trucks go to (none: unlimited)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    per_day: int | None = Field(None, ge=0, le=10_000_000)
    slots: int | None = Field(None, ge=1, le=10_000_000)

    @model_validator(mode="after")
    def _limits_something(self) -> AcceptanceParams:
        if self.per_day is None and self.slots is None:
            raise ValueError("give per_day, slots or both")
        return self


@register_station("acceptance")
class Acceptance(DailyCap):
    """The far side's acceptance of trucks: at most ``per_day`` service starts a day, and only
    while one of the yard's ``slots`` is free.

    A truck takes a slot as its service starts and holds it through the crossing, its delivery
    and the dwell of its empty return; the slot is freed when that empty leaves the yard's side
    of the border, or when the truck (or its empty) leaves the system without crossing back
    (:mod:`gatesim.model.returns` calls :meth:`release`). Trucks wait here, in the queue.
    """

    describe = "far-side acceptance: daily registration limit and finite yard slots"
    Params = AcceptanceParams  # type: ignore[assignment]
    SLOT = "yard_slot"  # the truck attribute naming the acceptance station whose slot it holds

    def bind(self, ctx: StationContext) -> None:
        Station.bind(self, ctx)
        params: AcceptanceParams = self.params  # type: ignore[assignment]
        self._cap = params.per_day if params.per_day is not None else 10**9
        self._from, self._to = 0, 10**9
        self._starts_by_day = {}
        self.capped_days = 0
        self.slots = params.slots if params.slots is not None else 10**9
        self.occupied = 0
        self.full_minutes = 0.0
        self._full_since = math.nan

    def next_start(self, now: float) -> float:
        if self.occupied >= self.slots:
            return math.inf  # woken by release()
        return super().next_start(now)

    def service_time(self, truck: Truck) -> float:
        if self.slots < 10**9:  # a finite yard: the truck holds one of its slots
            self.occupied += 1
            if self.occupied == self.slots:
                self._full_since = self.env.now
            truck.attrs[self.SLOT] = self.name
        return super().service_time(truck)

    def release(self, now: float) -> None:
        """A slot of the yard is free again: let the next waiting truck in."""
        if self.occupied == self.slots and not math.isnan(self._full_since):
            self.full_minutes += max(0.0, now - max(self._full_since, self.warmup))  # measured
            self._full_since = math.nan
        self.occupied -= 1
        if self.occupied < 0:
            raise RuntimeError(f"{self.name}: a yard slot released twice")
        self.serve_waiting(now)

    def extra_metrics(self, now: float) -> dict[str, float]:
        full = self.full_minutes
        if not math.isnan(self._full_since):
            full += now - max(self._full_since, self.warmup)
        return {
            "capped_days": float(self.capped_days),
            "slots_occupied_end": float(self.occupied),
            "yard_full_hours": max(full, 0.0) / 60.0,
        }
