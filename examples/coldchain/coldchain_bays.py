"""A third-party station type: a cold-chain quarantine bay that inspects reefers in batches.

This module lives outside the ``gatesim`` package on purpose: it is a plug-in. A scenario names
its type ``cold_chain_bay`` and never imports anything itself; gatesim knows the type once the
module is loaded explicitly, in one of two ways:

- installed as a package (``pip install examples/coldchain``): ``pyproject.toml`` declares the
  entry point ``cold_chain_bay = "coldchain_bays:ColdChainBay"`` in the group
  ``gatesim.stations``, so every gatesim command finds it without a flag;
- named on the command line, ``--plugin examples/coldchain/coldchain_bays.py`` (or
  ``gatesim.load_plugin(path)`` in Python, as ``run.py`` does): importing the module runs the
  ``@register_station("cold_chain_bay")`` decorator below.

Behaviour: the bay's ``servers`` are inspection positions in a refrigerated shed. The shed is
only opened for a batch: service starts when ``batch_size`` trucks wait, or when the oldest
waiting truck has waited ``max_wait`` minutes, whichever comes first (and only in the station's
opening hours). The trucks of a released batch then start as positions free up; trucks arriving
meanwhile wait for the next batch. Each inspected truck leaves with ``cold_result`` set to
``pass`` or ``resample`` (routes may branch on it), drawn from the bay's own ``result`` stream.
"""

from __future__ import annotations

import math
from typing import ClassVar, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gatesim import Station, StationContext, Truck, register_station


class ColdChainParams(BaseModel):
    """``params:`` of a cold-chain bay, validated when the scenario is loaded."""

    # The same config as the built-in types: immutable, unknown keys rejected, finite numbers.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    batch_size: int = Field(4, ge=1, le=1000)
    max_wait: float = Field(60.0, ge=0, le=7 * 1440)  # minutes
    resample_probability: float = Field(0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _batching_needs_a_wait(self) -> ColdChainParams:
        if self.batch_size > 1 and self.max_wait == 0:
            raise ValueError("max_wait must be > 0 when batch_size > 1 (a zero wait never batches)")
        return self


@register_station("cold_chain_bay")
class ColdChainBay(Station):
    describe = "cold-chain quarantine bay: opens for batches of reefers (example plug-in)"
    Params = ColdChainParams
    outcomes: ClassVar[dict[str, tuple[str, ...]]] = {"cold_result": ("pass", "resample")}

    # ------------------------------------------------------------------ set-up
    def bind(self, ctx: StationContext) -> None:
        super().bind(ctx)  # always first: sets env, rng, calendar, monitors
        params = cast(ColdChainParams, self.params)  # validated by Params at load time
        self.batch_size = params.batch_size
        self.max_wait = params.max_wait
        self.resample_probability = params.resample_probability
        self._result_rng = ctx.stream("result")  # an extra named stream, independent of self.rng
        self._to_start = 0  # trucks of the released batch that have not started yet
        self._reset_counts()

    def _reset_counts(self) -> None:
        self.batches = {"full": 0, "timeout": 0}
        self.batched_trucks = 0
        self.resampled = 0

    def reset_statistics(self, now: float) -> None:
        super().reset_statistics(now)
        self._reset_counts()

    # ------------------------------------------------------------------ hooks
    def next_start(self, now: float) -> float:
        """Earliest time a waiting truck may start: a released batch goes on at once; otherwise
        wait for a full batch or for the oldest truck's ``max_wait``, within opening hours."""
        if self._to_start > 0 or self.batch_size == 1:
            return self.calendar.next_open(now)
        if len(self.queue) == 0:
            return math.inf  # an arriving truck joins the queue instead of starting directly
        if len(self.queue) >= self.batch_size:
            return self.calendar.next_open(now)
        oldest = min(truck.visit_t for truck in self.queue)
        return self.calendar.next_open(max(now, oldest + self.max_wait))

    def service_time(self, truck: Truck) -> float:
        now = self.env.now
        if self._to_start == 0:  # this truck opens a new batch with the trucks behind it
            size = min(self.batch_size, len(self.queue) + 1)
            self._to_start = size
            if now >= self.warmup:
                self.batches["full" if size == self.batch_size else "timeout"] += 1
                self.batched_trucks += size
        self._to_start -= 1
        resample = self._result_rng.random() < self.resample_probability
        truck.attrs["cold_result"] = "resample" if resample else "pass"
        if resample and now >= self.warmup:
            self.resampled += 1
        return super().service_time(truck)  # the scenario's service / service_when draw

    def extra_metrics(self, now: float) -> dict[str, float]:
        batches = self.batches["full"] + self.batches["timeout"]
        return {
            "batches": float(batches),
            "batches_full": float(self.batches["full"]),
            "batches_timeout": float(self.batches["timeout"]),
            "batch_size_mean": self.batched_trucks / batches if batches else math.nan,
            "resampled": float(self.resampled),
        }
