"""Booked arrival slots: the schema of a slot plan (``slots:``) and its capacity by slot.

A plan covers one lane and direction: every truck of the streams with that lane and
direction books a slot on the day's plan before it drives to the gate. Its wished arrival
time (what the arrival process gives) picks the earliest slot with room at or after it
(:mod:`gatesim.model.slots`); then it keeps the booking early, on time or late, or does not
come. Nothing here draws random numbers or simulates: the model books, the KPIs report.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from gatesim.core.calendar import Calendar, utc_offset_minutes
from gatesim.core.distributions import Distribution, Uniform

if TYPE_CHECKING:
    from gatesim.scenario.schema import Scenario

__all__ = ["COMPLIANCE", "SlotPlanSpec", "check_slot_refs", "slot_capacity", "slot_meta"]

#: The compliance categories, in the order their shares are drawn.
COMPLIANCE = ("early", "on_time", "late", "no_show")
MINUTES_PER_DAY = 1440
_TOLERANCE = 1e-9


def _not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


# The schema's conventions (gatesim.scenario.schema imports this module, so it cannot lend
# them): frozen, unknown keys refused, finite numbers that are not true/false.
class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


Int = Annotated[int, BeforeValidator(_not_bool)]
Float = Annotated[float, BeforeValidator(_not_bool)]
Name = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.\-/]+$")]
Capacity = Annotated[Int, Field(ge=0, le=100_000)]


class ComplianceSpec(_Frozen):
    """Shares of booked trucks that come early, on time, late or not at all (sum 1)."""

    early: Float = Field(0.0, ge=0, le=1)
    on_time: Float = Field(1.0, ge=0, le=1)
    late: Float = Field(0.0, ge=0, le=1)
    no_show: Float = Field(0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _sums_to_one(self) -> ComplianceSpec:
        total = math.fsum(self.shares())
        if abs(total - 1.0) > _TOLERANCE:
            raise ValueError(f"early + on_time + late + no_show must sum to 1, not {total:.12g}")
        return self

    def shares(self) -> list[float]:
        return [self.early, self.on_time, self.late, self.no_show]


class SlotPlanSpec(_Frozen):
    """One lane and direction's booked slots (``slots.<plan>``).

    * ``slot_min``: slot length in minutes; a whole number of slots fills a day.
    * ``per_slot``: trucks per slot, one number or 24 by hour of day (VN model clock) of
      the slot's start; ``calendar`` (optional) gives no slots while it is closed.
    * ``compliance``: shares early / on time / late / no-show. An early truck arrives
      ``early_min`` before its slot starts (not before time 0), an on-time one ``on_time_min``
      after it starts (default uniform over the slot), a late one ``late_min`` after it ends.
      A no-show is lost: it never arrives and does not book again (counted).
    """

    lane: Name
    direction: Literal["export", "import"]
    slot_min: Float = Field(60.0)
    per_slot: Capacity | Annotated[list[Capacity], Field(min_length=24, max_length=24)]
    calendar: Name | None = None
    compliance: ComplianceSpec = Field(default_factory=ComplianceSpec)
    early_min: Distribution = Field(default_factory=lambda: Uniform(low=0.0, high=60.0))
    on_time_min: Distribution | None = None
    late_min: Distribution = Field(default_factory=lambda: Uniform(low=0.0, high=60.0))

    @field_validator("slot_min")
    @classmethod
    def _whole_slots_a_day(cls, slot_min: float) -> float:
        if slot_min <= 0:
            raise ValueError("slot length must be above 0 minutes")
        if slot_min > MINUTES_PER_DAY or abs(MINUTES_PER_DAY / slot_min % 1) > _TOLERANCE:
            raise ValueError("a day (1440 min) must hold a whole number of slots")
        return slot_min

    @field_validator("per_slot")
    @classmethod
    def _some_capacity(cls, per_slot: int | list[int]) -> int | list[int]:
        if not any(per_slot) if isinstance(per_slot, list) else per_slot == 0:
            raise ValueError("a slot plan needs some capacity: every slot takes 0 trucks")
        return per_slot

    def by_hour(self) -> list[int]:
        """Trucks per slot by the hour of day of the slot's start."""
        return self.per_slot if isinstance(self.per_slot, list) else [self.per_slot] * 24

    def slots_per_day(self) -> int:
        return round(MINUTES_PER_DAY / self.slot_min)


def slot_capacity(scenario: Scenario, plan: SlotPlanSpec) -> npt.NDArray[np.int64]:
    """Trucks each slot of the horizon takes, shape (days × slots per day,): the hourly
    capacity of its start, or 0 when the plan's calendar is closed at its start."""
    starts = np.arange(scenario.days * plan.slots_per_day()) * plan.slot_min
    hours = (starts // 60 % 24).astype(np.int64)
    capacity = np.asarray(plan.by_hour(), dtype=np.int64)[hours]
    if plan.calendar is not None:
        spec = scenario.calendars[plan.calendar]
        offset = utc_offset_minutes(scenario.timezone, scenario.start_date)
        calendar = Calendar.compile(spec, scenario.start_date, scenario.days, offset)
        capacity[[not calendar.is_open(float(t)) for t in starts]] = 0
    return capacity


def check_slot_refs(s: Scenario) -> None:
    """Each plan names a lane and direction some stream uses, once, and a known calendar."""
    flows = {(a.lane, a.direction) for a in s.arrivals.values()}
    seen: dict[tuple[str, str], str] = {}
    for name, plan in s.slots.items():
        flow = (plan.lane, plan.direction)
        if flow not in flows:
            raise ValueError(
                f"slots.{name}.lane: no arrival stream has lane '{plan.lane}' and direction "
                f"'{plan.direction}'"
            )
        if flow in seen:
            raise ValueError(
                f"slots.{name}: lane {plan.lane} {plan.direction} is already "
                f"booked by slots.{seen[flow]}"
            )
        seen[flow] = name
        if plan.calendar is not None and plan.calendar not in s.calendars:
            raise ValueError(f"slots.{name}.calendar: unknown calendar '{plan.calendar}'")


def slot_meta(s: Scenario) -> dict[str, dict[str, object]]:
    """Per plan, what the KPIs need and cannot count: its lane, direction, streams and the
    capacity of the slots starting in the measured period [warm-up, horizon)."""
    out: dict[str, dict[str, object]] = {}
    for name, plan in s.slots.items():
        capacity = slot_capacity(s, plan)
        first = math.ceil(s.warmup_min / plan.slot_min - _TOLERANCE)
        out[name] = {
            "lane": plan.lane,
            "direction": plan.direction,
            "capacity": int(capacity[first:].sum()),
        }
    return out
