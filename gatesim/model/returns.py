"""Empty return trips: every delivery of a stream that declares ``returns`` sends one empty
truck home.

A loaded truck that reaches its sink has been unloaded (or transshipped) in the far-side yard;
the truck itself is still there. It parks for a ``dwell`` draw, capped by the exit rule
(``max_stay_h`` after the delivery), then follows the return route home through both sides'
exit and entry checks, sharing their servers with loaded trucks. Empties are counted apart
from loaded trucks (their own ledger, never in the cleared-load counts), so conservation
holds for each kind separately:

    deliveries of returning streams = empties created + deliveries carried home,
    empties created = cleared + lost + in the system + paired,
    empties in the system = parked in the yard + at stations or on roads.

With ``backhaul`` (the two-way pilot [s 38, 55]) a delivered truck that matches ``when`` waits
in the far yard (up to ``max_stay_h``) for a load of the paired stream, first come first
served; the first such load to arrive is carried by it (the load's truck is that truck, so its
delivery at home starts no empty return), and one empty trip each way is avoided.

Each stream draws its dwell times from its own random stream (``returns/<stream>/dwell``), so a
lane simulated alone draws the numbers it draws inside the whole scenario.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from gatesim.core.results import StreamInfo
from gatesim.core.trucks import CARRIED, Truck
from gatesim.scenario.schema import Scenario
from gatesim.stations.base import Sampler, Station
from gatesim.stations.control import Acceptance

MINUTES_PER_DAY = 1440.0
_WAITING, _PAIRED = object(), object()  # an empty's step while it waits for a load / took one
#: Columns of ``RunResult.empty_by_stream`` (per loaded stream whose deliveries return).
EMPTY_COUNTS = (
    "created",
    "cleared",
    "lost",
    "in_system",
    "forced_out",  # dwell cut short by the exit rule
    "cleared_measured",  # reached home after the warm-up
    "timed",  # ... and was created after it (the time-in-system sample)
    "paired",  # waited for a load and carried it home instead (backhaul)
    "carried_home",  # deliveries by such a truck: home already, no empty return
    "avoided_measured",  # empty trips avoided (paired + carried_home) after the warm-up
)
#: Columns of ``RunResult.empty_at_report`` (per day and stream, at report time).
EMPTY_AT_REPORT = ("in_system", "on_vn_side", "parked")


def empty_truck(loaded: Truck, now: float, on_vn: bool) -> Truck:
    """The empty truck a delivery leaves in the far-side yard (a negative id: never a loaded
    truck's, which are arrival positions from 0)."""
    empty = Truck(
        -(loaded.id + 1),
        f"{loaded.stream}/empty",
        loaded.stream_index,
        loaded.lane,
        "empty",
        "empty",
        "empty",
        now,
        loaded.node,
        dict(loaded.attrs),  # the stream's attributes, and the yard slot it holds
    )
    loaded.attrs.pop(Acceptance.SLOT, None)  # passed on to the empty
    empty.empty = True
    empty.on_vn = on_vn
    return empty


class ReturnTrips:
    """The ledger and scheduler of one replication's empty returns, and the keeper of the
    far-side yard slots they hold (see :class:`gatesim.stations.control.Acceptance`).

    ``call(delay, callback, truck)`` schedules the end of a dwell; ``forward`` sends a truck on
    along its compiled route; ``vn_side`` tells, for every node, whether it lies in Vietnam.
    """

    def __init__(
        self,
        scenario: Scenario,
        streams: list[StreamInfo],
        rng: Callable[[str], np.random.Generator],
        call: Callable[..., Any],
        vn_side: dict[str, bool],
    ) -> None:
        n = len(streams)
        self._call, self._vn_side = call, vn_side
        self._warmup, self._days = scenario.warmup_min, scenario.days
        self._specs = [scenario.arrivals[info.name].returns for info in streams]
        self.routes = {spec.route for spec in self._specs if spec is not None}
        self._dwell = [
            Sampler(spec.dwell, rng(f"returns/{info.name}/dwell")) if spec else None
            for spec, info in zip(self._specs, streams, strict=True)
        ]
        self._max_stay = [
            spec.max_stay_h * 60.0 if spec and spec.max_stay_h else float("inf")
            for spec in self._specs
        ]
        self._origin = [scenario.routes[s.route].origin if s else "" for s in self._specs]
        index = {info.name: k for k, info in enumerate(streams)}
        # per stream: (loads stream index, attributes to match, longest wait) for backhaul
        self._backhaul = [
            (index[b.loads], tuple(b.when.items()), b.max_stay_h * 60.0)
            if spec and (b := spec.backhaul)
            else None
            for spec in self._specs
        ]
        self._waiting: dict[int, deque[Truck]] = {
            pair[0]: deque() for pair in self._backhaul if pair is not None
        }
        self._start: list[Any] = [None] * n
        self._forward: Callable[[Truck], None] | None = None
        self._now: Callable[[], float] = lambda: 0.0
        self._yards: dict[str, Acceptance] = {}
        #: per stream, the EMPTY_COUNTS columns (plain lists: the hot path changes them per
        #: trip; :attr:`counts` is the array)
        self._counts = [[0] * len(EMPTY_COUNTS) for _ in range(n)]
        self.parked = [0] * n
        self.on_vn = [0] * n
        self.at_report = np.zeros((scenario.days, n, len(EMPTY_AT_REPORT)), dtype=np.int64)
        self.tis_sum = [0.0] * n  # minutes from delivery to home, empties created after warm-up

    @property
    def counts(self) -> npt.NDArray[np.int64]:
        """The ledger by stream (rows) and ``EMPTY_COUNTS`` (columns), as a new array."""
        return np.array(self._counts, dtype=np.int64).reshape(-1, len(EMPTY_COUNTS))

    @property
    def pairs(self) -> bool:
        """True when arriving loads may be carried by waiting trucks (backhaul)."""
        return bool(self._waiting)

    @property
    def active(self) -> bool:
        """True when deliveries and losses need this ledger (returns or yard slots)."""
        return bool(self.routes or self._yards)

    def bind(
        self,
        route_start: dict[str, Any],
        forward: Callable[[Truck], None],
        stations: dict[str, Station],
        now: Callable[[], float],
    ) -> None:
        """Attach the compiled return routes and the yards (before time 0)."""
        for k, spec in enumerate(self._specs):
            if spec is not None and spec.route in route_start:
                self._start[k] = route_start[spec.route]
        self._forward, self._now = forward, now
        self._yards = {n: st for n, st in stations.items() if isinstance(st, Acceptance)}

    def _free_slot(self, truck: Truck) -> None:
        """The truck leaves its yard for good: its slot, if it holds one, is free again."""
        name = truck.attrs.pop(Acceptance.SLOT, None)
        if name is not None:
            self._yards[name].release(self._now())

    # ------------------------------------------------------------------ a truck's life
    def delivered(self, loaded: Truck, now: float) -> None:
        """A loaded truck reached its sink: its empty parks, then heads home."""
        k = loaded.stream_index
        sampler = self._dwell[k]
        counts = self._counts[k]
        if loaded.attrs.pop(CARRIED, None) is not None:  # its truck is home: no empty trip
            counts[8] += 1
            counts[9] += now >= self._warmup
            self._free_slot(loaded)
            return
        if sampler is None:
            self._free_slot(loaded)
            return
        empty = empty_truck(loaded, now, self._vn_side[loaded.node])
        counts[0] += 1
        counts[3] += 1
        self.parked[k] += 1
        self.on_vn[k] += empty.on_vn
        backhaul = self._backhaul[k]
        if backhaul is not None and _matches(loaded, backhaul[1]):
            empty.step = _WAITING  # waits for a load, at most max_stay_h
            self._waiting[backhaul[0]].append(empty)
            self._call(backhaul[2], self._depart, empty)
            return
        dwell = sampler.draw()
        if dwell > self._max_stay[k]:  # the exit rule sends it out
            dwell = self._max_stay[k]
            counts[4] += 1
        self._call(dwell, self._depart, empty)

    def load_arrived(self, load: Truck) -> None:
        """A load of a paired stream arrived: the longest-waiting truck carries it home."""
        waiting = self._waiting.get(load.stream_index)
        if not waiting:
            return
        backhaul = self._backhaul[waiting[0].stream_index]
        assert backhaul is not None
        if not _matches(load, backhaul[1]):
            return
        carrier = waiting.popleft()
        carrier.step = _PAIRED  # its exit-rule departure, still scheduled, does nothing
        k = carrier.stream_index
        self.parked[k] -= 1
        self._leave(carrier)
        counts = self._counts[k]
        counts[7] += 1
        counts[9] += self._now() >= self._warmup
        load.attrs[CARRIED] = carrier.stream

    def _depart(self, empty: Truck) -> None:
        if empty.step is _PAIRED:
            return
        k = empty.stream_index
        if empty.step is _WAITING:  # no load came within the stay allowed: home empty
            backhaul = self._backhaul[k]
            assert backhaul is not None
            self._waiting[backhaul[0]].remove(empty)
            self._counts[k][4] += 1
        self.parked[k] -= 1
        empty.node = self._origin[k]
        self.cross(empty, self._vn_side[empty.node])
        empty.step = self._start[k]
        assert self._forward is not None
        self._forward(empty)

    def cross(self, empty: Truck, vn: bool) -> None:
        """The empty now is at, or heads for, a place on the side ``vn``."""
        if empty.on_vn is not vn:
            empty.on_vn = vn
            self.on_vn[empty.stream_index] += 1 if vn else -1
            self._free_slot(empty)  # it left the yard's side of the border

    def cleared(self, empty: Truck, now: float) -> None:
        """The empty reached the return route's sink (home)."""
        k = empty.stream_index
        self._leave(empty)
        counts = self._counts[k]
        counts[1] += 1
        if now >= self._warmup:
            counts[5] += 1
            if empty.created >= self._warmup:
                self.tis_sum[k] += now - empty.created
                counts[6] += 1

    def lost(self, empty: Truck) -> None:
        self._leave(empty)
        self._counts[empty.stream_index][2] += 1

    def lost_load(self, loaded: Truck) -> None:
        """A loaded truck turned away somewhere: its yard slot, if any, is free."""
        self._free_slot(loaded)

    def _leave(self, empty: Truck) -> None:
        self._free_slot(empty)
        k = empty.stream_index
        self._counts[k][3] -= 1
        self.on_vn[k] -= empty.on_vn

    # ------------------------------------------------------------------ observers and checks
    def report(self, day: int) -> None:
        """Empties in the system, on the Vietnamese side and parked, at report time."""
        self.at_report[day, :, 0] = [counts[3] for counts in self._counts]
        self.at_report[day, :, 1] = self.on_vn
        self.at_report[day, :, 2] = self.parked

    def moving(self) -> int:
        """Empties at stations or on roads (in the system and not parked)."""
        return sum(counts[3] for counts in self._counts) - sum(self.parked)

    def conservation_error(self) -> str | None:
        counts = self.counts
        created, cleared, lost, inside = (counts[:, i].sum() for i in range(4))
        paired = counts[:, 7].sum()
        if created != cleared + lost + inside + paired or (counts[:, 3] < 0).any():
            total = cleared + lost + inside + paired
            return f"empties created {created} != cleared + lost + in system + paired {total}"
        if min(self.parked, default=0) < 0 or min(self.on_vn, default=0) < 0:
            return "negative count of parked empties or of empties on the Vietnamese side"
        return None


def _matches(truck: Truck, when: tuple[tuple[str, str], ...]) -> bool:
    return all(truck.get(attr) == value for attr, value in when)
