"""A bare-SimPy twin of ``scenarios/baseline.yaml`` reduced to its stations and routing.

It reads, and is compared with gatesim running, ``benchmarks/scenarios/baseline_24h.yaml``: the
baseline with every calendar open 00:00-24:00, without empty returns and without the CN
acceptance stations, written by ``benchmarks/derive_baseline_24h.py``, because this twin has no
opening hours, returns or acceptance limits.

What the twin includes, read from the same YAML file (plain PyYAML, no gatesim code):

* every station as a ``simpy.Resource`` with the file's ``servers`` and an unlimited waiting
  room; ``discipline: priority`` as a ``simpy.PriorityResource`` (rank by ``priority.order`` of
  the truck attribute ``priority.by``, unlisted values last, FIFO within a rank);
* every station's service distribution (deterministic, exponential, uniform, triangular,
  lognormal by mean and cv or sd, mixtures, with ``shift``) and its ``service_when`` rules;
* quarantine holds: after service, with ``hold_probability`` the truck stays ``hold_time`` more
  minutes without a server (``type: quarantine`` stations);
* routes with their ``branch`` steps (on any truck attribute) and ``choose`` steps (random, by
  the file's probabilities), resolved when the truck is created; exact because every attribute
  is fixed at creation for the supported station types and choices are independent draws;
* roads: before each station and before the destination the truck travels for the shortest-path
  time from where it was (Dijkstra over the road graph, ``two_way`` honoured), one timeout per
  move with a positive travel time;
* arrivals: one source process per stream, a non-homogeneous Poisson process with the stream's
  hourly profile and ``per_day`` (exact, by inverting the piecewise-linear cumulative rate); the
  customs channel and the stream's extra categorical ``attributes`` drawn per truck;
* warm-up: sojourns are recorded for trucks created at or after the warm-up that reach their
  destination before the horizon (gatesim's definition of time in system).

Anything else stops the twin with a ValueError: other station types or keys
(``queue_capacity``), ``if_queue_above`` steps, multipliers, traces, ``demand_scale``.

What it leaves out: opening hours (calendars), the staging yards' areas and spill-back (they are
statistics only in gatesim, with no effect on flow), and all of gatesim's reporting (hourly
snapshots, daily backlogs, station statistics, per-day counts).

Randomness: one numpy ``Generator`` per random source, draws taken in blocks of 1024, as in
``bare_simpy_tandem.py``. One SimPy process per truck with ``with res.request() as req``.
"""

from __future__ import annotations

import heapq
import math
import sys
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import simpy
import yaml
from bare_simpy_tandem import TwinResult, block_sampler, count_steps

BASELINE = Path(__file__).resolve().parent / "scenarios" / "baseline_24h.yaml"
MINUTES_PER_DAY = 1440.0
SUPPORTED_STATION_KEYS = {
    "type",
    "label",
    "side",
    "servers",
    "service",
    "service_when",
    "calendar",
    "params",
    "discipline",
    "priority",
}
#: Station types whose flow is the base station's (the rest of their behaviour is statistics).
SUPPORTED_TYPES = {
    "station",
    "gate_checkin",
    "document_check",
    "weighbridge",
    "border_guard",
    "staging_yard",
    "xray_scanner",
    "physical_inspection",
    "quarantine",
    "transshipment",
}

Draw = Callable[[], float]
DrawMany = Callable[[int], np.ndarray]


# --------------------------------------------------------------------------- distributions
def _many(spec: dict[str, Any], rng: np.random.Generator) -> DrawMany:
    """``n -> n draws`` for one distribution spec as written in the scenario file."""
    kind, shift = spec["dist"], float(spec.get("shift", 0.0))
    base: DrawMany
    if kind == "deterministic":
        value = float(spec["value"])
        base = lambda n: np.full(n, value)  # noqa: E731
    elif kind == "exponential":
        mean = float(spec["mean"])
        base = lambda n: rng.exponential(mean, n)  # noqa: E731
    elif kind == "uniform":
        low, high = float(spec["low"]), float(spec["high"])
        base = lambda n: rng.uniform(low, high, n)  # noqa: E731
    elif kind == "triangular":
        low, mode, high = float(spec["low"]), float(spec["mode"]), float(spec["high"])
        base = lambda n: rng.triangular(low, mode, high, n)  # noqa: E731
    elif kind == "lognormal":
        mean = float(spec["mean"])
        cv = float(spec["cv"]) if "cv" in spec else float(spec["sd"]) / mean
        sigma = math.sqrt(math.log1p(cv * cv))
        mu = math.log(mean) - sigma * sigma / 2
        base = lambda n: rng.lognormal(mu, sigma, n)  # noqa: E731
    elif kind == "mixture":
        parts = [(float(c["p"]), _many(c["dist"], rng)) for c in spec["components"]]
        cumulative = np.cumsum([p for p, _ in parts])

        def base(n: int) -> np.ndarray:
            pick = np.searchsorted(cumulative, rng.random(n), side="right")
            pick = np.minimum(pick, len(parts) - 1)
            out = np.empty(n)
            for j, (_, draw_many) in enumerate(parts):
                mask = pick == j
                out[mask] = draw_many(int(mask.sum()))
            return out

    else:
        raise ValueError(f"the twin does not support dist '{kind}'")
    return (lambda n: base(n) + shift) if shift else base


def make_draw(spec: dict[str, Any], rng: np.random.Generator) -> Draw:
    if spec["dist"] == "deterministic":
        value = float(spec["value"]) + float(spec.get("shift", 0.0))
        return lambda: value
    return block_sampler(_many(spec, rng))


def uniform_draw(rng: np.random.Generator) -> Draw:
    return block_sampler(rng.random)


# --------------------------------------------------------------------------- roads
def travel_table(tree: dict[str, Any]) -> Callable[[str, str], float]:
    """Shortest-path travel minutes between any two places (0 if the file has no roads)."""
    edges: dict[str, list[tuple[str, float]]] = {}
    for road in (tree.get("roads") or {}).values():
        minutes = 60.0 * float(road["length_km"]) / float(road["speed_kmh"])
        edges.setdefault(road["from"], []).append((road["to"], minutes))
        if road.get("two_way", False):
            edges.setdefault(road["to"], []).append((road["from"], minutes))
    memo: dict[str, dict[str, float]] = {}

    def dijkstra(origin: str) -> dict[str, float]:
        dist = {origin: 0.0}
        heap = [(0.0, origin)]
        while heap:
            d, node = heapq.heappop(heap)
            if d > dist[node]:
                continue
            for nxt, w in edges.get(node, ()):
                if d + w < dist.get(nxt, math.inf):
                    dist[nxt] = d + w
                    heapq.heappush(heap, (d + w, nxt))
        return dist

    def travel(origin: str, target: str) -> float:
        if not edges:
            return 0.0
        if origin not in memo:
            memo[origin] = dijkstra(origin)
        return memo[origin][target]  # KeyError = no road: the file is broken

    return travel


# --------------------------------------------------------------------------- the model
@dataclass
class StationTwin:
    resource: simpy.Resource
    service: Draw
    rules: list[tuple[dict[str, str], Draw]]  # service_when: first matching rule wins
    priority_by: str | None  # discipline: priority, by this truck attribute
    rank: dict[str, int]
    hold_p: float
    hold_u: Draw | None
    hold: Draw | None


#: One visit of a truck: travel minutes before it, station, request priority, service draw.
Leg = tuple[float, StationTwin, "int | None", Draw]


def build_station(env: simpy.Environment, name: str, spec: dict[str, Any], rng: Any) -> StationTwin:
    unknown = set(spec) - SUPPORTED_STATION_KEYS
    kind = spec.get("type", "station")
    if unknown or kind not in SUPPORTED_TYPES:
        raise ValueError(f"station {name}: the twin does not model {sorted(unknown) or kind}")
    servers = int(spec.get("servers", 1))
    params = spec.get("params") or {}
    hold_p = float(params.get("hold_probability", 0.0)) if kind == "quarantine" else 0.0
    priority = spec.get("priority") if spec.get("discipline", "fifo") == "priority" else None
    if spec.get("discipline", "fifo") not in ("fifo", "priority"):
        raise ValueError(f"station {name}: the twin does not model discipline {spec['discipline']}")
    service = make_draw(spec.get("service", {"dist": "deterministic", "value": 0.0}), rng)
    return StationTwin(
        resource=simpy.PriorityResource(env, servers) if priority else simpy.Resource(env, servers),
        service=service,
        rules=[
            ({k: str(v) for k, v in rule["when"].items()}, make_draw(rule["service"], rng))
            for rule in spec.get("service_when") or []
        ],
        priority_by=priority.get("by", "cargo") if priority else None,
        rank={str(v): i for i, v in enumerate(priority["order"])} if priority else {},
        hold_p=hold_p,
        hold_u=uniform_draw(rng) if hold_p > 0 else None,
        hold=make_draw(params["hold_time"], rng) if hold_p > 0 else None,
    )


def run(
    seed: int = 0,
    days: int | None = None,
    path: Path = BASELINE,
    *,
    count_events: bool = False,
) -> TwinResult:
    """One replication of the baseline network (all stations open around the clock)."""
    started = time.perf_counter()
    tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    days = int(tree.get("days", 30)) if days is None else days
    horizon = days * MINUTES_PER_DAY
    warmup = float(tree.get("warmup_days", 0.0)) * MINUTES_PER_DAY
    root = np.random.default_rng(seed)
    env = simpy.Environment()
    counter = count_steps(env) if count_events else None
    travel = travel_table(tree)
    stations = {
        name: build_station(env, name, spec, root.spawn(1)[0])
        for name, spec in tree["stations"].items()
    }
    choosers: dict[int, Draw] = {}

    def resolve(steps: list[Any], truck: dict[str, str], out: list[str]) -> None:
        """Flatten a route for one truck: branches by its attributes, choices at random.

        Exact because every attribute is fixed when the truck is created (no station of the
        supported types sets one) and choices are independent draws.
        """
        for step in steps:
            if isinstance(step, str):
                out.append(step)
            elif "branch" in step:
                value = truck.get(step["branch"], "")
                sub = step["cases"].get(value, step.get("default"))
                if sub is None:
                    raise ValueError(f"no case for {step['branch']} = {value}")
                resolve(sub, truck, out)
            elif "choose" in step:
                if id(step) not in choosers:
                    choosers[id(step)] = uniform_draw(root.spawn(1)[0])
                options = step["choose"]
                u, acc, chosen = choosers[id(step)](), 0.0, options[-1]
                for option in options:
                    acc += float(option["p"])
                    if u < acc:
                        chosen = option
                        break
                resolve(chosen.get("steps") or [], truck, out)
            else:
                raise ValueError(f"the twin does not model route step {sorted(step)}")

    def leg(minutes: float, station: StationTwin, truck: dict[str, str]) -> Leg:
        priority = None
        if station.priority_by is not None:
            value = truck.get(station.priority_by, "")
            priority = station.rank.get(value, len(station.rank))
        service = station.service
        for when, draw in station.rules:
            if all(truck.get(k) == v for k, v in when.items()):
                service = draw
                break
        return (minutes, station, priority, service)

    sojourns: list[float] = []
    arrived = [0]

    def truck_process(legs: list[Leg], final: float, born: float) -> Generator[Any, Any, None]:
        for minutes, station, priority, service in legs:
            if minutes > 0.0:
                yield env.timeout(minutes)
            resource = station.resource
            req = (
                resource.request()
                if priority is None
                else cast(simpy.PriorityResource, resource).request(priority=priority)
            )
            with req:
                yield req
                yield env.timeout(service())
            if station.hold_p > 0.0 and station.hold_u() < station.hold_p:  # type: ignore[misc]
                yield env.timeout(station.hold())  # type: ignore[misc]
        if final > 0.0:
            yield env.timeout(final)
        if born >= warmup:
            sojourns.append(env.now - born)

    def categorical(shares: dict[str, float], rng: Any) -> Callable[[], str]:
        items = [(str(k), float(p)) for k, p in shares.items()]
        u = uniform_draw(rng)

        def draw() -> str:
            x, acc = u(), 0.0
            for value, p in items:
                acc += p
                if x < acc:
                    return value
            return items[-1][0]

        return draw

    def source(stream: str, spec: dict[str, Any]) -> Generator[Any, Any, None]:
        if any(k in spec for k in ("multipliers", "trace")) or "demand_scale" in tree:
            raise ValueError(f"arrivals.{stream}: the twin models plain NHPP streams only")
        profile = spec.get("profile", "flat")
        weights = [1.0] * 24 if profile == "flat" else tree["profiles"].get(profile, profile)
        total = float(sum(weights))
        rates = [float(spec["per_day"]) * w / total / 60.0 for w in weights]  # per minute
        route = tree["routes"][spec["route"]]
        rng = root.spawn(1)[0]
        exp1 = block_sampler(rng.standard_exponential)
        channel = categorical(spec.get("channels") or {"green": 1.0}, rng)
        extra = {
            name: categorical(shares, root.spawn(1)[0])
            for name, shares in (spec.get("attributes") or {}).items()
        }
        fixed = {
            "lane": str(spec["lane"]),
            "direction": str(spec["direction"]),
            "cargo": str(spec["cargo"]),
            "stream": stream,
        }
        t = 0.0
        while True:
            # Next arrival of the NHPP: invert the cumulative rate from t, hour by hour.
            budget, hour = exp1(), int(t // 60.0)
            while True:
                end = (hour + 1) * 60.0
                rate = rates[hour % 24]
                if rate > 0.0 and budget < rate * (end - t):
                    t += budget / rate
                    break
                budget -= rate * (end - t)
                t, hour = end, hour + 1
                if t >= horizon:
                    return
            if t >= horizon:
                return
            yield env.timeout(t - env.now)
            arrived[0] += 1
            truck = {**fixed, "channel": channel()}
            for name, draw in extra.items():
                truck[name] = draw()
            names: list[str] = []
            resolve(route.get("steps") or [], truck, names)
            legs, here = [], route["origin"]
            for name in names:
                legs.append(leg(travel(here, name), stations[name], truck))
                here = name
            env.process(truck_process(legs, travel(here, route["destination"]), env.now))

    for stream, spec in tree["arrivals"].items():
        env.process(source(stream, spec))
    env.run(until=horizon)
    return TwinResult(
        mean_sojourn=float(np.mean(sojourns)) if sojourns else float("nan"),
        count=len(sojourns),
        arrived=arrived[0],
        wall_seconds=time.perf_counter() - started,
        events=counter[0] if counter is not None else None,
    )


if __name__ == "__main__":
    result = run(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(
        f"mean sojourn {result.mean_sojourn:.3f} min over {result.count} trucks "
        f"({result.arrived} arrived, {result.wall_seconds:.2f} s)"
    )
