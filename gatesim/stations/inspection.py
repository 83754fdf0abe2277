"""Inspections: X-ray scanning, physical examination, plant/animal quarantine."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from gatesim.core.distributions import Deterministic, Distribution
from gatesim.core.trucks import Truck
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


class RiskScanParams(BaseModel):
    """Drive-through scanning: a prior share of non-compliant trucks, the scanner's detection
    rate (sensitivity) and false-alarm rate. Routes send ``scan_alarm: yes`` to inspection."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    noncompliance_rate: float = Field(0.01, ge=0, le=1)
    detection_rate: float = Field(0.9, ge=0, le=1)
    false_alarm_rate: float = Field(0.02, ge=0, le=1)


@register_station("risk_scanner")
class RiskScanner(Station):
    """Scans every truck and sets ``scan_alarm`` (yes/no); counts detections, misses and false
    alarms (after the warm-up) for the throughput × detection trade-off."""

    describe = "drive-through X-ray with alarms; physical inspection only on alarm"
    Params = RiskScanParams
    outcomes: ClassVar[dict[str, tuple[str, ...]]] = {"scan_alarm": ("yes", "no")}

    def bind(self, ctx: StationContext) -> None:
        super().bind(ctx)
        params: RiskScanParams = self.params  # type: ignore[assignment]
        self._p_bad = params.noncompliance_rate
        self._p_detect = params.detection_rate
        self._p_false = params.false_alarm_rate
        self._risk_rng = ctx.stream("risk")
        self.counts = dict.fromkeys(
            ("scanned", "noncompliant", "detections", "misses", "false_alarms", "alarms"), 0
        )

    def service_time(self, truck: Truck) -> float:
        noncompliant = self._risk_rng.random() < self._p_bad
        alarm = self._risk_rng.random() < (self._p_detect if noncompliant else self._p_false)
        truck.attrs["scan_alarm"] = "yes" if alarm else "no"
        if self.env.now >= self.warmup:
            self._count(noncompliant, alarm)
        return super().service_time(truck)

    def _count(self, noncompliant: bool, alarm: bool) -> None:
        counts = self.counts
        counts["scanned"] += 1
        counts["alarms"] += alarm
        if noncompliant:
            counts["noncompliant"] += 1
            counts["detections" if alarm else "misses"] += 1
        elif alarm:
            counts["false_alarms"] += 1

    def reset_statistics(self, now: float) -> None:
        super().reset_statistics(now)
        self.counts = dict.fromkeys(self.counts, 0)

    def extra_metrics(self, now: float) -> dict[str, float]:
        return {key: float(value) for key, value in self.counts.items()}
