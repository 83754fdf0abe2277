"""Saturation: a lane and direction whose backlog grows through the run.

Above capacity a queue has no steady state: its time-in-system figures grow with the run
length and mean nothing on their own. Two signs are read, per lane and direction:

* **The backlog grows.** ``backlog_growth_per_day.<lane>.<direction>`` is the least-squares
  slope of the report-time backlog over one replication's measured days. The lane grows when
  the 95 % t-interval of that slope across replications lies above 0 *and* its mean is
  material: at least ``MATERIAL_SHARE`` of the lane's offered trucks per day (a stable queue
  still drifts a little while it settles after the warm-up). One replication has no interval;
  then its slope alone must reach ``SINGLE_RUN_SHARE`` of the offered trucks.
* **Little's law fails** at one of the lane's stations beyond the run's tolerance (a queue
  that is not empty at both ends of the measured period, see ``ExperimentResult.checks``).

The same growth test decides the capacity ramp (``gatesim.experiment.capacity``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gatesim.stats.intervals import t_interval

__all__ = [
    "DIRECTIONS",
    "MATERIAL_SHARE",
    "SINGLE_RUN_SHARE",
    "Growth",
    "LaneWarning",
    "backlog_growth",
    "lane_groups",
    "lane_warnings",
]

MATERIAL_SHARE = 0.01
SINGLE_RUN_SHARE = 0.05
DIRECTIONS = ("export", "import")
GROWTH = "backlog_growth_per_day"
_NOT_LANES = ("direction", "cargo", "season")


@dataclass(frozen=True)
class Growth:
    """The backlog trend of one lane and direction across replications (trucks per day)."""

    mean: float
    lo: float
    hi: float
    offered_per_day: float
    replications: int

    @property
    def grows(self) -> bool:
        """The growth test (see the module docstring)."""
        if math.isnan(self.mean) or self.offered_per_day <= 0:
            return False
        if self.replications < 2:
            return self.mean >= SINGLE_RUN_SHARE * self.offered_per_day
        return self.lo > 0 and self.mean >= MATERIAL_SHARE * self.offered_per_day


def lane_groups(kpi_names: Iterable[str], prefix: str = GROWTH) -> list[str]:
    """The ``<lane>.<direction>`` groups of the ``prefix`` KPI among these names (by default
    those with a backlog trend), in first-seen order."""
    groups = []
    for name in kpi_names:
        if not name.startswith(prefix + "."):
            continue
        group = name[len(prefix) + 1 :]
        lane, _, direction = group.rpartition(".")
        if direction in DIRECTIONS and lane and lane not in _NOT_LANES:
            groups.append(group)
    return groups


def backlog_growth(rows: Sequence[Mapping[str, float]], group: str) -> Growth:
    """The trend of ``group``'s backlog over replications' KPI rows ('' = the whole gate)."""
    suffix = f".{group}" if group else ""
    slopes = [row[GROWTH + suffix] for row in rows if not math.isnan(row[GROWTH + suffix])]
    offered = [row[f"offered_per_day{suffix}"] for row in rows]
    if not slopes:
        return Growth(math.nan, math.nan, math.nan, math.fsum(offered) / len(offered), 0)
    mean, lo, hi = t_interval(slopes)
    return Growth(mean, lo, hi, math.fsum(offered) / len(offered), len(slopes))


@dataclass(frozen=True)
class LaneWarning:
    """One saturated lane and direction, with the evidence."""

    group: str
    growth: Growth | None
    littles_law_stations: tuple[str, ...] = ()

    def message(self) -> str:
        lane, _, direction = self.group.rpartition(".")
        parts = []
        if self.growth is not None and self.growth.grows:
            g = self.growth
            interval = (
                f" [{g.lo:+.1f}, {g.hi:+.1f}]" if g.replications >= 2 else " (one replication)"
            )
            parts.append(
                f"backlog grows {g.mean:+.1f} trucks/day{interval} against "
                f"{g.offered_per_day:.0f} offered/day"
            )
        if self.littles_law_stations:
            parts.append("Little's law fails at " + ", ".join(self.littles_law_stations))
        return (
            f"{lane} {direction} is saturated: {'; '.join(parts)}; its times in system "
            "grow with run length"
        )

    def document(self) -> dict[str, object]:
        lane, _, direction = self.group.rpartition(".")
        g = self.growth
        return {
            "lane": lane,
            "direction": direction,
            "backlog_grows": bool(g is not None and g.grows),
            "growth_per_day": None if g is None else _finite(g.mean),
            "growth_ci95": None if g is None else [_finite(g.lo), _finite(g.hi)],
            "offered_per_day": None if g is None else _finite(g.offered_per_day),
            "littles_law_stations": list(self.littles_law_stations),
            "message": self.message(),
        }


def lane_warnings(
    rows: Sequence[Mapping[str, float]],
    littles_law_failures: Sequence[str],
    stations_by_group: Mapping[str, Sequence[str]],
) -> list[LaneWarning]:
    """Every saturated lane and direction, in KPI order: a growing backlog, or a station of
    the lane where Little's law failed (``littles_law_failures``: station names)."""
    if not rows:
        return []
    failed = set(littles_law_failures)
    warnings = []
    for group in lane_groups(list(rows[0])):
        growth = backlog_growth(rows, group)
        stations = tuple(s for s in stations_by_group.get(group, ()) if s in failed)
        if growth.grows or stations:
            warnings.append(LaneWarning(group, growth, stations))
    return warnings


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None
