"""Flow control: a daily cap on how many trucks a point releases (e.g. the Chinese side's
acceptance limit in a disruption, rows 42-43 of the domain sheet)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gatesim.model.trucks import Truck
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
