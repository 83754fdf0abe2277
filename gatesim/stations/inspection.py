"""Inspections: X-ray scanning, physical examination, plant/animal quarantine."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gatesim.model.distributions import Deterministic, Distribution
from gatesim.model.trucks import Truck
from gatesim.stations.base import Sampler, Station, StationContext
from gatesim.stations.registry import register_station


@register_station("xray_scanner")
class XrayScanner(Station):
    describe = "container X-ray scanner: one truck per scanning tunnel"


@register_station("physical_inspection")
class PhysicalInspection(Station):
    describe = "physical examination bay (unloading and checking the cargo)"


class QuarantineParams(BaseModel):
    """A share of trucks is held after sampling (waiting for lab results) without a server."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    hold_probability: float = Field(0.0, ge=0, le=1)
    hold_time: Distribution = Field(default_factory=lambda: Deterministic(value=0.0))


@register_station("quarantine")
class Quarantine(Station):
    describe = "plant/animal quarantine: sampling by inspectors, a share held for results"
    Params = QuarantineParams

    def bind(self, ctx: StationContext) -> None:
        super().bind(ctx)
        params: QuarantineParams = self.params  # type: ignore[assignment]
        self._hold_p = params.hold_probability
        self._hold = Sampler(params.hold_time, ctx.rng)
        self.held = 0

    def hold_time(self, truck: Truck) -> float:
        if self._hold_p > 0.0 and self.rng.random() < self._hold_p:
            self.held += 1
            return self._hold.draw()
        return 0.0

    def extra_metrics(self, now: float) -> dict[str, float]:
        return {"held": float(self.held)}
