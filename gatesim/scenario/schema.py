"""The scenario schema: a frozen, typed, validated description of one gate configuration.

Every default lives here. The YAML file is only a loader (see ``loader.py``); the model is built
from a :class:`Scenario` and never reads YAML. Cross-references (routes → stations, stations →
calendars) are checked here; graph reachability is checked when the network is built
(``gatesim.model.network``), which the loader also runs so that a bad file fails at load.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Tag,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from gatesim.core.calendar import CalendarSpec, check_timezone
from gatesim.core.dates import DateSpan
from gatesim.core.distributions import Distribution
from gatesim.scenario.kpi_names import check_kpi_names
from gatesim.scenario.slots import SlotPlanSpec, check_slot_refs

#: Fixed attributes of every truck. Arrival streams may add categorical ``attributes`` (e.g.
#: ``precleared``, ``eligible``) and station types may set outcome attributes (``scan_alarm``);
#: routes branch on, and stations match on, any of them.
TRUCK_ATTRIBUTES = ("lane", "direction", "cargo", "channel", "stream")
PROBABILITY_TOLERANCE = 1e-9


class Frozen(BaseModel):
    """Base for every schema object: immutable, unknown keys rejected, finite floats only."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


Name = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.\-/]+$")]
_LABEL = re.compile(r"[A-Za-z0-9_.\-]{1,120}")


def _not_bool(value: Any) -> Any:
    """YAML ``true``/``false`` where a number is expected is a mistake, not 1/0."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


#: int and float that refuse booleans (pydantic would read ``servers: true`` as 1 server).
Int = Annotated[int, BeforeValidator(_not_bool)]
Float = Annotated[float, BeforeValidator(_not_bool)]


def _check_probabilities(probabilities: list[float], where: str) -> None:
    total = math.fsum(probabilities)
    if abs(total - 1.0) > PROBABILITY_TOLERANCE:
        raise ValueError(f"{where} must sum to 1, got {total:.12g}")


#: A readable name by language: English, Vietnamese, Chinese (``labels: {vi: ..., zh: ...}``).
Labels = dict[Literal["en", "vi", "zh"], Annotated[str, Field(min_length=1, max_length=200)]]


# --------------------------------------------------------------------------- nodes and roads
class NodeSpec(Frozen):
    """A place trucks enter (source) or leave (sink), or a road junction (plaza, yard gate).

    Stations are declared separately; routes visit stations, roads join any of these.
    """

    kind: Literal["source", "sink", "junction"]
    side: Literal["VN", "CN"] = "VN"
    label: str = ""
    labels: Labels = Field(default_factory=dict)


class RoadSpec(Frozen):
    """A road segment between two nodes or stations; travel time = length / speed."""

    from_: Name = Field(alias="from")
    to: Name
    length_km: Float = Field(gt=0, le=1000)
    speed_kmh: Float = Field(gt=0, le=200)
    lanes: Int = Field(1, ge=1, le=64)
    two_way: bool = False

    model_config = ConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, populate_by_name=True
    )

    @property
    def minutes(self) -> float:
        return 60.0 * self.length_km / self.speed_kmh


# --------------------------------------------------------------------------- stations
class ServiceRule(Frozen):
    """Service-time override for trucks matching every attribute in ``when`` (first match wins)."""

    when: dict[Name, str]
    service: Distribution


class PrioritySpec(Frozen):
    """Priority by a truck attribute: values earlier in ``order`` are served first."""

    by: Name = "cargo"
    order: list[str] = Field(min_length=1)
    #: Preemptive-resume: a higher class interrupts a lower one in service, which later
    #: resumes its remaining service (gatesim.stations.preemption). Off by default.
    preempt: bool = False


def _balk_threshold(value: Any) -> Any:
    """``balk_at``: a count of waiting trucks (an integer >= 0) or a distribution mapping."""
    if value is None or isinstance(value, (dict, BaseModel)):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer >= 0 (trucks waiting) or a distribution")
    if not 0 <= value <= 10_000_000:
        raise ValueError("must be an integer >= 0 and at most 10,000,000")
    return value


def _positive_time(dist: Distribution) -> Distribution:
    """A patience: a distribution of minutes with a positive mean (0 would mean no queue)."""
    if dist.mean <= 0.0:
        raise ValueError(f"must be a positive time, got mean {dist.mean:g} min")
    return dist


PositiveTime = Annotated[Distribution, AfterValidator(_positive_time)]
BalkThreshold = Annotated[int | Distribution | None, BeforeValidator(_balk_threshold)]


class StationSpec(Frozen):
    """One station: servers, service time, discipline, opening hours, finite waiting room.

    ``type`` is a registered name (``xray_scanner``) or a dotted path to a Station subclass
    (``mypkg.stations:ColdChainBay``); ``params`` is validated by that class's ``Params`` model.
    """

    type: str = "station"
    label: str = ""
    #: Readable names by language for ``run_sim.py stations`` and the report (``en``, ``vi``
    #: with diacritics, ``zh`` for the Chinese side); they never change results.
    labels: Labels = Field(default_factory=dict)
    side: Literal["VN", "CN"] = "VN"  # where its trucks are (the side they wait on)
    run_by: Literal["VN", "CN"] | None = None  # who controls it, when not its side's state
    servers: Int = Field(1, ge=1, le=100_000)
    service: Distribution = Field(
        default_factory=lambda: _deterministic_zero(), validate_default=False
    )
    service_when: list[ServiceRule] = Field(default_factory=list)
    discipline: Literal["fifo", "lifo", "priority"] = "fifo"
    priority: PrioritySpec | None = None
    calendar: Name | None = None
    queue_capacity: Int | None = Field(None, ge=0, le=10_000_000)
    #: What a full waiting room does to a truck: ``lose`` turns it away (counted as lost), ``block``
    #: holds it back on its upstream server or on the approach road (gatesim.stations.blocking).
    when_full: Literal["lose", "block"] = "lose"
    #: Reneging: minutes a waiting truck stays in the queue before it leaves the system
    #: (``patience_by_cargo`` overrides it per cargo class; no entry: it never reneges).
    patience: PositiveTime | None = None
    patience_by_cargo: dict[Name, PositiveTime] = Field(default_factory=dict)
    #: Balking: a truck that cannot start at once and finds at least this many trucks waiting
    #: leaves the system (an integer, or a distribution of per-truck thresholds).
    balk_at: BalkThreshold = None
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _priority_needs_order(self) -> StationSpec:
        if self.discipline == "priority" and self.priority is None:
            raise ValueError("discipline 'priority' needs a 'priority: {by, order}' block")
        return self

    @model_validator(mode="after")
    def _block_needs_a_finite_room(self) -> StationSpec:
        if self.when_full == "block" and self.queue_capacity is None:
            raise ValueError(
                "when_full 'block' needs a finite waiting room (queue_capacity); "
                "without one nothing is ever full"
            )
        return self

    @model_validator(mode="after")
    def _preempt_needs_classes(self) -> StationSpec:
        if self.priority is None or not self.priority.preempt:
            return self
        if self.discipline != "priority":
            raise ValueError(
                f"priority.preempt needs priority classes (discipline: priority), "
                f"got discipline '{self.discipline}'"
            )
        if self.calendar is not None or self.impatient or self.when_full == "block":
            raise ValueError(
                "priority.preempt cannot be combined with a calendar, patience, balk_at or "
                "when_full: block (each assumes an uninterrupted service)"
            )
        return self

    @property
    def impatient(self) -> bool:
        """True when trucks may renege or balk here."""
        return bool(self.patience or self.patience_by_cargo) or self.balk_at is not None


def _deterministic_zero() -> Any:
    from gatesim.core.distributions import parse_distribution

    return parse_distribution({"dist": "deterministic", "value": 0.0})


# --------------------------------------------------------------------------- routes
class BranchStep(Frozen):
    """Take the case matching a truck attribute; ``default`` covers unlisted values."""

    branch: Name
    cases: dict[str, list[Step]]
    default: list[Step] | None = None


class ChoiceOption(Frozen):
    p: Float = Field(ge=0, le=1)
    steps: list[Step] = Field(default_factory=list)


class ChooseStep(Frozen):
    """Take one option at random with the given probabilities (its own random stream)."""

    choose: list[ChoiceOption] = Field(min_length=1)

    @field_validator("choose")
    @classmethod
    def _sums_to_one(cls, options: list[ChoiceOption]) -> list[ChoiceOption]:
        _check_probabilities([o.p for o in options], "choice probabilities")
        return options


class QueueCondition(Frozen):
    station: Name
    waiting: Int = Field(ge=0, le=10_000_000)


class OverflowStep(Frozen):
    """State-dependent routing: if more than ``waiting`` trucks wait at ``station`` when the
    truck decides, take ``then`` (e.g. overflow to the conventional lane), else ``else``."""

    if_queue_above: QueueCondition
    then: list[Step] = Field(default_factory=list)
    else_: list[Step] = Field(default_factory=list, alias="else")

    model_config = ConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, populate_by_name=True
    )


class Rework(Frozen):
    """Send the truck back to the earlier step ``to`` with probability ``p``, at most ``max``
    times per truck at this step (re-inspection); otherwise it goes on."""

    to: Name
    p: Float = Field(ge=0, le=1)
    max: Int = Field(1, ge=1, le=100)


class ReworkStep(Frozen):
    """A rework loop: ``{rework: {to: documents, p: 0.1, max: 2}}`` after the steps it
    repeats; ``to`` names a station step earlier in the same list of steps."""

    rework: Rework


def rework_target(steps: list[Step], index: int) -> int | None:
    """Index of the nearest station step before ``index`` named by its rework's ``to``."""
    step = steps[index]
    assert isinstance(step, ReworkStep)
    for j in range(index - 1, -1, -1):
        if steps[j] == step.rework.to:
            return j
    return None


def _step_kind(value: Any) -> str | None:
    """Dispatch a route step by its shape, so errors speak of the step the user meant."""
    if isinstance(value, str):
        return "name-step"
    if isinstance(value, BranchStep) or (isinstance(value, dict) and "branch" in value):
        return "branch-step"
    if isinstance(value, ChooseStep) or (isinstance(value, dict) and "choose" in value):
        return "choose-step"
    if isinstance(value, OverflowStep) or (isinstance(value, dict) and "if_queue_above" in value):
        return "overflow-step"
    if isinstance(value, ReworkStep) or (isinstance(value, dict) and "rework" in value):
        return "rework-step"
    return None


Step = Annotated[
    Union[  # noqa: UP007 - a runtime Union carries the tags
        Annotated[Name, Tag("name-step")],
        Annotated[BranchStep, Tag("branch-step")],
        Annotated[ChooseStep, Tag("choose-step")],
        Annotated[OverflowStep, Tag("overflow-step")],
        Annotated[ReworkStep, Tag("rework-step")],
    ],
    Discriminator(
        _step_kind,
        custom_error_type="invalid_step",
        custom_error_message=(
            "a step is a station name or a {branch: ...}, {choose: ...}, "
            "{if_queue_above: ...} or {rework: ...} mapping"
        ),
    ),
]


class RouteSpec(Frozen):
    """A route from a source through stations (with branches) to a sink."""

    origin: Name
    steps: list[Step] = Field(default_factory=list)
    destination: Name


# --------------------------------------------------------------------------- arrivals
class Multiplier(Frozen):
    """Scale a stream's volume on days [from_day, to_day) (0-based model days)."""

    from_day: Int = Field(ge=0)
    to_day: Int = Field(gt=0)
    factor: Float = Field(ge=0, le=1000)

    @model_validator(mode="after")
    def _ordered(self) -> Multiplier:
        if self.to_day <= self.from_day:
            raise ValueError(f"to_day ({self.to_day}) must be after from_day ({self.from_day})")
        return self


class TraceSpec(Frozen):
    """Replay arrival times (minutes from the scenario start).

    In a file write ``trace: {csv: arrivals.csv, column: time_min}``; the loader reads the column
    (relative to the file) and inlines it here, so a Scenario never refers to other files.
    """

    times: list[Annotated[Float, Field(ge=0)]] = Field(min_length=1, max_length=5_000_000)


HourlyProfile = Annotated[
    list[Annotated[Float, Field(ge=0, le=1e9)]], Field(min_length=24, max_length=24)
]


class BackhaulSpec(Frozen):
    """Two-way operation: a delivered truck whose attributes match ``when`` waits in the far
    yard for a load of the ``loads`` stream (one whose trucks match ``when`` too) and carries
    it home instead of returning empty; with none within ``max_stay_h`` it returns empty."""

    loads: Name
    when: dict[Name, str] = Field(default_factory=dict)
    max_stay_h: Float = Field(36.0, gt=0, le=10_000)  # [s 56] two-way pilot


class ReturnSpec(Frozen):
    """The empty return trip every delivery of a stream generates (``arrivals.<s>.returns``).

    When a loaded truck of the stream reaches its sink (delivered, unloaded or transshipped),
    one empty truck parks in the far-side yard for a ``dwell`` draw (minutes), capped at
    ``max_stay_h`` after the delivery (the exit rule: 24 h one-way, 36 h two-way [s 56]), then
    follows ``route`` home. Empties are counted apart from loaded trucks.
    """

    route: Name
    dwell: Distribution
    max_stay_h: Float | None = Field(None, gt=0, le=10_000)
    backhaul: BackhaulSpec | None = None


class ArrivalSpec(Frozen):
    """One arrival stream: trucks of one lane, direction and cargo class, following one route."""

    lane: Name
    direction: Literal["export", "import"]
    cargo: Name
    route: Name
    per_day: Float = Field(0.0, ge=0, le=1e7)
    profile: Name | HourlyProfile = "flat"
    channels: dict[str, Float] = Field(default_factory=lambda: {"green": 1.0})
    attributes: dict[Name, dict[str, Float]] = Field(default_factory=dict)
    multipliers: list[Multiplier] = Field(default_factory=list)
    trace: TraceSpec | None = None
    #: Trucks of this stream already waiting when the run starts (a backlog carried in from
    #: before the window): they arrive at time 0, ahead of the generated arrivals.
    initial_backlog: Int = Field(0, ge=0, le=1_000_000)
    returns: ReturnSpec | None = None
    #: A renewal stream: gaps between arrivals drawn from this distribution (minutes, at
    #: demand factor 1), instead of ``per_day`` (gatesim.model.renewal).
    interarrival: Distribution | None = None

    @model_validator(mode="after")
    def _one_volume(self) -> ArrivalSpec:
        if self.interarrival is None:
            return self
        if self.per_day > 0:  # 0 is the default, and what a dumped renewal stream holds
            raise ValueError("give per_day or interarrival, not both")
        if self.trace is not None:
            raise ValueError("give trace or interarrival, not both")
        return self

    @field_validator("interarrival")
    @classmethod
    def _positive_gap(cls, gap: Distribution | None) -> Distribution | None:
        if gap is not None and not gap.mean > 0:
            raise ValueError("the mean gap between trucks must be above 0 minutes")
        return gap

    @field_validator("channels")
    @classmethod
    def _channels_sum_to_one(cls, channels: dict[str, float]) -> dict[str, float]:
        if not channels:
            raise ValueError("needs at least one channel")
        if any(not 0 <= p <= 1 for p in channels.values()):
            raise ValueError("channel probabilities must lie in [0, 1]")
        _check_probabilities(list(channels.values()), "channel probabilities")
        return channels

    @field_validator("attributes")
    @classmethod
    def _attributes_sum_to_one(
        cls, attributes: dict[str, dict[str, float]]
    ) -> dict[str, dict[str, float]]:
        for name, shares in attributes.items():
            if name in TRUCK_ATTRIBUTES:
                raise ValueError(f"'{name}' is a built-in truck attribute")
            if not shares or any(not 0 <= p <= 1 for p in shares.values()):
                raise ValueError(f"{name}: give each value a probability in [0, 1]")
            _check_probabilities(list(shares.values()), f"{name} probabilities")
        return attributes


# --------------------------------------------------------------------------- output options
class RecordsSpec(Frozen):
    """Per-truck records (one row per truck, ~150 bytes) are kept by default; per-visit records
    (one row per station visit) only on request. Streaming statistics are always kept, so
    ``{trucks: false}`` gives bounded memory on long runs."""

    trucks: bool = True
    visits: bool = False
    #: keep only the visits that overlap this day of the run (0-based), e.g. for the replay
    #: of one day of a long run; None: every day. Left out of the scenario document when None,
    #: so scenarios without it keep their hash.
    visits_day: int | None = Field(None, ge=0)

    @model_serializer(mode="wrap")
    def _without_unset_day(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        document: dict[str, Any] = handler(self)
        if self.visits_day is None:
            document.pop("visits_day", None)
        return document


class CostSpec(Frozen):
    """Factors for the cost and emission KPIs (per queued truck-hour and per transshipment)."""

    idle_fuel_l_per_truck_h: Float = Field(3.0, ge=0, le=100)  # [a] heavy truck idling ~0.8 gal/h
    co2_kg_per_l: Float = Field(2.70, ge=0, le=10)  # diesel, US EPA 10.21 kg CO2 per gallon
    transshipment_cny_per_truck: Float = Field(900.0, ge=0, le=1e6)  # domain row 58: 800-1,000
    idling_share: Float = Field(1.0, ge=0, le=1)  # [a] share of queued time with engine running


# --------------------------------------------------------------------------- demand calendar
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Where(Frozen):
    """Which streams a demand factor applies to: every listed field must match (an empty
    list matches anything). Names must be lanes / cargo classes used in ``arrivals``."""

    lane: list[Name] = Field(default_factory=list)
    direction: list[Literal["export", "import"]] = Field(default_factory=list)
    cargo: list[Name] = Field(default_factory=list)

    def matches(self, arrival: ArrivalSpec) -> bool:
        return (
            (not self.lane or arrival.lane in self.lane)
            and (not self.direction or arrival.direction in self.direction)
            and (not self.cargo or arrival.cargo in self.cargo)
        )


class SeasonSpec(DateSpan):
    """A named season: ``factor`` multiplies the matching streams' demand on every date from
    ``from`` to ``to`` (both included). ``MM-DD`` bounds recur every year and may wrap the year
    end (``12-01`` to ``01-15``); ``YYYY-MM-DD`` bounds are one absolute period."""

    name: Name
    factor: Float = Field(ge=0, le=1000)
    where: Where = Field(default_factory=Where)


class WeekdayRule(Frozen):
    """A day-of-week factor for the matching streams (``days``: mon ... sun)."""

    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(min_length=1)
    factor: Float = Field(ge=0, le=1000)
    where: Where = Field(default_factory=Where)

    def weekday_numbers(self) -> set[int]:
        return {WEEKDAYS.index(day) for day in self.days}


Year = Annotated[Int, Field(ge=1900, le=2200)]


class GrowthSpec(Frozen):
    """Demand growth to the planning year: ``annual_rate`` compounds from ``base_year``, or
    ``by_year`` lists factors by year (geometric interpolation between listed years)."""

    annual_rate: Float | None = Field(None, ge=-0.5, le=10)
    base_year: Int = Field(2025, ge=1900, le=2200)
    by_year: dict[Year, Annotated[Float, Field(gt=0, le=1000)]] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_way(self) -> GrowthSpec:
        if self.annual_rate is not None and self.by_year is not None:
            raise ValueError("give either annual_rate or by_year, not both")
        return self

    def factor(self, year: int) -> float:
        """Demand in ``year`` relative to today's (the scenario's per_day volumes)."""
        if self.by_year is not None:
            years = sorted(self.by_year)
            if not years[0] <= year <= years[-1]:
                raise ValueError(
                    f"year {year} is outside the growth.by_year table ({years[0]}-{years[-1]})"
                )
            if year in self.by_year:
                return self.by_year[year]
            below = max(y for y in years if y < year)
            above = min(y for y in years if y > year)
            f0, f1 = self.by_year[below], self.by_year[above]
            return f0 * (f1 / f0) ** ((year - below) / (above - below))
        if year < self.base_year:
            raise ValueError(f"year {year} is before growth.base_year {self.base_year}")
        if self.annual_rate is None:
            if year != self.base_year:
                raise ValueError(
                    f"year {year} needs a growth rate: set demand.growth.annual_rate or by_year"
                )
            return 1.0
        return float((1.0 + self.annual_rate) ** (year - self.base_year))


class DemandSpec(Frozen):
    """The demand calendar: planning year with growth, named seasons, day-of-week factors.

    Seasons with the same name form one season for the KPIs (e.g. Tet in several years); each
    entry applies its own factor on its own dates.
    """

    growth: GrowthSpec = Field(default_factory=GrowthSpec)  # before year: year is checked on it
    year: Year | None = None
    seasons: list[SeasonSpec] = Field(default_factory=list, max_length=1000)
    weekdays: list[WeekdayRule] = Field(default_factory=list, max_length=100)

    @field_validator("weekdays", mode="before")
    @classmethod
    def _weekday_mapping(cls, value: Any) -> Any:
        """``{sat: 0.9, sun: 0.8}`` is short for ``[{days: [sat], factor: 0.9}, ...]``."""
        if isinstance(value, dict):
            return [{"days": [day], "factor": factor} for day, factor in value.items()]
        return value

    @field_validator("year")
    @classmethod
    def _year_has_a_factor(cls, year: int | None, info: ValidationInfo) -> int | None:
        growth = info.data.get("growth")
        if year is not None and isinstance(growth, GrowthSpec):
            growth.factor(year)
        return year

    def growth_factor(self) -> float:
        """Growth of the planning year over the base (1 when no year is set)."""
        return 1.0 if self.year is None else self.growth.factor(self.year)


class TradeValueSpec(Frozen):
    """Value of the goods on one loaded truck, by cargo class, for the trade-value KPIs."""

    currency: Literal["USD"] = "USD"
    per_truck: dict[Name, Annotated[Float, Field(ge=0, le=1e9)]] = Field(min_length=1)


# --------------------------------------------------------------------------- uncertainty
FieldPath = Annotated[
    str, Field(min_length=1, max_length=400, pattern=r"^[A-Za-z0-9_\-/]+(\.[A-Za-z0-9_\-/]+)*$")
]


class UncertainSpec(Frozen):
    """A plausible range for one assumed numeric value, with the reasoning behind it.

    ``dist`` is how values are drawn over ``[low, high]`` (triangular peaks at ``mode``);
    ``also`` lists further field paths that take the same value (one assumption written in
    several places, e.g. the same service time on both lanes). The paths themselves are
    checked against the scenario by ``gatesim.experiment.uncertainty`` (the schema cannot see
    which fields exist in the file).
    """

    low: Float
    high: Float
    why: str = Field(min_length=1, max_length=2000)
    dist: Literal["uniform", "triangular"] = "uniform"
    mode: Float | None = None
    also: list[FieldPath] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _ordered(self) -> UncertainSpec:
        if not self.low < self.high:
            raise ValueError(f"low must be below high, got low={self.low:g}, high={self.high:g}")
        if self.dist == "triangular":
            if self.mode is None:
                raise ValueError("a triangular range needs a mode")
            if not self.low <= self.mode <= self.high:
                raise ValueError(f"mode {self.mode:g} must lie in [{self.low:g}, {self.high:g}]")
        elif self.mode is not None:
            raise ValueError("mode only applies to dist: triangular")
        return self


class Scenario(Frozen):
    """A complete, validated scenario. Times are minutes from local midnight (VN side) of day 0."""

    name: str
    description: str = ""
    start_date: dt.date = dt.date(2025, 5, 1)
    timezone: str = "UTC+07:00"
    days: Int = Field(30, ge=1, le=3660)
    warmup_days: Float = Field(0.0, ge=0)
    replications: Int = Field(1, ge=1, le=100_000)
    seed: Int = Field(20250501, ge=0, le=2**63 - 1)
    report_time: str = Field("20:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    demand_scale: Float = Field(1.0, ge=0, le=1000)
    calendars: dict[Name, CalendarSpec] = Field(default_factory=dict)
    profiles: dict[Name, HourlyProfile] = Field(default_factory=dict)
    nodes: dict[Name, NodeSpec]
    stations: dict[Name, StationSpec]
    roads: dict[Name, RoadSpec] = Field(default_factory=dict)
    routes: dict[Name, RouteSpec]
    arrivals: dict[Name, ArrivalSpec] = Field(min_length=1)
    records: RecordsSpec = Field(default_factory=RecordsSpec)
    costs: CostSpec = Field(default_factory=CostSpec)
    demand: DemandSpec = Field(default_factory=DemandSpec)
    trade_value: TradeValueSpec | None = None
    #: Booked arrival slots by plan name, one per lane and direction (gatesim.scenario.slots).
    slots: dict[Name, SlotPlanSpec] = Field(default_factory=dict, max_length=100)
    #: Plausible ranges of assumed values, by field path (``null`` drops an inherited entry);
    #: read by ``run_sim.py sensitivity``, ignored by every other command.
    uncertain: dict[FieldPath, UncertainSpec | None] = Field(default_factory=dict, max_length=2000)
    #: Registered KPIs computed besides the built-ins, by name (gatesim.stats.registry).
    kpis: list[Name] = Field(default_factory=list, max_length=200)
    #: Station waits and queues by these kinds of class, from streaming statistics
    #: (gatesim.stations.class_statistics); none by default.
    class_statistics: list[Literal["cargo", "channel", "priority"]] = Field(
        default_factory=list, max_length=3
    )
    #: The digital border-gate platform: staging yards, dispatch, deferral and diversion, by
    #: platform name (gatesim.scenario.platform); none by default.
    platform: dict[Name, PlatformSpec] = Field(default_factory=dict, max_length=100)

    @field_validator("class_statistics")
    @classmethod
    def _kinds_once(cls, kinds: list[str]) -> list[str]:
        if len(set(kinds)) != len(kinds):
            raise ValueError("name each kind of class once")
        return kinds

    @field_validator("kpis")
    @classmethod
    def _registered_kpis(cls, names: list[str]) -> list[str]:
        return check_kpi_names(names)

    @field_validator("name")
    @classmethod
    def _name_is_a_label(cls, name: str) -> str:
        """The name labels result folders (``results/<name>-<time>``): never a path."""
        if not _LABEL.fullmatch(name) or ".." in name or not name.strip("."):
            raise ValueError(
                "must be a label of letters, digits, '_', '-' and '.' "
                "(not a path: no '/', '\\', '..' or control characters)"
            )
        return name

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, tz: str) -> str:
        return check_timezone(tz)

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        _check_warmup(self)
        _check_records_day(self)
        _check_names_disjoint(self)
        _check_calendar_refs(self)
        _check_arrival_refs(self)
        _check_demand_refs(self)
        check_slot_refs(self)
        _check_volume(self)
        for name, route in self.routes.items():
            _check_route_refs(self, name, route)
        if self.platform:
            from gatesim.scenario.platform import check_platform_refs

            check_platform_refs(self)
        return self

    @property
    def horizon_min(self) -> float:
        return self.days * 1440.0

    @property
    def warmup_min(self) -> float:
        return self.warmup_days * 1440.0

    def profile_weights(self, profile: str | list[float]) -> list[float]:
        """The 24 hourly weights of a named or inline profile ('flat' is built in)."""
        if isinstance(profile, list):
            return profile
        if profile == "flat":
            return [1.0] * 24
        return self.profiles[profile]

    def result_meta(self) -> dict[str, Any]:
        """What the KPIs need besides the counts (costs, trade values, season intervals)."""
        from gatesim.scenario.demand import result_meta

        return result_meta(self)


# --------------------------------------------------------------------------- cross checks
def _check_warmup(s: Scenario) -> None:
    if s.warmup_days >= s.days:
        raise ValueError(f"warmup_days ({s.warmup_days}) must be shorter than days ({s.days})")


def _check_records_day(s: Scenario) -> None:
    day = s.records.visits_day
    if day is not None and day >= s.days:
        raise ValueError(
            f"records.visits_day ({day}) must be a day of the run (0 to {int(s.days) - 1})"
        )


def _check_names_disjoint(s: Scenario) -> None:
    clash = sorted(set(s.nodes) & set(s.stations))
    if clash:
        raise ValueError(f"names used both as node and station: {', '.join(clash)}")


def _check_calendar_refs(s: Scenario) -> None:
    for name, station in s.stations.items():
        if station.calendar is not None and station.calendar not in s.calendars:
            raise ValueError(
                f"stations.{name}.calendar: unknown calendar '{station.calendar}'"
                f"{_suggest(station.calendar, s.calendars)}"
            )


def _check_arrival_refs(s: Scenario) -> None:
    for i, arrival in s.arrivals.items():
        if arrival.route not in s.routes:
            hint = _suggest(arrival.route, s.routes)
            raise ValueError(f"arrivals.{i}.route: unknown route '{arrival.route}'{hint}")
        if arrival.returns is not None:
            _check_return_refs(s, i, arrival.returns, arrival.lane)
        profile = arrival.profile
        if isinstance(profile, str) and profile != "flat" and profile not in s.profiles:
            raise ValueError(
                f"arrivals.{i}.profile: unknown profile '{profile}'{_suggest(profile, s.profiles)}"
            )
        volume = arrival.per_day > 0 or arrival.interarrival is not None
        if sum(s.profile_weights(profile)) <= 0 and volume:
            raise ValueError(f"arrivals.{i}.profile: all 24 weights are zero")


def _check_return_refs(s: Scenario, stream: str, returns: ReturnSpec, lane: str) -> None:
    if returns.route not in s.routes:
        back = returns.route
        raise ValueError(
            f"arrivals.{stream}.returns.route: unknown route '{back}'{_suggest(back, s.routes)}"
        )
    if returns.backhaul is None:
        return
    loads = returns.backhaul.loads
    where = f"arrivals.{stream}.returns.backhaul.loads"
    if loads not in s.arrivals:
        raise ValueError(f"{where}: unknown arrival stream '{loads}'{_suggest(loads, s.arrivals)}")
    if s.arrivals[loads].lane != lane:
        raise ValueError(f"{where}: '{loads}' runs on lane {s.arrivals[loads].lane}, not {lane}")


MAX_EXPECTED_TRUCKS = 50_000_000


def _check_volume(s: Scenario) -> None:
    """Refuse horizons whose expected truck count would exhaust memory instead of simulating.

    The expectation is exact: daily volume × demand_scale × every day's factor (multipliers,
    growth, seasons, weekdays), plus the trace lengths.
    """
    expected = expected_trucks(s)
    if expected > MAX_EXPECTED_TRUCKS:
        raise ValueError(
            f"arrivals: about {expected:.3g} trucks expected over {s.days} days; "
            f"the limit is {MAX_EXPECTED_TRUCKS:.0e}"
        )


def expected_trucks(s: Scenario) -> float:
    """Trucks expected over the horizon: daily volume × demand_scale × every day's factor
    (multipliers, growth, seasons, weekdays), plus the trace lengths."""
    from gatesim.scenario.demand import day_factors

    expected = 0.0
    for arrival in s.arrivals.values():
        if arrival.per_day > 0:
            factors = day_factors(s, arrival)
            for m in arrival.multipliers:
                factors[m.from_day : m.to_day] *= m.factor
            expected += arrival.per_day * s.demand_scale * float(factors.sum())
        if arrival.interarrival is not None:
            expected += _expected_renewal(s, arrival)
        expected += len(arrival.trace.times) if arrival.trace else 0
    return expected


def _expected_renewal(s: Scenario, arrival: ArrivalSpec) -> float:
    """Operational minutes over the horizon (every hour's demand factor) / the mean gap."""
    from gatesim.scenario.demand import day_factors

    assert arrival.interarrival is not None
    factors = day_factors(s, arrival)
    for m in arrival.multipliers:
        factors[m.from_day : m.to_day] *= m.factor
    minutes = float(factors.sum()) * s.demand_scale * 1440.0
    return minutes / arrival.interarrival.mean


def _check_demand_refs(s: Scenario) -> None:
    """Season and weekday filters, and trade values, must name lanes/cargo used in arrivals."""
    used = {
        "lane": {a.lane for a in s.arrivals.values()},
        "cargo": {a.cargo for a in s.arrivals.values()},
    }
    rules = [(f"demand.seasons.{i}", r.where) for i, r in enumerate(s.demand.seasons)]
    rules += [(f"demand.weekdays.{i}", r.where) for i, r in enumerate(s.demand.weekdays)]
    for where, spec in rules:
        for field in ("lane", "cargo"):
            for value in getattr(spec, field):
                if value not in used[field]:
                    raise ValueError(
                        f"{where}.where.{field}: no arrival stream has {field} '{value}'"
                        f"{_suggest(value, used[field])}"
                    )
    for name, station in s.stations.items():
        for cargo in station.patience_by_cargo:
            if cargo not in used["cargo"]:
                raise ValueError(
                    f"stations.{name}.patience_by_cargo.{cargo}: no arrival stream has cargo "
                    f"'{cargo}'{_suggest(cargo, used['cargo'])}"
                )
    if s.trade_value is not None:
        per_truck = s.trade_value.per_truck
        for cargo in per_truck:
            if cargo not in used["cargo"]:
                raise ValueError(
                    f"trade_value.per_truck.{cargo}: no arrival stream has cargo '{cargo}'"
                    f"{_suggest(cargo, used['cargo'])}"
                )
        missing = sorted(used["cargo"] - set(per_truck))
        if missing:
            raise ValueError(f"trade_value.per_truck: no value for cargo {', '.join(missing)}")


def _check_route_refs(s: Scenario, name: str, route: RouteSpec) -> None:
    where = f"routes.{name}"
    if s.nodes.get(route.origin, NodeSpec(kind="sink")).kind != "source":
        hint = _suggest(route.origin, s.nodes)
        raise ValueError(f"{where}.origin: '{route.origin}' is not a source node{hint}")
    if s.nodes.get(route.destination, NodeSpec(kind="source")).kind != "sink":
        raise ValueError(
            f"{where}.destination: '{route.destination}' is not a sink node"
            f"{_suggest(route.destination, s.nodes)}"
        )
    _check_steps(s, route.steps, f"{where}.steps")


def _check_steps(s: Scenario, steps: list[Step], where: str) -> None:
    for i, step in enumerate(steps):
        here = f"{where}.{i}"
        if isinstance(step, str):
            if step not in s.stations:
                raise ValueError(f"{here}: unknown station '{step}'{_suggest(step, s.stations)}")
        elif isinstance(step, BranchStep):
            for value, sub in step.cases.items():
                _check_steps(s, sub, f"{here}.cases.{value}")
            if step.default is not None:
                _check_steps(s, step.default, f"{here}.default")
        elif isinstance(step, OverflowStep):
            station = step.if_queue_above.station
            if station not in s.stations:
                raise ValueError(
                    f"{here}.if_queue_above.station: unknown station '{station}'"
                    f"{_suggest(station, s.stations)}"
                )
            _check_steps(s, step.then, f"{here}.then")
            _check_steps(s, step.else_, f"{here}.else")
        elif isinstance(step, ReworkStep):
            if rework_target(steps, i) is None:
                raise ValueError(
                    f"{here}.rework.to: '{step.rework.to}' is not a station step earlier in "
                    "this list of steps (a rework loop goes back)"
                )
        else:
            for j, option in enumerate(step.choose):
                _check_steps(s, option.steps, f"{here}.choose.{j}.steps")


def stations_in(steps: list[Step]) -> Iterator[str]:
    """Every station a list of route steps may visit or look at, in any branch."""
    for step in steps:
        if isinstance(step, str):
            yield step
        elif isinstance(step, BranchStep):
            for sub in step.cases.values():
                yield from stations_in(sub)
            if step.default is not None:
                yield from stations_in(step.default)
        elif isinstance(step, ChooseStep):
            for option in step.choose:
                yield from stations_in(option.steps)
        elif isinstance(step, OverflowStep):
            yield step.if_queue_above.station
            yield from stations_in(step.then)
            yield from stations_in(step.else_)


def _suggest(word: str, choices: Any) -> str:
    """A ' (did you mean 'x'?)' hint for misspelt names, or ''."""
    import difflib

    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# The platform's models build on the ones above; the Scenario refers to them.
from gatesim.scenario.platform import PlatformSpec  # noqa: E402

BranchStep.model_rebuild()
ChoiceOption.model_rebuild()
ChooseStep.model_rebuild()
OverflowStep.model_rebuild()
ReworkStep.model_rebuild()
RouteSpec.model_rebuild()
Scenario.model_rebuild()
