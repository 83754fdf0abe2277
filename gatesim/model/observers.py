"""What a replication observes on a clock: hourly snapshots, the daily report, the warm-up end.

Observers read the replication's live counts (the lists themselves, changed in place) and
never change the model; each schedules its next observation, so the heap holds one of each.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from gatesim.core.loop import FastEnvironment
from gatesim.model.platform import Platforms
from gatesim.model.returns import ReturnTrips
from gatesim.scenario.platform import ROAD
from gatesim.scenario.schema import Scenario
from gatesim.stations.base import Station

__all__ = ["MINUTES_PER_DAY", "Observers", "spillback_gauges"]

MINUTES_PER_DAY = 1440.0


class Observers:
    """Trucks in the system, queue lengths, trucks at each station and the yards' spill-back
    (km) at the top of each hour; the backlog (trucks in the system,
    and those on the VN side, by stream) and the empties at the daily report time; the
    stations' statistics restarted at the end of the warm-up."""

    def __init__(
        self,
        scenario: Scenario,
        env: FastEnvironment,
        stations: dict[str, Station],
        in_system: list[int],
        on_vn: list[int],
        returns: ReturnTrips,
        platforms: Platforms | None = None,
    ) -> None:
        s = scenario
        self._scenario, self._env, self._stations, self._returns = s, env, stations, returns
        self._in_system, self._on_vn = in_system, on_vn
        n = len(in_system)
        self.backlog_at_report: npt.NDArray[np.int64] = np.zeros((s.days, n), dtype=np.int64)
        self.vn_side_at_report: npt.NDArray[np.int64] = np.zeros((s.days, n), dtype=np.int64)
        self.in_system_by_hour: npt.NDArray[np.int64] = np.zeros((s.days, 24), dtype=np.int64)
        # One array per figure, a station per row; each station's entry is its row (a view),
        # so a snapshot writes every station's figure of the hour in one assignment.
        self._station_list = list(stations.values())
        self._queues = np.zeros((len(stations), s.days, 24), dtype=np.int64)
        self._inside = np.zeros((len(stations), s.days, 24), dtype=np.int64)
        self.queue_by_hour = {name: self._queues[i] for i, name in enumerate(stations)}
        self.at_station_by_hour = {name: self._inside[i] for i, name in enumerate(stations)}
        self._gauges = spillback_gauges(stations, platforms)
        self.spillback_km_by_hour = {
            name: np.zeros((s.days, 24), dtype=np.float64) for name in self._gauges
        }

    def start(self) -> None:
        """Schedule the first report, the first snapshot and the warm-up end."""
        env = self._env
        hours, minutes = (int(x) for x in self._scenario.report_time.split(":"))
        env.call_in(hours * 60.0 + minutes, self._report)
        env.call_in(0, self._snapshot)
        if self._scenario.warmup_min > 0:
            env.call_in(self._scenario.warmup_min, self._end_warmup)

    def _report(self, _arg: object) -> None:
        day = int(self._env.now // MINUTES_PER_DAY)
        self.backlog_at_report[day] = self._in_system
        self.vn_side_at_report[day] = self._on_vn
        self._returns.report(day)
        if day + 1 < self._scenario.days:
            self._env.call_in(MINUTES_PER_DAY, self._report)

    def _snapshot(self, _arg: object) -> None:
        now = self._env.now
        day, hour = int(now // MINUTES_PER_DAY), int(now % MINUTES_PER_DAY // 60)
        self.in_system_by_hour[day, hour] = sum(self._in_system)
        stations = self._station_list
        self._queues[:, day, hour] = [len(station.queue) for station in stations]
        self._inside[:, day, hour] = [station.inside() for station in stations]
        for name, gauge in self._gauges.items():
            self.spillback_km_by_hour[name][day, hour] = gauge()
        if now + 60.0 < self._scenario.horizon_min:
            self._env.call_in(60.0, self._snapshot)

    def _end_warmup(self, _arg: object) -> None:
        for station in self._stations.values():
            station.reset_statistics(self._env.now)


def spillback_gauges(
    stations: dict[str, Station], platforms: Platforms | None
) -> dict[str, Callable[[], float]]:
    """What reads a spill-back (km) now: the staging yards (station types with a
    ``spillback_km`` method), by station name in the scenario's order, then each platform's
    approach road as ``<platform>.approach_road`` in the scenario's order."""
    gauges: dict[str, Callable[[], float]] = {
        name: station.spillback_km  # type: ignore[attr-defined]
        for name, station in stations.items()
        if callable(getattr(station, "spillback_km", None))
    }
    for platform in platforms.platforms if platforms is not None else []:
        gauges[f"{platform.name}.{ROAD}"] = platform.spillback_km
    return gauges
