"""The plain record one replication returns: tidy arrays and per-station rows, no SimPy objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from gatesim.core.records import Records

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

TRUCK_COLUMNS = (
    "truck",
    "stream",
    "lane",
    "direction",
    "cargo",
    "channel",
    "created_min",
    "cleared_min",
    "outcome",
)
VISIT_COLUMNS = ("truck", "station", "arrive_min", "start_min", "end_min")
#: Each column's kind (gatesim.core.records: q integer, d float, s text).
TRUCK_KINDS = "qsssssdds"
VISIT_KINDS = "qsddd"
#: Ways a loaded truck leaves the system impatient, besides cleared and lost (conservation keys).
IMPATIENT_EXITS = ("reneged", "balked")


def _no_ints(dimensions: int) -> IntArray:
    return np.zeros((0,) * dimensions, dtype=np.int64)


@dataclass(frozen=True)
class StreamInfo:
    name: str
    lane: str
    direction: str
    cargo: str


#: Columns of ``PlatformResult.by_stream`` (whole run unless marked measured: events at or
#: after the warm-up).
#: Columns of the booked-slot counts per stream (``RunResult.slot_counts_by_stream``,
#: gatesim.model.slots). ``demand``, ``no_show_all`` and
#: ``pending`` cover the whole run (the conservation ledger); the rest cover the measured
#: period: ``booked`` and the compliance categories by slot start in [warm-up, horizon),
#: ``rolled`` by wished time at or after the warm-up.
SLOT_COUNTS = (
    "demand",
    "no_show_all",
    "pending",
    "booked",
    "early",
    "on_time",
    "late",
    "no_show",
    "rolled",
)

PLATFORM_COUNTS = (
    "held",  # in the platform at the end (registered or not), waiting for dispatch
    "unregistered",  # ... of whom not yet registered
    "owed",  # deferred, waiting at origin at the end (demand still owed)
    "diverted",  # went to another gate (whole run: the conservation term)
    "dispatched",  # released to the gate (whole run)
    "deferrals_measured",  # deferral decisions (a truck deferred twice counts twice)
    "joined_after_deferral_measured",  # deferred trucks that joined the platform at last
)
#: Columns of ``PlatformResult.at_report`` (per day and stream, at report time).
PLATFORM_AT_REPORT = ("held", "unregistered_vn", "owed")


@dataclass
class PlatformResult:
    """What the platforms measured (``platform:``; gatesim.model.platform). Arrays by stream
    follow ``RunResult.streams`` (zero for streams no platform manages)."""

    #: destination gates of diversions, in order of first mention in the scenario
    destinations: tuple[str, ...]
    #: indices of the streams a platform manages (in every part: all of the scenario's)
    managed: tuple[int, ...]
    by_stream: IntArray  # (streams, PLATFORM_COUNTS)
    diverted_measured: IntArray  # (streams, destinations), after the warm-up
    #: minutes from a deferred truck's first arrival to its joining the platform, summed over
    #: ``joined_after_deferral_measured``
    added_delay_sum_min: FloatArray
    at_report: IntArray  # (days, streams, PLATFORM_AT_REPORT)
    #: "<platform>.<yard>" (and "<platform>.approach_road"): time-weighted mean, max, and the
    #: mean by hour of day (keys "h00".."h23"), after the warm-up
    yards: dict[str, dict[str, float]]


@dataclass
class RunResult:
    """Everything a replication measured. Arrays indexed by stream follow ``streams``.

    Time-in-system samples cover trucks created after the warm-up that cleared before the end.
    Throughput counts trucks cleared after the warm-up. ``*_by_day`` arrays span all days.
    """

    scenario: str
    replication: int
    seed: int
    days: int
    warmup_min: float
    horizon_min: float
    streams: list[StreamInfo]
    arrived_by_stream: IntArray
    cleared_by_stream: IntArray
    lost_by_stream: IntArray
    #: trucks that left a station's queue impatient / would not join it (whole run)
    reneged_by_stream: IntArray
    balked_by_stream: IntArray
    #: the same, counting only those that left at or after the warm-up
    reneged_after_warmup_by_stream: IntArray
    balked_after_warmup_by_stream: IntArray
    in_system_by_stream: IntArray
    cleared_after_warmup_by_stream: IntArray
    #: arrivals (offered demand) at or after the warm-up
    arrived_after_warmup_by_stream: IntArray
    cleared_by_day_stream: IntArray
    cleared_by_day_hour: IntArray
    backlog_at_report: IntArray
    #: loaded trucks at report time whose place (station, or the one they head for) is on the
    #: Vietnamese side, by day and stream (the scope of the reported 20:00 backlogs)
    vn_side_at_report: IntArray
    #: empty returns by stream that delivered (columns: gatesim.model.returns.EMPTY_COUNTS)
    empty_by_stream: IntArray
    #: empties at report time by day and stream (columns: returns.EMPTY_AT_REPORT)
    empty_at_report: IntArray
    #: minutes from delivery to home, summed over the empties created after the warm-up that
    #: reached home (count: the ``cleared_measured`` column less those created before)
    empty_tis_sum_min: FloatArray
    in_system_by_hour: IntArray
    #: trucks waiting in each station's queue at the top of each hour (days, 24)
    queue_by_hour: dict[str, IntArray]
    time_in_system_min: FloatArray
    time_in_system_stream: IntArray
    #: arrival time (minutes) of each time-in-system sample, for breakdowns by season
    time_in_system_created_min: FloatArray
    #: minutes of each time-in-system sample spent waiting while the station it waited for
    #: was closed (gatesim.stations.opening_wait); time in system minus it is process time
    waiting_for_opening_min: FloatArray
    stations: dict[str, dict[str, float]]
    station_types: dict[str, str]
    station_gaps: dict[str, int]
    wall_seconds: float = 0.0
    #: rows in TRUCK_COLUMNS / VISIT_COLUMNS, sorted by truck id; None when not kept
    trucks: Records | None = None
    visits: Records | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    #: trucks at each station (waiting, in service or held) at the top of each hour (days, 24)
    at_station_by_hour: dict[str, IntArray] = field(default_factory=dict)
    #: staging yards only: queue on the approach road (km) at the top of each hour (days, 24)
    spillback_km_by_hour: dict[str, FloatArray] = field(default_factory=dict)
    #: the platforms' counts; None when the scenario declares no ``platform:``
    platform: PlatformResult | None = None
    #: arrivals by clock hour of the horizon and stream, shape (days × 24, streams)
    arrived_by_hour_stream: IntArray = field(default_factory=lambda: _no_ints(2))
    #: booked arrival slots by stream (columns: SLOT_COUNTS); shape (0, 0)
    #: without slot plans
    slot_counts_by_stream: IntArray = field(default_factory=lambda: _no_ints(2))
    #: minutes from the wished arrival time to the booked slot's start, of the trucks wished
    #: after the warm-up and booked before the horizon, sorted by (minutes, stream)
    slot_delay_min: FloatArray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    slot_delay_stream: IntArray = field(default_factory=lambda: _no_ints(1))

    @property
    def measured_days(self) -> float:
        return (self.horizon_min - self.warmup_min) / 1440.0

    def conservation(self) -> dict[str, int]:
        """arrived = cleared + lost + reneged + balked + in_system (+ diverted + deferred_owed
        with a platform); ``reneged`` and ``balked`` appear only when some truck did (runs
        without impatient trucks keep their keys)."""
        counts = {
            "arrived": int(self.arrived_by_stream.sum()),
            "cleared": int(self.cleared_by_stream.sum()),
            "lost": int(self.lost_by_stream.sum()),
            "in_system": int(self.in_system_by_stream.sum()),
        }
        for key in IMPATIENT_EXITS:
            left = int(getattr(self, f"{key}_by_stream").sum())
            if left:
                counts[key] = left
        if self.platform is not None:
            by_stream = self.platform.by_stream
            counts["diverted"] = int(by_stream[:, PLATFORM_COUNTS.index("diverted")].sum())
            counts["deferred_owed"] = int(by_stream[:, PLATFORM_COUNTS.index("owed")].sum())
        return counts
