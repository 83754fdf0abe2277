"""Streaming time-weighted level monitors (queue length, busy servers, yard occupancy).

Both monitors hold O(1) state (``HourlyProfile``: 24 bins) whatever the run length, so long runs
keep bounded memory. Callers must pass non-decreasing ``now`` values (simulation time); this is
not checked because ``TimeWeighted.update`` sits on the hot path of every queue change.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["HourlyProfile", "TimeWeighted"]

HOURS_PER_DAY = 24


class TimeWeighted:
    """Time-weighted mean and maximum of a piecewise-constant level.

    Invariant: ``area(now)`` = ∫ level dt over [reset time, now]; the segment since the last
    update is kept open (level × (now − last update)) and closed by the next ``update``.
    ``max`` is the largest level held at any instant since the last reset.
    """

    __slots__ = ("_area", "_t_last", "_t_reset", "level", "max")

    def __init__(self, t0: float = 0.0, level: float = 0.0) -> None:
        self._t_reset = t0
        self._t_last = t0
        self._area = 0.0
        self.level = level  # current level; read-only for callers (change it with update)
        self.max = level

    def update(self, now: float, level: float) -> None:
        """Close the segment [last update, now] at the old level, then hold ``level``.

        The only code that writes a monitor's fields: stations call it on every queue and
        busy change (the hot path), so it stays a handful of slot operations."""
        self._area += self.level * (now - self._t_last)
        self._t_last = now
        self.level = level
        if level > self.max:
            self.max = level

    def reset(self, now: float) -> None:
        """Forget everything before ``now`` (warm-up truncation); the current level carries on."""
        self._t_reset = now
        self._t_last = now
        self._area = 0.0
        self.max = self.level

    @property
    def last_update(self) -> float:
        """Time of the last update (or reset): the current level has held since then."""
        return self._t_last

    def area(self, now: float) -> float:
        """∫ level dt over [reset time, now], including the open segment."""
        return self._area + self.level * (now - self._t_last)

    def mean(self, now: float) -> float:
        """Time-weighted mean level over [reset time, now]; 0.0 if no time has elapsed."""
        span = now - self._t_reset
        return self.area(now) / span if span > 0.0 else 0.0

    def __repr__(self) -> str:
        return (
            f"TimeWeighted(level={self.level!r}, max={self.max!r}, "
            f"since={self._t_reset!r}, last={self._t_last!r})"
        )


class HourlyProfile:
    """Time-weighted mean of a level for each hour of the day (24 bins) over [reset, now].

    Hour of day of time ``t`` is ``floor(t / hour_length) mod 24``: time 0 is local midnight
    (gatesim measures minutes from midnight, hence ``hour_length=60``). Bin ``h`` accumulates
    both the area and the time spent in hour ``h``, so its mean is area_h / time_h.
    """

    __slots__ = ("_area", "_hour_length", "_t_last", "_time", "level")

    def __init__(self, t0: float = 0.0, level: float = 0.0, hour_length: float = 60.0) -> None:
        if not hour_length > 0.0:
            raise ValueError(f"hour_length must be > 0, got {hour_length!r}")
        self._hour_length = hour_length
        self._t_last = t0
        self.level = level
        # Plain lists: scalar element updates are much cheaper than on numpy arrays.
        self._area = [0.0] * HOURS_PER_DAY
        self._time = [0.0] * HOURS_PER_DAY

    def update(self, now: float, level: float) -> None:
        """Close the segment [last update, now] at the old level, then hold ``level``."""
        _spread(self._area, self._time, self._t_last, now, self.level, self._hour_length)
        self._t_last = now
        self.level = level

    def reset(self, now: float) -> None:
        """Forget everything before ``now``; the current level carries on."""
        self._t_last = now
        self._area = [0.0] * HOURS_PER_DAY
        self._time = [0.0] * HOURS_PER_DAY

    def means(self, now: float) -> npt.NDArray[np.float64]:
        """Mean level per hour of day (index 0 = 00:00–01:00); NaN for hours never observed."""
        area, time = list(self._area), list(self._time)
        _spread(area, time, self._t_last, now, self.level, self._hour_length)
        a, t = np.asarray(area), np.asarray(time)
        out = np.full(HOURS_PER_DAY, np.nan)
        np.divide(a, t, out=out, where=t > 0.0)
        return out

    def hours_observed(self, now: float) -> npt.NDArray[np.float64]:
        """Time (in simulation units) spent in each hour-of-day bin over [reset, now]."""
        area, time = list(self._area), list(self._time)
        _spread(area, time, self._t_last, now, self.level, self._hour_length)
        return np.asarray(time)


def _spread(
    area: list[float], time: list[float], t0: float, t1: float, level: float, hour_length: float
) -> None:
    """Add the segment [t0, t1] at ``level`` to the hour-of-day bins (in place).

    Whole days are added to every bin at once, so the loop only visits the < 25 hour
    boundaries of the remainder.
    """
    h, end = t0 / hour_length, t1 / hour_length  # positions in hours
    days = math.floor((end - h) / HOURS_PER_DAY)
    if days > 0:
        dt = days * hour_length
        for b in range(HOURS_PER_DAY):
            area[b] += level * dt
            time[b] += dt
        end -= days * HOURS_PER_DAY
    while h < end:
        k = math.floor(h)
        nxt = min(k + 1.0, end)  # next hour boundary, or the end of the segment
        dt = (nxt - h) * hour_length
        b = k % HOURS_PER_DAY
        area[b] += level * dt
        time[b] += dt
        h = nxt
