"""What a scenario can carry: capacity per lane and direction, measured two ways.

Capacity is the largest sustained clearance rate (trucks per day) of a lane and direction under
the scenario's calendars, cargo and channel mix, fleets, caps and yards:

* **Saturated entry.** Every stream of the flow arrives far faster than the flow can clear
  (flat over the day, the stream's share of the flow's mix, no seasons), and its entry
  stations take an unlimited queue, so the entry never runs dry. The flow's cleared trucks
  per measured day is its capacity in each replication; the 95 % t-interval is across
  replications. A flow counts as saturated only when its backlog grows (the saturation
  test); one that does not is fed four times faster and the batch run again.
* **Demand ramp.** Each flow's demand, with its own hourly profile and calendar, is scaled by
  its own factor, bracketed by a stable factor (the backlog does not grow) and a growing one
  (the growth test's interval lies above 0), and the bracket halved (geometrically) until it
  is narrower than ``resolution``. The capacity is the clearance rate at the largest stable
  factor. The search starts at the saturated answer and steps out by (1 + resolution)^2, so
  one halving settles a flow whose saturated answer is that close: three loads, not four.

All flows are loaded at once in both methods (a station two flows share splits its work as
its discipline says); a flow's bracket starts around its saturated capacity, and moves when
the saturated answer was wrong, so the two are checked against each other, not tied.
Replications go through :class:`ReplicationRunner` (serial, ``--jobs`` or ``--dask``;
identical results) with common random numbers across every batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from gatesim.core.errors import ScenarioError, UsageError
from gatesim.experiment.parts import independent_parts
from gatesim.experiment.runner import Only, ReplicationOutcome
from gatesim.experiment.searched import kpi_members
from gatesim.model.arrivals import hourly_means
from gatesim.model.routes import entry_stations, group_key, stations_by_group
from gatesim.scenario.schema import ArrivalSpec, DemandSpec, Scenario
from gatesim.stats.intervals import t_interval
from gatesim.stats.saturation import Growth, backlog_growth

if TYPE_CHECKING:  # the study layer imports pandas; a caller that only measures need not
    from gatesim.experiment.study import ReplicationRunner

__all__ = [
    "CapacityOptions",
    "FlowCapacity",
    "capacity_scenario",
    "measure_capacity",
    "offered_per_day",
    "ramp_scenario",
    "saturated_scenario",
    "scenario_capacity",
]

MINUTES_PER_DAY = 1440.0
#: The first saturated feed is this multiple of the flow's offered demand (at least FLOOR/day);
#: a flow whose backlog does not grow is fed ESCALATION times faster in the next batch.
FIRST_FEED, FEED_FLOOR, ESCALATION, MAX_ESCALATIONS = 2.0, 50.0, 4.0, 3
#: The growth test fits a trend through the daily backlog: fewer days cannot show one.
MIN_MEASURED_DAYS = 5
#: Utilisation in opening hours from which a station is named as binding.
BINDING_UTILIZATION = 0.9
#: A station that starts fewer services than this share of its arrivals over the measured
#: period falls behind under saturated entry (a queue left overnight at either end of the
#: period is a far smaller share of a month's arrivals).
KEEPS_UP = 0.98
LEDGER = ("arrived_measured", "started")
NO_RECORDS = {"trucks": False, "visits": False}
Row = Mapping[str, float]
Interval = tuple[float, float, float]


@dataclass(frozen=True)
class CapacityOptions:
    """How the measurement runs; ``lane`` restricts it to one lane (others get no trucks)."""

    replications: int = 5
    resolution: float = 0.05
    scale_range: tuple[float, float] = (0.02, 100.0)
    methods: tuple[str, ...] = ("saturated", "ramp")
    lane: str | None = None
    #: demand-ramp batches at most (the saturated entry escalates its feed MAX_ESCALATIONS times)
    max_batches: int = 8


@dataclass
class FlowCapacity:
    """The capacity of one lane and direction, by each method, and what binds it."""

    group: str
    offered_per_day: float
    saturated: Interval | None = None
    saturated_growth: Growth | None = None
    saturated_rows: list[Row] = field(default_factory=list)
    saturated_note: str = ""
    #: what an entry station serves first (its priority), '' when none
    entry_priority: str = ""
    #: stations past the entry that fell behind under saturated entry: (name, started/arrived)
    behind: list[tuple[str, float]] = field(default_factory=list)
    ramp_rows: list[Row] = field(default_factory=list)
    ramp: Interval | None = None
    ramp_bracket: tuple[float, float] | None = None
    ramp_growing_offered: Interval | None = None
    ramp_note: str = ""
    binding: list[dict[str, Any]] = field(default_factory=list)

    @property
    def lane(self) -> str:
        return self.group.rpartition(".")[0]

    @property
    def direction(self) -> str:
        return self.group.rpartition(".")[2]


def capacity_scenario(scenario: Scenario) -> Scenario:
    """The scenario as measured: KPIs only (bounded memory), a warm-up of at least one day
    (the saturated entry starts empty and needs the downstream stations filled), and no
    digital platform (``platform:``) or booked slots (``slots:``): trucks that defer or divert
    when the wait grows would hide the very growth both methods look for, and a booking plan
    would hold the surplus at origin where neither method sees it, so the gate's own stations
    are measured. A carried-in backlog (``initial_backlog``) is dropped too: both methods set
    the load themselves."""
    warmup = max(scenario.warmup_days, 1.0)
    arrivals = {
        name: spec.model_copy(update={"initial_backlog": 0})
        for name, spec in scenario.arrivals.items()
    }
    return scenario.model_copy(
        update={
            "records": scenario.records.model_copy(update=NO_RECORDS),
            "warmup_days": warmup,
            "platform": {},
            "slots": {},
            "arrivals": arrivals,
        }
    )


# --------------------------------------------------------------------------- offered demand
def offered_per_day(scenario: Scenario) -> dict[str, float]:
    """Expected arrivals per measured day of each lane and direction (the scenario's demand)."""
    measured = (scenario.horizon_min - scenario.warmup_min) / MINUTES_PER_DAY
    first_hour = int(scenario.warmup_min // 60.0)
    rates: dict[str, float] = {}
    for arrival in scenario.arrivals.values():
        key = group_key(arrival.lane, arrival.direction)
        rates[key] = rates.get(key, 0.0) + _stream_offered(scenario, arrival, first_hour) / measured
    return rates


def _stream_offered(scenario: Scenario, arrival: ArrivalSpec, first_hour: int) -> float:
    if arrival.trace is not None:
        times = np.asarray(arrival.trace.times)
        return float(((times >= scenario.warmup_min) & (times < scenario.horizon_min)).sum())
    return float(hourly_means(scenario, arrival)[first_hour:].sum())


def _trace_profile(scenario: Scenario, arrival: ArrivalSpec) -> ArrivalSpec:
    """A replayed stream as a Poisson stream with the trace's mean rate and hour-of-day shape
    (the only form that can be scaled or saturated)."""
    if arrival.trace is None:
        return arrival
    times = np.asarray(arrival.trace.times)
    times = times[times < scenario.horizon_min]
    hours = np.bincount(((times % MINUTES_PER_DAY) // 60.0).astype(int), minlength=24)
    profile = [float(h) for h in hours[:24]] if hours.sum() else [1.0] * 24
    per_day = len(times) / scenario.days
    return arrival.model_copy(update={"trace": None, "profile": profile, "per_day": per_day})


# --------------------------------------------------------------------------- the two loads
def saturated_scenario(scenario: Scenario, feed: Mapping[str, float]) -> Scenario:
    """Every flow fed at ``feed[group]`` trucks/day, flat, in its own mix, no seasons; its
    entry stations take an unlimited queue. Flows not in ``feed`` get no trucks."""
    shares = _mix_shares(scenario)
    arrivals, entries = {}, set()
    for name, arrival in scenario.arrivals.items():
        key = group_key(arrival.lane, arrival.direction)
        rate = feed.get(key, 0.0) * shares[name]
        arrivals[name] = _trace_profile(scenario, arrival).model_copy(
            update={"per_day": rate, "profile": "flat", "multipliers": []}
        )
        if rate > 0:
            entries |= entry_stations(scenario.routes[arrival.route].steps)
    stations = {
        name: spec.model_copy(update={"queue_capacity": None}) if name in entries else spec
        for name, spec in scenario.stations.items()
    }
    return scenario.model_copy(
        update={
            "arrivals": arrivals,
            "stations": stations,
            "demand": DemandSpec(),
            "demand_scale": 1.0,
        }
    )


def ramp_scenario(scenario: Scenario, scales: Mapping[str, float]) -> Scenario:
    """Each flow's demand times ``scales[group]`` (its profile, calendar and mix kept);
    flows not in ``scales`` get no trucks."""
    arrivals = {}
    for name, arrival in scenario.arrivals.items():
        spec = _trace_profile(scenario, arrival)
        scale = scales.get(group_key(arrival.lane, arrival.direction), 0.0)
        arrivals[name] = spec.model_copy(update={"per_day": spec.per_day * scale})
    return scenario.model_copy(update={"arrivals": arrivals})


def _mix_shares(scenario: Scenario) -> dict[str, float]:
    """Each stream's share of its flow's offered trucks (equal shares in a flow with none)."""
    first_hour = int(scenario.warmup_min // 60.0)
    offered = {n: _stream_offered(scenario, a, first_hour) for n, a in scenario.arrivals.items()}
    totals: dict[str, float] = {}
    members: dict[str, int] = {}
    for name, arrival in scenario.arrivals.items():
        key = group_key(arrival.lane, arrival.direction)
        totals[key] = totals.get(key, 0.0) + offered[name]
        members[key] = members.get(key, 0) + 1
    shares = {}
    for name, arrival in scenario.arrivals.items():
        key = group_key(arrival.lane, arrival.direction)
        shares[name] = offered[name] / totals[key] if totals[key] > 0 else 1.0 / members[key]
    return shares


# --------------------------------------------------------------------------- measuring
Evaluate = Callable[[Sequence[Scenario], str], list[list[Row]]]


def replication_rows(runner: ReplicationRunner, replications: int) -> Evaluate:
    """Evaluate loads through the runner: the KPI rows of ``replications`` replications of
    each scenario (one batch, so a process pool or Dask runs them side by side).

    Each independent part carrying trucks is simulated on its own and the rows joined (a
    flow's KPIs and its stations' are those of the whole gate, bit for bit): a part without
    trucks (another lane under ``--lane``) is not simulated, and a part whose load did not
    change since an earlier batch (a lane already bracketed) is found in the runner's cache."""

    def evaluate(scenarios: Sequence[Scenario], label: str) -> list[list[Row]]:
        loads = [loaded_parts(s) for s in scenarios]
        jobs = [(s, only) for s, parts in zip(scenarios, loads, strict=True) for only in parts]
        batches = iter(
            runner.outcomes(
                [s for s, _ in jobs], [replications] * len(jobs), label, [o for _, o in jobs]
            )
        )
        rows: list[list[Row]] = []
        for scenario, parts in zip(scenarios, loads, strict=True):
            by_part = [(only, next(batches)) for only in parts]
            rows.append(
                [
                    _joined(scenario, [(only, outcomes[r]) for only, outcomes in by_part])
                    for r in range(replications)
                ]
            )
        return rows

    return evaluate


def loaded_parts(scenario: Scenario) -> list[Only]:
    """The independent parts of ``scenario`` whose streams bring trucks, one by one (the
    whole scenario, ``[None]``, when it is one part or none brings any)."""
    parts = independent_parts(scenario)
    if len(parts) < 2:
        return [None]
    loaded: list[Only] = [
        (i,)
        for i, part in enumerate(parts)
        if any(_brings_trucks(scenario.arrivals[name]) for name in part.streams)
    ]
    return loaded or [None]


def _brings_trucks(arrival: ArrivalSpec) -> bool:
    return arrival.per_day > 0 or arrival.initial_backlog > 0 or arrival.trace is not None


def _joined(
    scenario: Scenario, outcomes: Sequence[tuple[Only, ReplicationOutcome]]
) -> dict[str, float]:
    """One replication's row from its parts' outcomes: each KPI of a flow or station from the
    part that holds it (KPIs of the whole gate are left out when the gate was split: no part
    alone gives them)."""
    if len(outcomes) == 1 and outcomes[0][0] is None:
        return _row(outcomes[0][1])
    parts = independent_parts(scenario)
    row: dict[str, float] = {}
    for only, outcome in outcomes:
        assert only is not None
        own = {n for i in only for n in (*parts[i].stations, *parts[i].streams)}
        for key, value in _row(outcome).items():
            members = kpi_members(scenario, key)
            if members is not None and (members[0] | members[1]) <= own:
                row[key] = value
    return row


def _row(outcome: ReplicationOutcome) -> dict[str, float]:
    """The KPIs plus each station's measured arrivals and service starts (the mix check)."""
    row = dict(outcome.kpis)
    for name, stats in outcome.stations.items():
        for key in LEDGER:
            row[f"station.{name}.{key}"] = stats[key]
    return row


def measure_capacity(
    scenario: Scenario, evaluate: Evaluate, options: CapacityOptions
) -> list[FlowCapacity]:
    """Capacity of every lane and direction (or of ``options.lane``'s) by the chosen methods."""
    offered = check_measurable(scenario, options)
    flows = {g: FlowCapacity(g, rate) for g, rate in offered.items()}
    if "saturated" in options.methods:
        _measure_saturated(scenario, evaluate, flows, options)
    if "ramp" in options.methods:
        _measure_ramp(scenario, evaluate, flows, options)
    by_group = stations_by_group(scenario)
    for flow in flows.values():
        flow.binding = binding_stations(flow.saturated_rows, by_group[flow.group])
    return list(flows.values())


def check_measurable(scenario: Scenario, options: CapacityOptions) -> dict[str, float]:
    """The offered trucks per day of the flows to measure; one-line errors before any
    simulation for a renewal stream, an unknown lane, a scenario without arrivals, a range
    that cannot be searched."""
    renewal = [name for name, a in scenario.arrivals.items() if a.interarrival is not None]
    if renewal:
        # The search scales and saturates Poisson volumes (per_day); a renewal stream's
        # gap law has no per_day to scale without changing its variability.
        raise ScenarioError(
            None,
            f"arrivals.{renewal[0]}.interarrival",
            "capacity measures per_day (Poisson or trace) streams only, not renewal streams",
        )
    offered = offered_per_day(scenario)
    lanes = sorted({a.lane for a in scenario.arrivals.values()})
    if options.lane is not None and options.lane not in lanes:
        raise UsageError(
            "lane",
            f"no arrival stream uses this lane (lanes: {', '.join(lanes)})",
            options.lane,
        )
    offered = {g: r for g, r in offered.items() if options.lane in (None, g.rpartition(".")[0])}
    if not any(rate > 0 for rate in offered.values()):
        raise ScenarioError(
            None, "arrivals", "no trucks arrive after the warm-up: nothing to measure"
        )
    measured = scenario.days - scenario.warmup_days
    if measured < MIN_MEASURED_DAYS:
        raise ScenarioError(
            None,
            "days",
            f"capacity needs at least {MIN_MEASURED_DAYS} measured days after the warm-up of "
            f"{scenario.warmup_days:g} days (give --days)",
            scenario.days,
        )
    low, high = options.scale_range
    if not 0 < low < high or not math.isfinite(high):
        raise UsageError("scale_range", "needs 0 < LOW < HIGH", f"{low}:{high}")
    if not 0 < options.resolution < 1:
        raise UsageError("resolution", "needs a value in (0, 1)", options.resolution)
    return offered


def _measure_saturated(
    scenario: Scenario, evaluate: Evaluate, flows: dict[str, FlowCapacity], options: CapacityOptions
) -> None:
    """Feed every flow until its backlog grows; the last batch (every flow saturated) counts."""
    feed = {g: max(FIRST_FEED * f.offered_per_day, FEED_FLOOR) for g, f in flows.items()}
    for batch in range(1 + MAX_ESCALATIONS):
        rows = evaluate([saturated_scenario(scenario, feed)], f"saturated entry {batch + 1}")[0]
        growth = {g: backlog_growth(rows, g) for g in flows}
        starved = [g for g in flows if not growth[g].grows]
        if not starved or batch == MAX_ESCALATIONS:
            break
        for g in starved:
            feed[g] *= ESCALATION
    by_group = stations_by_group(scenario)
    for g, flow in flows.items():
        if not growth[g].grows:  # no answer rather than the feed itself
            flow.saturated_note = (
                f"the backlog did not grow at a feed of {feed[g]:,.0f} trucks/day: the entry "
                "was never saturated (capacity above that, or the growth test has too few days)"
            )
            continue
        flow.saturated = t_interval([row[f"throughput_per_day.{g}"] for row in rows])
        flow.saturated_growth = growth[g]
        flow.saturated_rows = rows
        entries = flow_entries(scenario, g)
        internal = [k for k in by_group[g] if k not in entries]
        behind = falling_behind(rows, internal) + unbalanced_entries(rows, sorted(entries))
        flow.behind = sorted(behind, key=lambda item: item[1])
        flow.entry_priority = entry_priority(scenario, entries)


def entry_priority(scenario: Scenario, entries: set[str]) -> str:
    """The classes an entry station serves first (``"cargo fruit"``), or '' without one."""
    for name in sorted(entries):
        spec = scenario.stations[name]
        if spec.discipline == "priority" and spec.priority is not None:
            return f"{spec.priority.by} {', '.join(spec.priority.order)}"
    return ""


def flow_entries(scenario: Scenario, group: str) -> set[str]:
    """The stations the flow's trucks may visit first."""
    entries: set[str] = set()
    for arrival in scenario.arrivals.values():
        if group_key(arrival.lane, arrival.direction) == group:
            entries |= entry_stations(scenario.routes[arrival.route].steps)
    return entries


def unbalanced_entries(rows: Sequence[Row], entries: Sequence[str]) -> list[tuple[str, float]]:
    """Entry stations that pass a smaller share of their (saturated) arrivals than the flow's
    best entry, by less than ``KEEPS_UP`` of it: the flow's paths then clear in another mix
    than the one offered. Values are shares relative to the best entry."""
    passed = {name: _started_share(rows, name) for name in entries}
    known = {name: share for name, share in passed.items() if not math.isnan(share)}
    if len(known) < 2:
        return []
    best = max(known.values())
    return [(n, share / best) for n, share in known.items() if share < KEEPS_UP * best]


def _started_share(rows: Sequence[Row], name: str) -> float:
    shares = [
        row[f"station.{name}.started"] / row[f"station.{name}.arrived_measured"]
        for row in rows
        if row.get(f"station.{name}.arrived_measured", 0.0) > 0
    ]
    return math.fsum(shares) / len(shares) if shares else math.nan


def falling_behind(rows: Sequence[Row], stations: Sequence[str]) -> list[tuple[str, float]]:
    """Stations that started fewer than ``KEEPS_UP`` of their measured arrivals (mean share
    over replications), most behind first. Past a saturated entry such a station lets its
    path's trucks pile up while other paths keep clearing: the cleared mix is then not the
    offered one, and the cleared rate overstates what the offered mix can sustain."""
    found = [(name, _started_share(rows, name)) for name in stations]
    return sorted(((n, s) for n, s in found if s < KEEPS_UP), key=lambda item: item[1])


# --------------------------------------------------------------------------- the ramp
#: A step out never multiplies the factor by more than this.
MAX_STEP = 2.0


def narrow_enough(stable: float, growing: float, resolution: float) -> bool:
    """Whether a bracket meets the resolution; the relative slack absorbs the rounding of a
    bracket of exactly (1 + resolution) (a geometric midpoint of one twice as wide)."""
    return growing / stable - 1.0 <= resolution * (1.0 + 1e-9)


@dataclass
class _Bracket:
    """A flow's demand factors: ``stable`` does not grow, ``growing`` does (None: not yet).

    The first point is ``start``; while unbracketed the search steps out by ``step``, which
    is squared after every step (at most MAX_STEP): next to a saturated answer it starts at
    (1 + resolution)^2, so a bracket found by k steps out spans (1 + resolution)^(2^k) and k
    geometric bisections bring it down to (1 + resolution) exactly."""

    start: float
    stable: float | None = None
    growing: float | None = None
    stable_rows: list[Row] = field(default_factory=list)
    growing_rows: list[Row] = field(default_factory=list)
    note: str = ""
    step: float = MAX_STEP

    def next_point(self, resolution: float, bounds: tuple[float, float]) -> float | None:
        """The next factor to try, or None when the bracket is narrow enough or hit a bound."""
        if self.stable is not None and self.growing is not None:
            if narrow_enough(self.stable, self.growing, resolution):
                return None
            return math.sqrt(self.stable * self.growing)
        if self.stable is None:  # every factor tried grows: go down
            assert self.growing is not None  # the start was recorded one way or the other
            if self.growing <= bounds[0]:
                self.note = "capacity below the searched range"
                return None
            point = max(self.growing / self.step, bounds[0])
        else:
            if self.stable >= bounds[1]:
                self.note = "capacity above the searched range"
                return None
            point = min(self.stable * self.step, bounds[1])
        self.step = min(self.step**2, MAX_STEP)
        return point

    def record(self, factor: float, rows: list[Row], grows: bool) -> None:
        if grows and (self.growing is None or factor < self.growing):
            self.growing, self.growing_rows = factor, rows
        elif not grows and (self.stable is None or factor > self.stable):
            self.stable, self.stable_rows = factor, rows


def _start_brackets(
    flows: Mapping[str, FlowCapacity], options: CapacityOptions
) -> dict[str, _Bracket]:
    """At the saturated capacity when known (stepping out by (1 + resolution)^2 first), else
    at today's load (stepping by MAX_STEP)."""
    brackets = {}
    low, high = options.scale_range
    for g, flow in flows.items():
        centre, step = 1.0, MAX_STEP
        if flow.saturated is not None and flow.offered_per_day > 0:
            centre = max(flow.saturated[0], 1e-9) / flow.offered_per_day
            step = (1 + options.resolution) ** 2
        brackets[g] = _Bracket(start=min(max(centre, low), high), step=step)
    return brackets


def _measure_ramp(
    scenario: Scenario, evaluate: Evaluate, flows: dict[str, FlowCapacity], options: CapacityOptions
) -> None:
    """Move every flow's bracket at once: each batch loads each open flow at its next factor
    (a flow already bracketed stays at its stable factor). A flow whose saturated answer lies
    within (1 + resolution)^2 of its capacity is settled by three points."""
    active = {g: f for g, f in flows.items() if f.offered_per_day > 0}
    brackets = _start_brackets(active, options)
    loads = {g: b.start for g, b in brackets.items()}
    probed = set(brackets)
    for batch in range(options.max_batches):
        [rows] = evaluate([ramp_scenario(scenario, loads)], f"demand ramp {batch + 1}")
        for g in probed:
            brackets[g].record(loads[g], rows, backlog_growth(rows, g).grows)
        points = {
            g: b.next_point(options.resolution, options.scale_range) for g, b in brackets.items()
        }
        probed = {g for g, p in points.items() if p is not None}
        if not probed:
            break
        # a settled flow stays at its last factor, so the load on stations it shares is real
        loads = {g: _next_or_resting(points[g], b) for g, b in brackets.items()}
    for g, bracket in brackets.items():
        _ramp_result(flows[g], bracket, options)


def _next_or_resting(point: float | None, bracket: _Bracket) -> float:
    if point is not None:
        return point
    resting = bracket.stable if bracket.stable is not None else bracket.growing
    return resting if resting is not None else bracket.start


def _ramp_result(flow: FlowCapacity, bracket: _Bracket, options: CapacityOptions) -> None:
    g = flow.group
    if bracket.stable is not None:
        flow.ramp = t_interval([row[f"throughput_per_day.{g}"] for row in bracket.stable_rows])
        flow.ramp_rows = bracket.stable_rows
    if bracket.growing is not None:
        flow.ramp_growing_offered = t_interval(
            [row[f"offered_per_day.{g}"] for row in bracket.growing_rows]
        )
    if bracket.stable is not None and bracket.growing is not None:
        flow.ramp_bracket = (bracket.stable, bracket.growing)
        if not narrow_enough(bracket.stable, bracket.growing, options.resolution):
            flow.ramp_note = (
                f"bracket still wider than {options.resolution:.0%} after the batch limit"
            )
    if not bracket.note and (bracket.stable is None or bracket.growing is None):
        side = "no stable load" if bracket.stable is None else "no growing load"
        bracket.note = f"{side} found within the batch limit"
    flow.ramp_note = flow.ramp_note or bracket.note


# --------------------------------------------------------------------------- reading results
def binding_stations(rows: Sequence[Row], stations: Sequence[str]) -> list[dict[str, Any]]:
    """The flow's stations by utilisation in opening hours (busiest first), with their share
    of arrivals turned away (full) and days a daily cap was reached; those at or above
    ``BINDING_UTILIZATION``, or capped on any measured day, bind (the busiest always shown)."""
    if not rows:
        return []
    found: list[dict[str, Any]] = []
    for name in stations:
        util = _mean(rows, f"station.{name}.utilization")
        if math.isnan(util):
            continue
        capped = _mean(rows, f"station.{name}.capped_days")
        found.append(
            {
                "station": name,
                "utilization": util,
                "blocking_share": _mean(rows, f"station.{name}.blocking_share"),
                "wait_mean_min": _mean(rows, f"station.{name}.wait_mean_min"),
                "capped_days": 0.0 if math.isnan(capped) else capped,
            }
        )
    found.sort(key=lambda s: -float(s["utilization"]))
    return [
        s
        for i, s in enumerate(found)
        if i == 0 or float(s["utilization"]) >= BINDING_UTILIZATION or float(s["capped_days"]) > 0
    ]


def _mean(rows: Sequence[Row], key: str) -> float:
    values = [row[key] for row in rows if key in row and not math.isnan(row[key])]
    return math.fsum(values) / len(values) if values else math.nan


def agreement(flow: FlowCapacity) -> tuple[bool | None, str]:
    """Whether the saturated interval meets the ramp's: [lower bound at the largest stable
    load, upper bound of the offered load at the smallest growing one]."""
    if flow.saturated is None or flow.ramp is None or flow.ramp_growing_offered is None:
        return None, flow.ramp_note or "one method has no answer"
    _, sat_lo, sat_hi = flow.saturated
    ramp_lo = _finite_or(flow.ramp[1], flow.ramp[0])
    ramp_hi = _finite_or(flow.ramp_growing_offered[2], flow.ramp_growing_offered[0])
    sat_lo, sat_hi = _finite_or(sat_lo, flow.saturated[0]), _finite_or(sat_hi, flow.saturated[0])
    if sat_hi < ramp_lo and flow.entry_priority:
        return False, (
            f"the entry serves {flow.entry_priority} first: an unlimited entry queue never runs "
            "out of them, so saturated entry starves the rest and clears another mix than the "
            "offered one; the ramp keeps the scenario's mix"
        )
    if sat_hi < ramp_lo:
        return False, (
            "the ramp sustains more than saturated entry clears: hours, caps or priorities bind "
            "differently under a flat, unlimited entry queue than under the scenario's profile"
        )
    if sat_lo > ramp_hi and flow.behind:
        name, share = flow.behind[0]
        return False, (
            f"under saturated entry {name} serves only {share:.0%} of the trucks sent its way, "
            "so its path's trucks pile up while other paths keep clearing: the cleared mix is "
            "not the offered one; the ramp keeps the scenario's mix"
        )
    if sat_lo > ramp_hi:
        return False, (
            "the backlog grows below the saturated rate: under the scenario's own arrival "
            "pattern some capacity goes unused (peaks queue while quiet hours idle), or its "
            "routes split trucks differently when the entry is not saturated (queue rules, "
            "shared stations); the ramp's figure is what this demand pattern sustains"
        )
    return True, "the saturated interval meets the ramp's bracket"


def headline(flow: FlowCapacity) -> Interval | None:
    """The capacity to quote: saturated entry, unless the ramp (the scenario's own demand
    pattern) sustains less, or saturated entry changed the cleared mix, or there is no
    saturated figure."""
    return _chosen(flow)[0]


def headline_values(flow: FlowCapacity) -> list[float]:
    """The quoted method's capacity in each replication (for paired differences)."""
    return [row[f"throughput_per_day.{flow.group}"] for row in _chosen(flow)[1]]


def headline_method(flow: FlowCapacity) -> str | None:
    return _chosen(flow)[2]


def _chosen(flow: FlowCapacity) -> tuple[Interval | None, list[Row], str | None]:
    agree, _ = agreement(flow)
    ramp_first = flow.saturated is None or agree is False or bool(flow.behind)
    bracketed = flow.ramp_growing_offered is not None  # a stable load alone is a lower bound
    if flow.ramp is not None and bracketed and ramp_first:
        return flow.ramp, flow.ramp_rows, "ramp"
    if flow.saturated is not None:
        return flow.saturated, flow.saturated_rows, "saturated"
    return None, [], None


def _finite_or(x: float, fallback: float) -> float:
    return x if math.isfinite(x) else fallback


def scenario_capacity(
    scenario: Scenario,
    options: CapacityOptions | None = None,
    jobs: int = 1,
    dask_address: str | None = None,
) -> list[FlowCapacity]:
    """Capacity of every lane and direction of ``scenario`` (the Python face of
    ``run_sim.py capacity``, without files): ``options`` default to the scenario's replication
    count and both methods; results are identical on every executor."""
    from gatesim.experiment.study import Execution, ReplicationRunner, scheduler_address

    chosen = options or CapacityOptions(replications=scenario.replications)
    execution = Execution(jobs=jobs, dask_address=dask_address)
    with scheduler_address(execution) as address:
        runner = ReplicationRunner(execution, address)
        evaluate = replication_rows(runner, chosen.replications)
        return measure_capacity(capacity_scenario(scenario), evaluate, chosen)
