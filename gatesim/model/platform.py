"""The digital border-gate platform: registration, staging yards, and the hand-over to dispatch.

A truck of a managed stream does not start its route on arrival: the engine hands it to its
platform (:meth:`Platforms.first_move`). The platform asks the response rule
(:mod:`gatesim.model.deferral`) whether it joins; a joining truck is **held** in the platform's
staging yards: a registered one (``registered_share``, one draw per truck) may be dispatched
at once, the others after a ``registration_delay`` draw. :mod:`gatesim.model.dispatch`
releases them to the gate; a released truck follows its route from its origin.

Held trucks fill the yards in order, then the approach road (spill-back, as in a
``staging_yard`` station). A deferred truck leaves the system (it waits at origin, counted as
*owed*) and is offered again later with its creation time reset to that moment (its time in
system is the gate's, the days at origin are its *added delay*); a diverted truck leaves for
good. The conservation of trucks becomes

    arrived = cleared + lost + diverted + in system + owed,

and the trucks in the system are at stations, on roads, or held here
(:mod:`gatesim.model.conservation`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from itertools import accumulate
from typing import Any

import numpy as np
import numpy.typing as npt

from gatesim.core.loop import FastEnvironment
from gatesim.core.monitors import HourlyProfile, TimeWeighted
from gatesim.core.results import PLATFORM_AT_REPORT, PLATFORM_COUNTS, PlatformResult, StreamInfo
from gatesim.core.trucks import Truck
from gatesim.model.deferral import DEFER, JOIN, Response, Uniforms
from gatesim.model.dispatch import Dispatch
from gatesim.model.network import Network
from gatesim.scenario.platform import ROAD, PlatformSpec
from gatesim.scenario.schema import Scenario
from gatesim.stations.base import Sampler, Station

__all__ = ["Platform", "Platforms", "destinations"]

HELD, UNREGISTERED, OWED, DIVERTED, DISPATCHED, DEFERRALS, REJOINED = range(len(PLATFORM_COUNTS))


def destinations(scenario: Scenario) -> tuple[str, ...]:
    """Every diversion destination, in order of first mention (the same in every part)."""
    found: dict[str, None] = {}
    for spec in scenario.platform.values():
        if spec.diversion is not None:
            found.update(dict.fromkeys(spec.diversion.to))
    return tuple(found)


def changed_place(filled: list[int], held: int, change: int) -> int:
    """The place whose count changes when the held trucks become ``held`` by ``change`` (+1 or
    -1): that of truck number ``held`` (joining) or ``held + 1`` (leaving), counted from 1 in
    the fill order. ``filled`` are the yards' cumulative capacities; past them is the road."""
    return bisect_left(filled, held if change > 0 else held + 1)


class _Ledger:
    """The engine's live counts a platform changes and its way to hand trucks on, the run's
    warm-up and horizon, and the result arrays every platform adds to."""

    def __init__(
        self,
        engine: tuple[list[int], list[int], Callable[[Truck], None], Any],
        scenario: Scenario,
        streams: int,
        gates: int,
    ) -> None:
        self.in_system, self.on_vn, self.forward, self.record = engine
        self.warmup, self.horizon = scenario.warmup_min, scenario.horizon_min
        #: per stream, the PLATFORM_COUNTS columns (plain lists: changed per truck)
        self.counts = [[0] * len(PLATFORM_COUNTS) for _ in range(streams)]
        self.added_delay = np.zeros(streams, dtype=np.float64)
        self.diverted_measured = np.zeros((streams, gates), dtype=np.int64)

    def leave(self, truck: Truck) -> None:
        """The truck leaves the gate's system (to its origin, or another gate)."""
        k = truck.stream_index
        self.in_system[k] -= 1
        self.on_vn[k] -= truck.on_vn

    def back(self, truck: Truck) -> None:
        k = truck.stream_index
        self.in_system[k] += 1
        self.on_vn[k] += truck.on_vn


class Platform:
    """One platform: its response rule, its held trucks and yards, its dispatch."""

    def __init__(
        self,
        name: str,
        spec: PlatformSpec,
        station: Station,
        travel_min: float,
        env: FastEnvironment,
        rng: Callable[[str], np.random.Generator],
        ledger: _Ledger,
        gates: tuple[str, ...],
    ) -> None:
        def named(part: str) -> np.random.Generator:
            return rng(f"platform/{name}/{part}")

        self.name, self.spec, self._env, self._ledger = name, spec, env, ledger
        self.vn = station.spec.side == "VN"
        self.response = Response(spec, named, gates)
        self.dispatch = Dispatch(
            spec.dispatch,
            station,
            travel_min,
            env,
            self._released,
            self.response.window_min if self.response.active else None,
        )
        self._registered_u = Uniforms(named("registered"))
        delay = spec.registration_delay
        self._delay = Sampler(delay, named("registration_delay")) if delay else None
        self.held = 0
        self._first_offer: dict[int, float] = {}  # deferred trucks: first arrival time
        # Trucks held fill the yards in order, then the road: the place of the t-th held truck
        # (from 1) is the first yard whose cumulative capacity is >= t (the road past them all).
        self._filled = list(accumulate(yard.capacity for yard in spec.yards))
        self._before = [0, *self._filled]  # trucks held in the places before each place
        places = [*(yard.name for yard in spec.yards), ROAD]
        self.places = [f"{name}.{place}" for place in places]
        self._level = [TimeWeighted(0.0, 0.0) for _ in places]
        self._hourly = [HourlyProfile(0.0, 0.0) for _ in places]
        self._km_per_truck = spec.truck_spacing_m / 1000.0 / spec.road_lanes

    # ------------------------------------------------------------------ a truck's moves
    def offer(self, truck: Truck) -> None:
        """A truck arrives (or comes back from origin): join, defer or divert."""
        now = self._env._now
        outcome = self.response.decide(
            truck, now, self.held, self.dispatch.recent(now) if self.response.active else 0
        )
        if outcome == JOIN:
            self._join(truck, now)
        elif outcome == DEFER:
            self._defer(truck, now)
        else:
            self._divert(truck, now, outcome)

    def _join(self, truck: Truck, now: float) -> None:
        k = truck.stream_index
        counts = self._ledger.counts[k]
        first = self._first_offer.pop(truck.id, None)
        if first is not None and now >= self._ledger.warmup:
            counts[REJOINED] += 1
            self._ledger.added_delay[k] += now - first
        self.response.forget(truck)
        self._hold(+1, now)
        counts[HELD] += 1
        if self._is_registered():
            self.dispatch.add(truck)
            return
        counts[UNREGISTERED] += 1
        assert self._delay is not None  # the schema asks for one below a registered share of 1
        self._env.call_in(self._delay.draw(), self._registration_done, truck)

    def _is_registered(self) -> bool:
        share = self.spec.registered_share
        return share >= 1.0 or self._registered_u.draw() < share

    def _registration_done(self, truck: Truck) -> None:
        self._ledger.counts[truck.stream_index][UNREGISTERED] -= 1
        self.dispatch.add(truck)

    def _released(self, truck: Truck) -> None:
        counts = self._ledger.counts[truck.stream_index]
        counts[HELD] -= 1
        counts[DISPATCHED] += 1
        self._hold(-1, self._env._now)
        self._ledger.forward(truck)

    def _defer(self, truck: Truck, now: float) -> None:
        counts = self._ledger.counts[truck.stream_index]
        self._first_offer.setdefault(truck.id, truck.created)
        self.response.deferrals[truck.id] = self.response.deferrals.get(truck.id, 0) + 1
        self._ledger.leave(truck)
        counts[OWED] += 1
        if now >= self._ledger.warmup:
            counts[DEFERRALS] += 1
        assert self.response.defer_min is not None
        back = now + self.response.defer_min
        if back < self._ledger.horizon:  # later than the horizon it stays owed
            self._env.call_in(self.response.defer_min, self._come_back, truck)

    def _come_back(self, truck: Truck) -> None:
        self._ledger.counts[truck.stream_index][OWED] -= 1
        self._ledger.back(truck)
        truck.created = truck.visit_t = self._env._now
        self.offer(truck)

    def _divert(self, truck: Truck, now: float, gate: int) -> None:
        k = truck.stream_index
        self._first_offer.pop(truck.id, None)
        self.response.forget(truck)
        self._ledger.leave(truck)
        self._ledger.counts[k][DIVERTED] += 1
        if now >= self._ledger.warmup:
            self._ledger.diverted_measured[k, gate] += 1
        if self._ledger.record is not None:
            self._ledger.record(truck, now, "diverted")

    # ------------------------------------------------------------------ yards
    def _hold(self, change: int, now: float) -> None:
        """One truck more (``change`` +1) or fewer (-1) held: only the place of the last truck
        in the fill order changes (``fill_areas(capacities, held)`` in every other place)."""
        held = self.held + change
        self.held = held
        place = changed_place(self._filled, held, change)
        count = held - self._before[place]
        self._level[place].update(now, count)
        self._hourly[place].update(now, count)

    def spillback_km(self) -> float:
        """Length of the held trucks' queue on the approach road now (km)."""
        return self._level[-1].level * self._km_per_truck

    def owed(self) -> list[int]:
        """Ids of the trucks deferred and not yet back (each comes back and decides at once)."""
        return list(self._first_offer)

    def reset_statistics(self, now: float) -> None:
        for level, hourly in zip(self._level, self._hourly, strict=True):
            level.reset(now)
            hourly.reset(now)

    def yards(self, now: float) -> dict[str, dict[str, float]]:
        """Each yard's (and the road's) mean, max and mean by hour of day."""
        out: dict[str, dict[str, float]] = {}
        for place, level, hourly in zip(self.places, self._level, self._hourly, strict=True):
            row = {"mean": level.mean(now), "max": float(level.max)}
            row.update({f"h{h:02d}": float(v) for h, v in enumerate(hourly.means(now))})
            out[place] = row
        road = self._level[-1]
        out[self.places[-1]]["km_mean"] = road.mean(now) * self._km_per_truck
        out[self.places[-1]]["km_max"] = road.max * self._km_per_truck
        return out


class Platforms:
    """Every platform of a replication (those of its part), and what the engine asks of them."""

    def __init__(
        self,
        scenario: Scenario,
        streams: list[StreamInfo],
        stations: dict[str, Station],
        network: Network,
        env: FastEnvironment,
        rng: Callable[[str], np.random.Generator],
        ledger: tuple[list[int], list[int], Callable[[Truck], None], Any],
    ) -> None:
        s, n = scenario, len(streams)
        self._env, self._scenario = env, s
        self.destinations = destinations(s)
        index = {info.name: k for k, info in enumerate(streams)}
        self.managed = tuple(
            sorted(index[name] for spec in s.platform.values() for name in spec.streams)
        )
        self._books = books = _Ledger(ledger, s, n, len(self.destinations))
        self.at_report = np.zeros((s.days, n, len(PLATFORM_AT_REPORT)), dtype=np.int64)
        self.by_stream: list[Platform | None] = [None] * n
        self.platforms: list[Platform] = []
        for name, spec in s.platform.items():
            station = stations.get(spec.dispatch.station)
            if station is None:  # another part's platform
                continue
            origin = s.routes[s.arrivals[spec.streams[0]].route].origin
            travel = network.travel(origin, station.name)
            platform = Platform(name, spec, station, travel, env, rng, books, self.destinations)
            self.platforms.append(platform)
            for stream in spec.streams:
                self.by_stream[index[stream]] = platform
        self._vn = np.array([p is not None and p.vn for p in self.by_stream], dtype=bool)

    @property
    def counts(self) -> npt.NDArray[np.int64]:
        """The platforms' ledger by stream (rows) and ``PLATFORM_COUNTS`` (columns), as a new
        array."""
        return np.array(self._books.counts, dtype=np.int64).reshape(-1, len(PLATFORM_COUNTS))

    def first_move(self, forward: Callable[[Truck], None]) -> Callable[[Truck], None]:
        """The arrival chain's first move of each truck: its platform's offer, or ``forward``."""
        by_stream = self.by_stream

        def move(truck: Truck) -> None:
            platform = by_stream[truck.stream_index]
            if platform is None:
                forward(truck)
            else:
                platform.offer(truck)

        return move

    def start(self) -> None:
        """Schedule the daily report and the end of the warm-up."""
        s = self._scenario
        hours, minutes = (int(x) for x in s.report_time.split(":"))
        self._env.call_in(hours * 60.0 + minutes, self._report)
        if s.warmup_min > 0:
            self._env.call_in(s.warmup_min, self._end_warmup)

    def _report(self, _arg: object) -> None:
        day = int(self._env._now // 1440.0)
        counts = self.counts
        self.at_report[day, :, 0] = counts[:, HELD]
        self.at_report[day, :, 1] = np.where(self._vn, counts[:, UNREGISTERED], 0)
        self.at_report[day, :, 2] = counts[:, OWED]
        if day + 1 < self._scenario.days:
            self._env.call_in(1440.0, self._report)

    def _end_warmup(self, _arg: object) -> None:
        for platform in self.platforms:
            platform.reset_statistics(self._env._now)

    def held(self) -> int:
        return sum(platform.held for platform in self.platforms)

    def owed(self) -> set[int]:
        """Ids of the trucks waiting at origin (deferred, not yet back)."""
        return {truck for platform in self.platforms for truck in platform.owed()}

    def conservation_error(self) -> str | None:
        """The platforms' own ledger: counts never negative, held = the yards' trucks."""
        counts = self.counts
        if (counts < 0).any():
            return "a platform count fell below zero"
        held = int(counts[:, HELD].sum())
        if held != self.held():
            return f"platform trucks held by stream {held} != held in the yards {self.held()}"
        queued = sum(len(p.dispatch) for p in self.platforms)
        if queued + int(counts[:, UNREGISTERED].sum()) != held:
            return "platform trucks held != registered waiting for dispatch + unregistered"
        return None

    def result(self, now: float) -> PlatformResult:
        yards: dict[str, dict[str, float]] = {}
        for platform in self.platforms:
            yards.update(platform.yards(now))
        return PlatformResult(
            destinations=self.destinations,
            managed=self.managed,
            by_stream=self.counts,
            diverted_measured=self._books.diverted_measured.copy(),
            added_delay_sum_min=self._books.added_delay.copy(),
            at_report=self.at_report,
            yards=yards,
        )
