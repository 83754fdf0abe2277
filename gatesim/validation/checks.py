"""Named analytic checks: a scenario file, what to measure in it, and what theory predicts.

Every check is an ordinary scenario (``scenarios/<name>.yaml``, loaded with ``load_scenario``)
plus one or more :class:`Metric` s. A metric extracts one value per replication from the
:class:`ExperimentResult` and computes the analytic value *from the scenario's own parameters*,
so the YAML file is the single source of truth. Second moments of service times are computed
here from the distribution parameters (not from ``Distribution.variance``), so the oracle does
not share code with the sampler it validates.

Rates are per minute, times in minutes. The formulas are in ``gatesim.stats.queueing``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gatesim.core.distributions import (
    Deterministic,
    Distribution,
    Erlang,
    Exponential,
    Lognormal,
    Triangular,
)
from gatesim.experiment.runner import ExperimentResult
from gatesim.model.loading import load_scenario
from gatesim.scenario.schema import ArrivalSpec, ChooseStep, ReworkStep, Scenario, StationSpec
from gatesim.stats.abandonment import erlang_a_abandonment, erlang_a_tagged
from gatesim.stats.queueing import (
    cobham_priority_waits,
    gim1_wait,
    jackson_tandem_sojourn,
    md1_wait,
    mg1_wait,
    mm1_wait,
    mmc_wait,
    mmck_blocking,
    mmck_number,
    mmck_wait,
    preemptive_resume_waits,
    tandem_blocking_throughput,
)

SCENARIOS = Path(__file__).parent / "scenarios"
MINUTES_PER_DAY = 1440.0
#: Truck attributes fixed by the arrival stream (the analytic side can resolve service by them).
STREAM_ATTRIBUTES = frozenset({"lane", "direction", "cargo"})

Extractor = Callable[[ExperimentResult], list[float]]
Analytic = Callable[[Scenario], float]
Rates = Callable[[Scenario], dict[str, float]]


@dataclass(frozen=True)
class Metric:
    """One compared quantity: per-replication simulated values vs one analytic value."""

    name: str
    extract: Extractor
    analytic: Analytic
    unit: str = ""


@dataclass(frozen=True)
class Check:
    """A scenario file and the metrics compared in it."""

    name: str
    title: str
    rates: Rates
    metrics: tuple[Metric, ...]

    @property
    def path(self) -> Path:
        return SCENARIOS / f"{self.name}.yaml"

    def scenario(self) -> Scenario:
        return load_scenario(self.path)

    def loads(self, scenario: Scenario) -> dict[str, float]:
        """Offered load λ·E[S]/c of every station (ρ)."""
        return {
            name: rate * mean_service(scenario, name) / _station(scenario, name).servers
            for name, rate in self.rates(scenario).items()
        }


# --------------------------------------------------------------------------- scenario facts
def arrival_rate(scenario: Scenario, cargo: str | None = None) -> float:
    """Mean arrivals per minute (of one cargo class, or all); time-homogeneous streams only."""
    total = 0.0
    for arrival in scenario.arrivals.values():
        if cargo is not None and arrival.cargo != cargo:
            continue
        if arrival.multipliers or arrival.trace is not None:
            raise ValueError("arrival_rate needs streams without multipliers or traces")
        demand = scenario.demand_scale * _constant_demand(scenario, arrival)
        total += _daily_volume(arrival) * demand
    return total / MINUTES_PER_DAY


def _daily_volume(arrival: ArrivalSpec) -> float:
    """Trucks a day at demand factor 1: ``per_day``, or a day over the mean renewal gap."""
    if arrival.interarrival is not None:
        return MINUTES_PER_DAY / service_moments(arrival.interarrival)[0]
    return arrival.per_day


def _constant_demand(scenario: Scenario, arrival: ArrivalSpec) -> float:
    """The demand-calendar factor of a stream that has the same factor every day."""
    from gatesim.scenario.demand import day_factors

    factors = day_factors(scenario, arrival)
    if factors.size and not np.all(factors == factors[0]):
        raise ValueError("arrival_rate needs a demand calendar without seasons or weekdays")
    return float(factors[0]) if factors.size else 1.0


def _station(scenario: Scenario, name: str) -> StationSpec:
    return scenario.stations[name]


def service_moments(dist: Distribution) -> tuple[float, float]:
    """(E[S], E[S²]) from the parameters, independently of ``Distribution.mean/variance``."""
    if dist.shift != 0.0:
        raise ValueError("validation checks use unshifted service times")
    if isinstance(dist, Deterministic):
        return dist.value, dist.value**2
    if isinstance(dist, Exponential):
        return dist.base_mean, 2.0 * dist.base_mean**2
    if isinstance(dist, Lognormal):
        cv = dist.cv if dist.cv is not None else (dist.sd or 0.0) / dist.base_mean
        return dist.base_mean, dist.base_mean**2 * (1.0 + cv**2)
    if isinstance(dist, Erlang):
        return dist.base_mean, dist.base_mean**2 * (1.0 + 1.0 / dist.k)
    if isinstance(dist, Triangular):
        a, c, b = dist.low, dist.mode, dist.high
        return (a + b + c) / 3.0, (a * a + b * b + c * c + a * b + a * c + b * c) / 6.0
    raise ValueError(f"no closed-form moments for {type(dist).__name__}")


def _service_of(spec: StationSpec, arrival: ArrivalSpec) -> Distribution:
    """The service distribution a stream's trucks get (``service_when`` on lane/direction/cargo)."""
    for rule in spec.service_when:
        if not set(rule.when) <= STREAM_ATTRIBUTES:
            raise ValueError(f"service_when on {sorted(rule.when)} varies within a stream")
        if all(getattr(arrival, attr) == value for attr, value in rule.when.items()):
            return rule.service
    return spec.service


def mean_service(scenario: Scenario, station: str) -> float:
    """E[S] at a station, averaged over the arrival streams by their volumes."""
    spec, streams = _station(scenario, station), list(scenario.arrivals.values())
    total = sum(_daily_volume(a) for a in streams)
    return sum(_daily_volume(a) / total * service_moments(_service_of(spec, a))[0] for a in streams)


def _exp_rate(spec: StationSpec) -> float:
    if not isinstance(spec.service, Exponential):
        raise ValueError("this formula needs exponential service")
    return 1.0 / service_moments(spec.service)[0]


def _route_stations(scenario: Scenario) -> list[str]:
    """Stations of the single route, in order (plain name steps only)."""
    (route,) = scenario.routes.values()
    return [step for step in route.steps if isinstance(step, str)]


def _choice(scenario: Scenario) -> ChooseStep:
    (route,) = scenario.routes.values()
    return next(step for step in route.steps if isinstance(step, ChooseStep))


# --------------------------------------------------------------------------- station rates
def every_station(scenario: Scenario) -> dict[str, float]:
    """All trucks visit every station (single stations and tandems)."""
    return {name: arrival_rate(scenario) for name in scenario.stations}


def split_then_merge(scenario: Scenario) -> dict[str, float]:
    """A choose step sends share p_i to its option's stations; the remaining steps see all."""
    lam, rates = arrival_rate(scenario), {}
    for option in _choice(scenario).choose:
        rates.update({name: lam * option.p for name in option.steps if isinstance(name, str)})
    return rates | {name: lam for name in _route_stations(scenario)}


# --------------------------------------------------------------------------- analytic values
def wait_mmc(station: str, rates: Rates) -> Analytic:
    """Wq of an M/M/c station (M/M/1 formula when c = 1)."""

    def value(s: Scenario) -> float:
        spec, lam = _station(s, station), rates(s)[station]
        if spec.servers == 1:
            return mm1_wait(lam, _exp_rate(spec))
        return mmc_wait(spec.servers, lam, _exp_rate(spec))

    return value


def wait_mg1(station: str, rates: Rates) -> Analytic:
    """Pollaczek–Khinchine Wq of an M/G/1 station (M/D/1 formula for constant service)."""

    def value(s: Scenario) -> float:
        spec, lam = _station(s, station), rates(s)[station]
        if isinstance(spec.service, Deterministic):
            return md1_wait(lam, spec.service.value)
        m1, m2 = service_moments(spec.service)
        return mg1_wait(lam, m1, m2 - m1 * m1)

    return value


def utilization(station: str, rates: Rates) -> Analytic:
    """λ·E[S]/c (infinite waiting room)."""

    def value(s: Scenario) -> float:
        spec = _station(s, station)
        return rates(s)[station] * service_moments(spec.service)[0] / spec.servers

    return value


def laplace_transform(dist: Distribution) -> Callable[[float], float]:
    """A*(z) = E[exp(−z A)] from the parameters (deterministic and Erlang gaps)."""
    if dist.shift != 0.0:
        raise ValueError("validation checks use unshifted interarrival times")
    if isinstance(dist, Deterministic):
        return lambda z: float(np.exp(-z * dist.value))
    if isinstance(dist, Erlang):
        rate = dist.k / dist.base_mean  # of each of the k exponential phases
        return lambda z: (rate / (rate + z)) ** dist.k
    raise ValueError(f"no Laplace transform for {type(dist).__name__} gaps")


def wait_gim1(station: str) -> Analytic:
    """Wq of a GI/M/1 station fed by one renewal stream: σ / (μ(1 − σ)), σ = A*(μ(1 − σ))."""

    def value(s: Scenario) -> float:
        ((_, arrival),) = s.arrivals.items()
        if arrival.interarrival is None or s.demand_scale != 1.0:
            raise ValueError("wait_gim1 needs one renewal stream at demand factor 1")
        if _constant_demand(s, arrival) != 1.0:
            raise ValueError("wait_gim1 needs a demand calendar with factor 1")
        return gim1_wait(laplace_transform(arrival.interarrival), _exp_rate(_station(s, station)))

    return value


def tandem_sojourn(s: Scenario) -> float:
    """Total sojourn through the route's M/M/c stations (Jackson / Burke)."""
    stations = [(_station(s, n).servers, _exp_rate(_station(s, n))) for n in _route_stations(s)]
    return jackson_tandem_sojourn(arrival_rate(s), stations)


def _feedback(s: Scenario) -> tuple[float, float, ReworkStep]:
    """(λ, μ, the rework step) of a single M/M/1 station with a rework loop onto itself."""
    (route,) = s.routes.values()
    loop = next(step for step in route.steps if isinstance(step, ReworkStep))
    (station,) = s.stations.values()
    return arrival_rate(s), _exp_rate(station), loop


def feedback_sojourn(s: Scenario) -> float:
    """Jackson, M/M/1 with Bernoulli feedback p: T = 1/(μ(1 − p) − λ) (every pass an M/M/1
    sojourn 1/(μ − λ/(1 − p)), 1/(1 − p) passes); the ``max`` cap must be out of reach."""
    lam, mu, loop = _feedback(s)
    p = loop.rework.p
    if p ** (loop.rework.max + 1) > 1e-12:
        raise ValueError("feedback_sojourn needs a rework cap that never binds")
    return 1.0 / (mu * (1.0 - p) - lam)


def feedback_visits(s: Scenario) -> float:
    """Visits per truck with at most ``max`` returns: Σ_{n=0}^{max} pⁿ = (1 − p^{max+1})/(1 − p)."""
    p, most = _feedback(s)[2].rework.p, _feedback(s)[2].rework.max
    return (1.0 - p ** (most + 1)) / (1.0 - p)


def feedback_rates(s: Scenario) -> dict[str, float]:
    """The station sees λ/(1 − p) (every truck and every return)."""
    lam, _, loop = _feedback(s)
    return {name: lam / (1.0 - loop.rework.p) for name in s.stations}


def _mmck_args(s: Scenario, station: str) -> tuple[int, int, float, float]:
    spec = _station(s, station)
    if spec.queue_capacity is None:
        raise ValueError(f"station {station} has no queue_capacity")
    return spec.servers, spec.servers + spec.queue_capacity, arrival_rate(s), _exp_rate(spec)


def blocking_mmck(station: str) -> Analytic:
    return lambda s: mmck_blocking(*_mmck_args(s, station))


def wait_mmck(station: str) -> Analytic:
    return lambda s: float(mmck_wait(*_mmck_args(s, station)))


def utilization_mmck(station: str) -> Analytic:
    """Carried load λ(1 − p_K)/(cμ)."""

    def value(s: Scenario) -> float:
        c, k, lam, mu = _mmck_args(s, station)
        return lam * (1.0 - mmck_blocking(c, k, lam, mu)) / (c * mu)

    return value


def _erlang_a_args(s: Scenario, station: str) -> tuple[int, float, float, float]:
    """(c, λ, μ, θ) of an M/M/c+M station: exponential service and patience."""
    spec = _station(s, station)
    if not isinstance(spec.patience, Exponential) or spec.patience.shift != 0.0:
        raise ValueError(f"station {station} needs an unshifted exponential patience")
    return spec.servers, arrival_rate(s), _exp_rate(spec), 1.0 / spec.patience.base_mean


def abandonment_erlang_a(station: str) -> Analytic:
    """Share of arrivals that renege (Erlang-A, incomplete-gamma form)."""
    return lambda s: erlang_a_abandonment(*_erlang_a_args(s, station))


def served_wait_erlang_a(station: str) -> Analytic:
    """Mean wait of the trucks served (Erlang-A, tagged-arrival recursion)."""
    return lambda s: erlang_a_tagged(*_erlang_a_args(s, station))[1]


def _balking_mmck_args(s: Scenario, station: str) -> tuple[int, int, float, float]:
    """Balking at ``balk_at`` waiting trucks is M/M/c/K with K = c + balk_at."""
    spec = _station(s, station)
    if not isinstance(spec.balk_at, int):
        raise ValueError(f"station {station} needs an integer balk_at")
    return spec.servers, spec.servers + spec.balk_at, arrival_rate(s), _exp_rate(spec)


def blocking_balk(station: str) -> Analytic:
    return lambda s: mmck_blocking(*_balking_mmck_args(s, station))


def number_balk(station: str) -> Analytic:
    return lambda s: mmck_number(*_balking_mmck_args(s, station))


def _class_service(s: Scenario, spec: StationSpec, cargo: str) -> Distribution:
    """Service of a cargo class (all its streams must share it)."""
    services = {
        _service_of(spec, a).model_dump_json() for a in s.arrivals.values() if a.cargo == cargo
    }
    if len(services) != 1:
        raise ValueError(f"cargo class '{cargo}' needs exactly one service distribution")
    arrival = next(a for a in s.arrivals.values() if a.cargo == cargo)
    return _service_of(spec, arrival)


def _class_wait(station: str, cargo: str, formula: Callable[..., list[float]]) -> Analytic:
    """One class's M/G/1 priority wait by ``formula`` (lams, mean services, second moments),
    classes by cargo in the station's priority order."""

    def value(s: Scenario) -> float:
        spec = _station(s, station)
        assert spec.priority is not None and spec.priority.by == "cargo"
        order = spec.priority.order
        moments = [service_moments(_class_service(s, spec, c)) for c in order]
        lams = [arrival_rate(s, c) for c in order]
        waits = formula(lams, [m[0] for m in moments], [m[1] for m in moments])
        return waits[order.index(cargo)]

    return value


def wait_priority(station: str, cargo: str) -> Analytic:
    """Cobham's non-preemptive M/G/1 priority wait of one class (classes by cargo)."""
    return _class_wait(station, cargo, cobham_priority_waits)


def wait_preemptive(station: str, cargo: str) -> Analytic:
    """Preemptive-resume M/G/1 priority wait (time in system less service) of one class."""
    return _class_wait(station, cargo, preemptive_resume_waits)


def _blocking_pair(s: Scenario) -> tuple[float, float, int]:
    """μ1, μ2 and the waiting places of the tandem with blocking (stations s1, s2)."""
    second = _station(s, "s2")
    if second.queue_capacity is None or second.when_full != "block":
        raise ValueError("the blocking tandem needs s2 with queue_capacity and when_full: block")
    return _exp_rate(_station(s, "s1")), _exp_rate(second), second.queue_capacity


def blocking_throughput(s: Scenario) -> float:
    """Trucks per minute through the saturated two-station line with blocking."""
    return tandem_blocking_throughput(*_blocking_pair(s))


def first_blocked_share(s: Scenario) -> float:
    """Share of time the saturated first server holds a blocked truck: p_N = p_0·r^N."""
    mu1, mu2, places = _blocking_pair(s)
    r, n = mu1 / mu2, places + 2
    p0 = 1.0 / (n + 1) if r == 1.0 else (1.0 - r) / (1.0 - r ** (n + 1))
    return p0 * r**n


def _profile(s: Scenario) -> np.ndarray:
    (arrival,) = s.arrivals.values()
    return np.asarray(s.profile_weights(arrival.profile), dtype=float)


def hourly_count(weight: float) -> Analytic:
    """Expected trucks per clock hour in the hours whose profile weight is ``weight``."""

    def value(s: Scenario) -> float:
        (arrival,) = s.arrivals.values()
        weights = _profile(s)
        rate = arrival.per_day * s.demand_scale * _constant_demand(s, arrival)
        return rate * weight / float(weights.sum())

    return value


# --------------------------------------------------------------------------- extractors
def kpi(column: str, factor: float = 1.0) -> Extractor:
    """A column of the per-replication KPI table, times ``factor``."""
    return lambda res: (res.kpi_table()[column] * factor).tolist()


def lost_share(res: ExperimentResult) -> list[float]:
    """Lost / arrived per replication (whole run: these counters span the warm-up too)."""
    table = res.kpi_table()
    return (table["lost"] / table["arrived"]).tolist()


def number_in_station(station: str) -> Extractor:
    """Time-average trucks at a station (waiting + busy servers) per replication."""

    def values(res: ExperimentResult) -> list[float]:
        table = res.kpi_table()
        servers = res.scenario.stations[station].servers
        busy = table[f"station.{station}.utilization"] * servers  # always open: busy_mean
        return (table[f"station.{station}.queue_mean"] + busy).tolist()

    return values


def class_wait(station: str, cargo: str) -> Extractor:
    """Mean wait per replication of one cargo class, from visit records after the warm-up."""

    def values(res: ExperimentResult) -> list[float]:
        visits, trucks = res.visits_table(), res.trucks_table()
        if visits is None or trucks is None:
            raise ValueError("class_wait needs records: {trucks: true, visits: true}")
        merged = visits.merge(
            trucks[["replication", "truck", "cargo"]], on=["replication", "truck"]
        )
        keep = (
            (merged.station == station)
            & (merged.cargo == cargo)
            & (merged.arrive_min >= res.scenario.warmup_min)
        )
        chosen = merged[keep]
        waits = chosen.start_min - chosen.arrive_min
        return waits.groupby(chosen.replication).mean().tolist()

    return values


def sojourn_wait(station: str, cargo: str) -> Extractor:
    """Mean time in system of one cargo class less its mean service at its only station, per
    replication: its whole wait, however often its service was interrupted."""

    def values(res: ExperimentResult) -> list[float]:
        s = res.scenario
        service = service_moments(_class_service(s, _station(s, station), cargo))[0]
        column = res.kpi_table()[f"time_in_system_mean_h.cargo.{cargo}"]
        return (column * 60.0 - service).tolist()

    return values


def visits_per_truck(res: ExperimentResult) -> list[float]:
    """Station visits per truck cleared, of the trucks created after the warm-up."""
    visits, trucks = res.visits_table(), res.trucks_table()
    if visits is None or trucks is None:
        raise ValueError("visits_per_truck needs records: {trucks: true, visits: true}")
    chosen = trucks[(trucks.outcome == "cleared") & (trucks.created_min >= res.scenario.warmup_min)]
    counts = visits.groupby(["replication", "truck"]).size().rename("visits").reset_index()
    merged = chosen[["replication", "truck"]].merge(counts, on=["replication", "truck"])
    return merged.groupby("replication").visits.mean().tolist()


def hourly_cleared(weight: float) -> Extractor:
    """Mean trucks cleared per clock hour, over the hours whose profile weight is ``weight``."""

    def values(res: ExperimentResult) -> list[float]:
        hours = np.flatnonzero(_profile(res.scenario) == weight)
        return [float(np.mean(np.asarray(o.cleared_by_hour)[hours])) for o in res.outcomes]

    return values


# --------------------------------------------------------------------------- the checks
def _station_wait(station: str, analytic: Analytic) -> Metric:
    return Metric(f"{station}.wait_q", kpi(f"station.{station}.wait_mean_min"), analytic, "min")


def _station_util(station: str, analytic: Analytic) -> Metric:
    return Metric(f"{station}.utilization", kpi(f"station.{station}.utilization"), analytic)


def _profile_metric(weight: float) -> Metric:
    name = f"trucks_per_hour.w{weight:g}"
    return Metric(name, hourly_cleared(weight), hourly_count(weight), "trucks")


CHECKS: tuple[Check, ...] = (
    Check(
        "mm1",
        "M/M/1 wait",
        every_station,
        (
            _station_wait("s1", wait_mmc("s1", every_station)),
            _station_util("s1", utilization("s1", every_station)),
        ),
    ),
    Check(
        "mm1_lifo",
        "M/M/1 LIFO wait (= FIFO mean)",
        every_station,
        (_station_wait("s1", wait_mmc("s1", every_station)),),
    ),
    Check(
        "mmc",
        "M/M/3 wait (Erlang C)",
        every_station,
        (
            _station_wait("s1", wait_mmc("s1", every_station)),
            _station_util("s1", utilization("s1", every_station)),
        ),
    ),
    Check(
        "md1",
        "M/D/1 wait (P-K)",
        every_station,
        (_station_wait("s1", wait_mg1("s1", every_station)),),
    ),
    Check(
        "mg1_lognormal",
        "M/G/1 lognormal cv 1.5 wait (P-K)",
        every_station,
        (_station_wait("s1", wait_mg1("s1", every_station)),),
    ),
    Check(
        "mg1_triangular",
        "M/G/1 triangular wait (P-K)",
        every_station,
        (_station_wait("s1", wait_mg1("s1", every_station)),),
    ),
    Check(
        "dm1",
        "D/M/1 wait (GI/M/1 root)",
        every_station,
        (_station_wait("s1", wait_gim1("s1")),),
    ),
    Check(
        "ekm1",
        "E_3/M/1 wait (GI/M/1 root)",
        every_station,
        (_station_wait("s1", wait_gim1("s1")),),
    ),
    Check(
        "jackson",
        "Jackson tandem M/M/1 → M/M/2 → M/M/3 sojourn",
        every_station,
        (Metric("sojourn", kpi("time_in_system_mean_h", 60.0), tandem_sojourn, "min"),),
    ),
    Check(
        "feedback",
        "M/M/1 with Bernoulli feedback p = 0.25 (Jackson): time in system and visits",
        feedback_rates,
        (
            Metric("sojourn", kpi("time_in_system_mean_h", 60.0), feedback_sojourn, "min"),
            Metric("visits_per_truck", visits_per_truck, feedback_visits, "visits"),
        ),
    ),
    Check(
        "branching",
        "choose 0.3/0.7 → M/M/1 or M/M/2 → common M/M/1",
        split_then_merge,
        tuple(_station_wait(n, wait_mmc(n, split_then_merge)) for n in ("a", "b", "c")),
    ),
    Check(
        "mmck",
        "M/M/2/5 blocking and wait of admitted",
        every_station,
        (
            Metric("s1.blocked_share", lost_share, blocking_mmck("s1")),
            _station_wait("s1", wait_mmck("s1")),
            _station_util("s1", utilization_mmck("s1")),
        ),
    ),
    Check(
        "mmc_abandon",
        "M/M/2+M reneging (Erlang-A): abandonment and wait of the served",
        every_station,
        (
            Metric("s1.reneged_share", kpi("station.s1.reneged_share"), abandonment_erlang_a("s1")),
            _station_wait("s1", served_wait_erlang_a("s1")),
        ),
    ),
    Check(
        "mm1_balk",
        "M/M/1 balking at 4 waiting = M/M/1/5 blocking and number in system",
        every_station,
        (
            Metric("s1.balked_share", kpi("station.s1.balked_share"), blocking_balk("s1")),
            Metric("s1.number", number_in_station("s1"), number_balk("s1"), "trucks"),
        ),
    ),
    Check(
        "priority",
        "non-preemptive priority M/M/1, 2 classes (Cobham)",
        every_station,
        tuple(
            Metric(f"s1.wait_q.{c}", class_wait("s1", c), wait_priority("s1", c), "min")
            for c in ("hi", "lo")
        )
        + tuple(  # the same waits from streaming statistics (class_statistics: [cargo])
            Metric(
                f"s1.wait_mean_min.cargo.{c}",
                kpi(f"station.s1.wait_mean_min.cargo.{c}"),
                wait_priority("s1", c),
                "min",
            )
            for c in ("hi", "lo")
        ),
    ),
    Check(
        "preemptive",
        "preemptive-resume priority M/M/1, 2 classes",
        every_station,
        tuple(
            Metric(f"s1.wait.{c}", sojourn_wait("s1", c), wait_preemptive("s1", c), "min")
            for c in ("hi", "lo")
        ),
    ),
    Check(
        "tandem_blocking",
        "saturated M → M/1/2 tandem, blocking after service: throughput",
        every_station,
        (
            Metric(
                "throughput",
                kpi("throughput_per_day", 1 / MINUTES_PER_DAY),
                blocking_throughput,
                "trucks/min",
            ),
            Metric("s1.blocked_share", kpi("station.s1.blocked_share"), first_blocked_share),
        ),
    ),
    Check(
        "profile",
        "hourly arrival profile, zero-time station",
        every_station,
        tuple(_profile_metric(w) for w in (0.0, 1.0, 2.0, 3.0, 5.0)),
    ),
)


def get_check(name: str) -> Check:
    for check in CHECKS:
        if check.name == name:
            return check
    raise KeyError(f"unknown check '{name}'; known: {', '.join(c.name for c in CHECKS)}")
