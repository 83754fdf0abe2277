"""Checkpoints where a truck is checked and released: gates, documents, weighing, border guards.

They behave as the base station (servers, service time, discipline, hours); the types exist so
that scenario files, reports and plots say what each station is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gatesim.core.distributions import Distribution, Triangular
from gatesim.core.trucks import Truck
from gatesim.scenario.schema import StationSpec
from gatesim.stations.base import NoParams, Station, StationContext
from gatesim.stations.registry import register_station


@register_station("station")
class GenericStation(Station):
    describe = "generic multi-server station (M/G/c with hours)"


@register_station("gate_checkin")
class GateCheckIn(Station):
    describe = "gate check-in booth (ticket, licence and declaration checks)"


@register_station("document_check")
class DocumentCheck(Station):
    describe = "customs document check (yellow channel) or declaration desk"


@register_station("weighbridge")
class Weighbridge(Station):
    describe = "weighbridge: one truck per deck"


@register_station("border_guard")
class BorderGuard(Station):
    describe = "border-guard exit/entry check of driver and vehicle"


class Outage(BaseModel):
    """A technology outage in hours from the scenario start: every read fails inside it."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    from_h: float = Field(ge=0)
    to_h: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Outage:
        if self.to_h <= self.from_h:
            raise ValueError(f"to_h ({self.to_h}) must be after from_h ({self.from_h})")
        return self


class AutoGateParams(BaseModel):
    """ANPR/RFID/QR lanes; a failed read sends the truck to a manual booth."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    read_success: float = Field(0.98, ge=0, le=1)
    manual_booths: int = Field(1, ge=1, le=1000)
    manual_service: Distribution = Field(
        default_factory=lambda: Triangular(low=3.0, mode=6.0, high=15.0)
    )
    outages: list[Outage] = Field(default_factory=list)


@register_station("auto_gate")
class AutoGate(Station):
    """Automatic gate lanes (servers) with a manual fallback booth inside the same station.

    Sets the truck attribute ``gate_read`` to ``ok`` or ``failed``.
    """

    describe = "auto-gate (ANPR/RFID/QR) with read failures falling back to a manual booth"
    Params = AutoGateParams
    outcomes: ClassVar[dict[str, tuple[str, ...]]] = {"gate_read": ("ok", "failed")}

    def bind(self, ctx: StationContext) -> None:
        super().bind(ctx)
        params: AutoGateParams = self.params  # type: ignore[assignment]
        self._read_success = params.read_success
        self._read_rng = ctx.stream("read")
        self._outages = [(o.from_h * 60.0, o.to_h * 60.0) for o in params.outages]
        self.read_failures = 0
        booth_spec = StationSpec(
            servers=params.manual_booths,
            service=params.manual_service,
            side=self.spec.side,
            label=f"{self.name} manual booth",
        )
        self.manual = self.add_internal(
            GenericStation(f"{self.name}/manual", booth_spec, NoParams()),
            replace(ctx, rng=ctx.stream("manual"), substream=None),
        )

    def _read_ok(self, now: float) -> bool:
        if any(start <= now < end for start, end in self._outages):
            return False
        return self._read_success >= 1.0 or self._read_rng.random() < self._read_success

    def arrive(self, truck: Truck) -> None:
        if self._read_ok(self.env.now):
            truck.attrs["gate_read"] = "ok"
            super().arrive(truck)
            return
        truck.attrs["gate_read"] = "failed"
        self.accept(truck)
        self.read_failures += 1
        self.hand_to(self.manual, truck)  # the booth accounts for it from here

    def extra_metrics(self, now: float) -> dict[str, float]:
        booth = self.manual.statistics(now)
        return {
            "read_failures": float(self.read_failures),
            "manual_arrived": booth["arrived"],
            "manual_utilization": booth["utilization"],
            "manual_wait_mean_min": booth["wait_mean_min"],
            "manual_queue_max": booth["queue_max"],
        }
