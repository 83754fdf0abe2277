"""The ``platform:`` section: the digital border-gate platform, its staging yards and dispatch,
and how trucks respond to a long expected wait (deferral, diversion).

One entry per platform, keyed by name, manages a set of arrival streams (usually one lane and
direction, e.g. the exports of 1119-1120). Every default lives here; the model's part is in
``gatesim.model.platform`` (holding and yards), ``dispatch`` and ``deferral``. Without a
``platform:`` section nothing of this runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator, model_validator

from gatesim.core.distributions import Distribution
from gatesim.scenario.schema import (
    Frozen,
    Name,
    PrioritySpec,
    _check_probabilities,
    _suggest,
    stations_in,
)

if TYPE_CHECKING:
    from gatesim.scenario.schema import Scenario

Share = Annotated[float, Field(ge=0, le=1)]
#: Where held trucks stand once every yard is full (its occupancy is reported as a yard's).
ROAD = "approach_road"


class StagingArea(Frozen):
    """One staging yard of the platform: trucks waiting for dispatch fill the yards in order,
    then the approach road (spill-back)."""

    name: Name
    capacity: int = Field(ge=0, le=10_000_000)


class DispatchSpec(Frozen):
    """Release trucks to ``station`` (the first station of every managed stream's route) while
    fewer than ``below`` of this platform's trucks are on their way to it or wait in its
    queue; ``order``: ``registration`` (first registered, first released) or ``priority``
    (``priority.order`` of a truck attribute first, registration order within a class)."""

    station: Name
    below: int = Field(ge=1, le=10_000_000)
    order: Literal["registration", "priority"] = "registration"
    priority: PrioritySpec | None = None

    @model_validator(mode="after")
    def _priority_needs_order(self) -> DispatchSpec:
        if self.order == "priority" and self.priority is None:
            raise ValueError("order 'priority' needs a 'priority: {by, order}' block")
        if self.order == "registration" and self.priority is not None:
            raise ValueError("'priority' applies only with order: priority")
        return self


class DeferralSpec(Frozen):
    """A truck whose expected wait exceeds its tolerance stays at origin and is offered again
    ``after_days`` days later, at the same clock time."""

    after_days: int = Field(1, ge=1, le=365)


class DiversionSpec(Frozen):
    """Trucks whose expected wait exceeds their tolerance that go to another gate instead:
    a ``share`` of them at once, and (with deferral) every truck already deferred
    ``after_deferrals`` times. ``to``: destination gates with their probabilities."""

    to: dict[Name, Share] = Field(min_length=1)
    share: Share = 0.0
    after_deferrals: int | None = Field(None, ge=1, le=365)

    @model_validator(mode="after")
    def _sums_to_one(self) -> DiversionSpec:
        _check_probabilities(list(self.to.values()), "diversion probabilities")
        return self


class PlatformSpec(Frozen):
    """One platform: the streams it manages, registration, yards, dispatch and response."""

    streams: list[Name] = Field(min_length=1)
    registered_share: Share = 1.0
    #: Minutes from arrival until an unregistered truck may be dispatched.
    registration_delay: Distribution | None = None
    yards: list[StagingArea] = Field(default_factory=list)
    truck_spacing_m: float = Field(20.0, gt=0, le=1000)
    road_lanes: int = Field(1, ge=1, le=16)
    dispatch: DispatchSpec
    #: Longest expected wait (hours) a truck accepts, by cargo class.
    tolerance_h: dict[Name, Distribution] = Field(default_factory=dict)
    #: The dispatch rate behind the expected wait is measured over this many past hours.
    rate_window_h: float = Field(24.0, gt=0, le=24 * 365)
    deferral: DeferralSpec | None = None
    diversion: DiversionSpec | None = None

    @field_validator("yards")
    @classmethod
    def _distinct_names(cls, yards: list[StagingArea]) -> list[StagingArea]:
        names = [yard.name for yard in yards]
        if len(set(names)) != len(names):
            raise ValueError(f"a yard name is used twice in {names}")
        if ROAD in names:
            raise ValueError(f"'{ROAD}' names the road beyond the yards, not a yard")
        return yards

    @model_validator(mode="after")
    def _consistent(self) -> PlatformSpec:
        if self.registered_share < 1.0 and self.registration_delay is None:
            raise ValueError("registered_share below 1 needs a registration_delay")
        responds = self.deferral is not None or self.diversion is not None
        if responds and not self.tolerance_h:
            raise ValueError("deferral and diversion need tolerance_h by cargo class")
        if self.tolerance_h and not responds:
            raise ValueError("tolerance_h needs a deferral or a diversion block")
        diversion = self.diversion
        if diversion is not None and diversion.after_deferrals is not None and not self.deferral:
            raise ValueError("diversion.after_deferrals needs a deferral block")
        return self


def check_platform_refs(s: Scenario) -> None:
    """Streams, dispatch stations and cargo classes named by ``platform:`` exist and fit."""
    owner: dict[str, str] = {}
    for name, spec in s.platform.items():
        where = f"platform.{name}"
        for stream in spec.streams:
            if stream not in s.arrivals:
                hint = _suggest(stream, s.arrivals)
                raise ValueError(f"{where}.streams: unknown arrival stream '{stream}'{hint}")
            if stream in owner:
                raise ValueError(
                    f"{where}.streams: '{stream}' is managed by platform.{owner[stream]}"
                )
            owner[stream] = name
        _check_dispatch_station(s, name, spec)
        cargo = {s.arrivals[stream].cargo for stream in spec.streams}
        for value in spec.tolerance_h:
            if value not in cargo:
                raise ValueError(
                    f"{where}.tolerance_h.{value}: no stream of this platform has cargo '{value}'"
                    f"{_suggest(value, cargo)}"
                )
        missing = sorted(cargo - set(spec.tolerance_h)) if spec.tolerance_h else []
        if missing:
            raise ValueError(f"{where}.tolerance_h: no tolerance for cargo {', '.join(missing)}")


def _check_dispatch_station(s: Scenario, name: str, spec: PlatformSpec) -> None:
    """The dispatch station exists, opens the route of every managed stream, and no other
    route visits it (so the platform's count of its trucks on their way to it is exact)."""
    where = f"platform.{name}.dispatch.station"
    station = spec.dispatch.station
    if station not in s.stations:
        hint = _suggest(station, s.stations)
        if any(station == yard.name for yard in spec.yards):
            hint = " (a yard of the platform; name the gate-side station trucks are sent to)"
        raise ValueError(f"{where}: unknown station '{station}'{hint}")
    managed = {s.arrivals[stream].route for stream in spec.streams}
    for route_name in sorted(managed):
        steps = s.routes[route_name].steps
        if not steps or steps[0] != station:
            raise ValueError(f"{where}: '{station}' must be the first step of route '{route_name}'")
    for stream, arrival in s.arrivals.items():
        routes = [arrival.route] + ([arrival.returns.route] if arrival.returns else [])
        for route_name in routes:
            if stream in spec.streams and route_name == arrival.route:
                continue
            if station in set(stations_in(s.routes[route_name].steps)):
                raise ValueError(
                    f"{where}: route '{route_name}' of stream '{stream}', not dispatched by "
                    f"this platform, visits '{station}'"
                )
