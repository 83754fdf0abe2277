"""A finished replication's counters as a :class:`RunResult`, in a canonical order.

Per-truck samples and records come out in an order that does not depend on how the run was
cut (one environment, or parts merged by :mod:`gatesim.experiment.parts`): time-in-system
samples sorted by time in system, stream, creation time and wait for opening (rows equal in
all four are interchangeable), so every sum over them adds in the same order; truck and visit
records sorted by truck id (a stable sort: a truck's visits keep their order), kept column by column
(:mod:`gatesim.core.records`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from gatesim.core.records import Records, sort_by_first
from gatesim.core.results import (
    TRUCK_COLUMNS,
    TRUCK_KINDS,
    VISIT_COLUMNS,
    VISIT_KINDS,
    RunResult,
)
from gatesim.core.trucks import Truck
from gatesim.model.slots import SlotBookings

if TYPE_CHECKING:
    from gatesim.model.engine import Replication

__all__ = [
    "SAMPLES",
    "add_slot_fields",
    "by_truck_id",
    "collect",
    "in_canonical_order",
    "sorted_delays",
    "truck_records",
    "truck_row",
    "visit_rows",
]

#: The per-truck time-in-system sample fields of RunResult, sorted by the first column first.
SAMPLES = (
    "time_in_system_min",
    "time_in_system_stream",
    "time_in_system_created_min",
    "waiting_for_opening_min",
)


def in_canonical_order(samples: dict[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
    """The :data:`SAMPLES` arrays, rows sorted (see the module docstring).

    Sorting by the first column alone gives the same order when it has no ties (the usual
    case with continuous service times) at a fraction of the four-key sort."""
    first = samples[SAMPLES[0]]
    order = np.argsort(first, kind="stable")
    ranked = first[order]
    if (ranked[1:] == ranked[:-1]).any():  # ties: order them by the other columns
        order = np.lexsort([samples[attr] for attr in reversed(SAMPLES)])  # last key first
    return {attr: samples[attr][order] for attr in SAMPLES}


def by_truck_id(rows: Records | None) -> Records | None:
    """Records sorted by truck id, stably and in place (None when the records were not
    kept)."""
    return None if rows is None else sort_by_first(rows)


def truck_records() -> Records:
    """An empty store of truck records (TRUCK_COLUMNS)."""
    return Records(TRUCK_COLUMNS, TRUCK_KINDS)


class DayVisits(Records):
    """Visit records that keep only the visits overlapping one day: a row
    ``(truck, station, arrive, start, end)`` is kept when ``arrive < day end`` and
    ``end >= day start`` (``records.visits_day``; rows are appended when service starts,
    so every field is known then)."""

    def __init__(self, day: int) -> None:
        super().__init__(VISIT_COLUMNS, VISIT_KINDS)
        self.start, self.end = day * 1440.0, (day + 1) * 1440.0

    def append(self, row: tuple[Any, ...]) -> None:
        if row[2] < self.end and row[4] >= self.start:
            super().append(row)


def visit_rows(kept: bool, day: int | None) -> Records | None:
    """The replication's visit records: None when not kept, all visits, or one day's."""
    if not kept:
        return None
    return Records(VISIT_COLUMNS, VISIT_KINDS) if day is None else DayVisits(day)


def truck_row(truck: Truck, when: float, outcome: str) -> tuple[Any, ...]:
    """One row of the per-truck records, in TRUCK_COLUMNS order."""
    return (
        truck.id,
        truck.stream,
        truck.lane,
        truck.direction,
        truck.cargo,
        truck.channel,
        truck.created,
        when,
        outcome,
    )


def _record_unfinished(run: Replication) -> None:
    """Rows for the trucks still in the system at the end (``in_system``) and those a platform
    deferred that are still at origin (``deferred``), when truck records are kept."""
    if run.truck_rows is None:
        return
    owed = run.platforms.owed() if run.platforms is not None else set()
    for truck in run.live.values():
        outcome = "deferred" if truck.id in owed else "in_system"  # waiting at origin
        run.truck_rows.append(truck_row(truck, float("nan"), outcome))


def collect(run: Replication) -> RunResult:
    """The result of a finished replication (the trucks still in the system are recorded as
    ``in_system``, those a platform deferred and that are still at origin as ``deferred``)."""
    s, now, observed = run.scenario, run.env.now, run.observers
    _record_unfinished(run)
    samples = in_canonical_order(
        {
            "time_in_system_min": np.frombuffer(run.tis, dtype=np.float64).copy(),
            "time_in_system_stream": np.asarray(run.tis_stream, dtype=np.int64),
            "time_in_system_created_min": np.frombuffer(run.tis_created, dtype=np.float64).copy(),
            "waiting_for_opening_min": np.frombuffer(run.tis_closed, dtype=np.float64).copy(),
        }
    )
    result = RunResult(
        scenario=s.name,
        replication=run.replication,
        seed=run.seed,
        days=s.days,
        warmup_min=s.warmup_min,
        horizon_min=s.horizon_min,
        streams=run.streams,
        arrived_by_stream=_ints(run.arrived),
        cleared_by_stream=_ints(run.cleared),
        lost_by_stream=_ints(run.lost),
        reneged_by_stream=_ints(run.reneged),
        balked_by_stream=_ints(run.balked),
        reneged_after_warmup_by_stream=_ints(run.reneged_after_warmup),
        balked_after_warmup_by_stream=_ints(run.balked_after_warmup),
        in_system_by_stream=_ints(run.in_system),
        cleared_after_warmup_by_stream=_ints(run.cleared_after_warmup),
        arrived_after_warmup_by_stream=run.arrivals.offered_after_warmup,
        cleared_by_day_stream=_ints(run.cleared_by_day_stream),
        cleared_by_day_hour=_ints(run.cleared_by_day_hour),
        backlog_at_report=observed.backlog_at_report,
        vn_side_at_report=observed.vn_side_at_report,
        empty_by_stream=run.returns.counts.copy(),
        empty_at_report=run.returns.at_report,
        empty_tis_sum_min=np.asarray(run.returns.tis_sum, dtype=np.float64),
        in_system_by_hour=observed.in_system_by_hour,
        queue_by_hour=observed.queue_by_hour,
        at_station_by_hour=observed.at_station_by_hour,
        spillback_km_by_hour=observed.spillback_km_by_hour,
        stations={name: st.statistics(now) for name, st in run.stations.items()},
        station_types={name: s.stations[name].type for name in run.stations},
        station_gaps={name: st.conservation_gap() for name, st in run.stations.items()},
        trucks=by_truck_id(run.truck_rows),
        visits=by_truck_id(run.visit_rows),
        meta=s.result_meta(),
        time_in_system_min=samples["time_in_system_min"],
        time_in_system_stream=samples["time_in_system_stream"],
        time_in_system_created_min=samples["time_in_system_created_min"],
        waiting_for_opening_min=samples["waiting_for_opening_min"],
        platform=run.platforms.result(now) if run.platforms is not None else None,
        arrived_by_hour_stream=run.arrivals.arrived_by_hour,
    )
    bookings = run.arrivals.own_slot_bookings()
    if bookings is not None:
        add_slot_fields(result, bookings)
    return result


def add_slot_fields(result: RunResult, bookings: SlotBookings) -> None:
    """Put the booked-slot ledger into ``result``; the delays sorted by (minutes, stream), so
    parts merged in any order give the same bits."""
    result.slot_counts_by_stream = bookings.counts.copy()
    delays = sorted_delays(bookings.delay_min, bookings.delay_stream)
    result.slot_delay_min = delays["slot_delay_min"]
    result.slot_delay_stream = delays["slot_delay_stream"]


def sorted_delays(
    delay_min: npt.NDArray[np.float64], stream: npt.NDArray[np.int64]
) -> dict[str, npt.NDArray[Any]]:
    """Booking delays and their streams, sorted by (minutes, stream)."""
    order = np.lexsort([stream, delay_min])
    return {"slot_delay_min": delay_min[order], "slot_delay_stream": stream[order]}


def _ints(values: list[Any]) -> npt.NDArray[np.int64]:
    return np.asarray(values, dtype=np.int64)
