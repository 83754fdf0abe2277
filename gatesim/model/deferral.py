"""How a truck responds to the wait the platform shows it: join, stay at origin, or go elsewhere.

When a truck is offered to the platform (on arrival, and again each time a deferred truck comes
back) it compares the **expected wait** with its **tolerance**:

* expected wait = trucks held in the platform (registered or not) ÷ the platform's dispatch
  rate over the last ``rate_window_h`` hours (0 with nobody held; unbounded when trucks are
  held and none was released in the window). Before one whole window has passed there is no
  rate to show, and every truck joins.
* tolerance: one draw per truck (hours, by cargo class, ``tolerance_h``), kept for its next
  offers.

A truck whose expected wait exceeds its tolerance diverts to another gate when a ``share``
draw says so, or when it has already been deferred ``after_deferrals`` times; otherwise, with a
``deferral`` block, it stays at origin and is offered again ``after_days`` days later at the
same clock time; without one it joins after all. Each draw comes from its own named stream
(``platform/<name>/tolerance/<cargo>``, ``…/diversion``, ``…/destination``).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate

import numpy as np

from gatesim.core.trucks import Truck
from gatesim.scenario.platform import PlatformSpec
from gatesim.stations.base import Sampler

__all__ = ["DEFER", "JOIN", "Response", "Uniforms"]

JOIN, DEFER = -1, -2  # the other outcomes are destination indices (>= 0)
MINUTES_PER_DAY = 1440.0


class Uniforms:
    """Uniform draws on [0, 1) from one stream, in blocks."""

    __slots__ = ("_block", "_rng")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._block: list[float] = []

    def draw(self) -> float:
        if not self._block:
            self._block = self._rng.random(256).tolist()[::-1]
        return self._block.pop()


class Response:
    """The response rule of one platform (see the module docstring)."""

    def __init__(
        self,
        spec: PlatformSpec,
        rng: Callable[[str], np.random.Generator],
        destinations: tuple[str, ...],
    ) -> None:
        self.active = bool(spec.tolerance_h)
        self.window_min = spec.rate_window_h * 60.0
        self._tolerance = {
            cargo: Sampler(dist, rng(f"tolerance/{cargo}"))
            for cargo, dist in spec.tolerance_h.items()
        }
        self.defer_min = spec.deferral.after_days * MINUTES_PER_DAY if spec.deferral else None
        diversion = spec.diversion
        self._share = diversion.share if diversion else 0.0
        self._after = diversion.after_deferrals if diversion else None
        self._targets: list[int] = []
        self._cumulative: list[float] = []
        if diversion is not None:
            self._targets = [destinations.index(gate) for gate in diversion.to]
            self._cumulative = list(accumulate(diversion.to.values()))
        self._divert_u = Uniforms(rng("diversion"))
        self._destination_u = Uniforms(rng("destination"))
        self._tolerances: dict[int, float] = {}  # truck id -> minutes
        self.deferrals: dict[int, int] = {}  # truck id -> times deferred so far

    def expected_wait(self, held: int, released_in_window: int) -> float:
        """Minutes a truck joining now would expect to wait (see the module docstring)."""
        if held == 0:
            return 0.0
        if released_in_window == 0:
            return math.inf
        return held * self.window_min / released_in_window

    def decide(self, truck: Truck, now: float, held: int, released_in_window: int) -> int:
        """JOIN, DEFER or the index of the destination gate the truck diverts to."""
        if not self.active or now < self.window_min:
            return JOIN
        tolerance = self._tolerances.get(truck.id)
        if tolerance is None:
            tolerance = self._tolerance[truck.cargo].draw() * 60.0
            self._tolerances[truck.id] = tolerance
        if self.expected_wait(held, released_in_window) <= tolerance:
            return JOIN
        if self._targets:
            deferred = self.deferrals.get(truck.id, 0)
            worn_out = self._after is not None and deferred >= self._after
            if worn_out or self._divert_u.draw() < self._share:
                return self._destination()
        return DEFER if self.defer_min is not None else JOIN

    def _destination(self) -> int:
        u = self._destination_u.draw()
        index = min(bisect_right(self._cumulative, u), len(self._targets) - 1)
        return self._targets[index]

    def forget(self, truck: Truck) -> None:
        """The truck joined or diverted: its draws are no longer needed."""
        self._tolerances.pop(truck.id, None)
        self.deferrals.pop(truck.id, None)
