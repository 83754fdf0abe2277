"""Conservation of trucks, checked at the end of every replication (a violation is an engine or
station bug, never a result).

* Loaded trucks: arrived = cleared + lost + reneged + balked + in the system, and no count
  below zero; with a platform (``platform:``) + diverted + owed (deferred, waiting at origin),
  and the trucks held in the platform's yards are in the system
  (:meth:`gatesim.model.platform.Platforms.conservation_error` checks its own ledger).
* Demand: every truck a stream generates (its backlog included) arrives, or is still owed:
  a booked slot's no-show, or a booking past the horizon (:mod:`gatesim.model.slots`).
* Empty returns keep their own ledger
  (:meth:`gatesim.model.returns.ReturnTrips.conservation_error`).
* Every truck in the system (loaded, or empty and not parked) is at a station or on a road:
  road trips are the heap entries that call a station's ``arrive`` or the engine's landing at
  a sink (no other entry holds those methods).
* Every station keeps its ledger (:meth:`gatesim.stations.base.Station.conservation_gap`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gatesim.model.platform import DIVERTED, OWED

if TYPE_CHECKING:
    from gatesim.model.engine import Replication

__all__ = ["ConservationError", "check_conservation"]


class ConservationError(RuntimeError):
    """A truck was created but is neither cleared, lost nor in the system: an engine bug."""


def check_conservation(run: Replication, road_ends: set[int]) -> None:
    """Raise :class:`ConservationError` unless ``run`` accounts for every truck.

    ``road_ends``: the ids of the bound methods a road trip calls when it ends."""
    total = sum(run.arrived)
    in_system = sum(run.in_system)
    impatient = sum(run.reneged) + sum(run.balked)  # left a queue (gatesim.stations.impatience)
    accounted = sum(run.cleared) + sum(run.lost) + impatient + in_system
    terms = "cleared + lost + reneged + balked + in system"
    held = 0
    if run.platforms is not None:  # trucks that left for origin or another gate, and the held
        platform_error = run.platforms.conservation_error()
        if platform_error is not None:
            raise ConservationError(platform_error)
        accounted += int(
            run.platforms.counts[:, DIVERTED].sum() + run.platforms.counts[:, OWED].sum()
        )
        terms += " + diverted + owed"
        held = run.platforms.held()
    if total != accounted or min(run.in_system, default=0) < 0:
        raise ConservationError(f"arrived {total} != {terms} {accounted}")
    owed = _owed_gap(run.arrivals.demand, run.arrived, run.arrivals.unarrived())
    if owed is not None:
        raise ConservationError(owed)
    empties = run.returns.conservation_error()
    if empties is not None or min(run.on_vn, default=0) < 0:
        raise ConservationError(empties or "negative count of trucks on the VN side")
    present = _on_road(run.env._heap, road_ends) + sum(st.inside() for st in run.stations.values())
    present += held
    moving = in_system + run.returns.moving()  # loaded trucks and empties not parked
    if present != moving:
        raise ConservationError(
            f"{moving} trucks (loaded and empty) in the system but {present} found at "
            "stations, on roads or held in a platform (a station kept or dropped a truck "
            "without handing it on)"
        )
    leaks = {n: st.conservation_gap() for n, st in run.stations.items() if st.conservation_gap()}
    if leaks:
        raise ConservationError(f"station conservation broken: {leaks}")


def _owed_gap(demand: list[int], arrived: list[int], unarrived: list[int]) -> str | None:
    """Every truck a stream owes arrives, or is a booked-slot no-show, or is booked past the
    horizon (demand = arrived + unarrived, per stream); None when that holds."""
    for k, (owed, came, missed) in enumerate(zip(demand, arrived, unarrived, strict=True)):
        if owed != came + missed:
            return f"stream {k}: demand {owed} != arrived {came} + not arrived {missed}"
    return None


def _on_road(
    heap: list[tuple[float, int, int, Callable[[Any], object], Any]], ends: set[int]
) -> int:
    """Heap entries ``(time, priority, id, fn, truck)`` whose ``fn`` ends a road trip."""
    return sum(1 for entry in heap if entry[4] is not None and id(entry[3]) in ends)
