"""The idiomatic bare-SimPy twin of ``benchmarks/scenarios/tandem.yaml``.

A 4-station open tandem: Poisson arrivals at 1/min, each station 2 servers with exponential
service of rate 0.625/min (mean 1.6 min, rho = 0.8), FIFO, infinite waiting room, no travel.
One SimPy process per customer, ``simpy.Resource`` request/release with the ``with`` idiom,
the sojourn of every customer that leaves before the horizon is recorded.

Randomness: a numpy ``Generator`` per source (arrivals, each station), spawned from one seed.
By default draws are taken in blocks of 1024 (one numpy call per block, as gatesim's
``Sampler`` does), so the comparison measures the simulation machinery, not numpy's per-call
overhead; ``block_draws=False`` draws one scalar per call (the textbook idiom, slower).

Run alone: ``python benchmarks/bare_simpy_tandem.py [seed]``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

ARRIVAL_RATE = 1.0  # per minute
SERVICE_MEAN = 1.6  # minutes (rate 0.625 per minute)
SERVERS = 2
STATIONS = 4
HORIZON_MIN = 139 * 1440.0  # = tandem.yaml's 139 days: 200,160 min, about 200,000 customers
BLOCK = 1024


@dataclass
class TwinResult:
    mean_sojourn: float  # minutes, over customers that left before the horizon
    count: int  # customers that left before the horizon
    arrived: int
    wall_seconds: float
    events: int | None = None  # env.step calls, when counted


def block_sampler(draw_many: Callable[[int], np.ndarray]) -> Callable[[], float]:
    """A zero-argument draw function backed by blocks of ``BLOCK`` draws."""
    buffer: list[float] = []

    def draw() -> float:
        if not buffer:
            buffer.extend(draw_many(BLOCK)[::-1].tolist())  # pop() from the end keeps order
        return buffer.pop()

    return draw


def make_exponential(
    rng: np.random.Generator, mean: float, block_draws: bool
) -> Callable[[], float]:
    if block_draws:
        return block_sampler(lambda n: rng.exponential(mean, n))
    return lambda: float(rng.exponential(mean))


def count_steps(env: simpy.Environment) -> list[int]:
    """Wrap ``env.step`` so that every processed event is counted; returns the counter cell."""
    counter = [0]
    step = env.step

    def counted_step() -> None:
        counter[0] += 1
        step()

    env.step = counted_step  # type: ignore[method-assign]
    return counter


def run(
    seed: int = 0,
    horizon: float = HORIZON_MIN,
    *,
    block_draws: bool = True,
    count_events: bool = False,
) -> TwinResult:
    """One replication; returns the mean sojourn and the number of customers that left."""
    started = time.perf_counter()
    rngs = np.random.default_rng(seed).spawn(1 + STATIONS)
    interarrival = make_exponential(rngs[0], 1.0 / ARRIVAL_RATE, block_draws)
    env = simpy.Environment()
    counter = count_steps(env) if count_events else None
    stations = [
        (simpy.Resource(env, capacity=SERVERS), make_exponential(rng, SERVICE_MEAN, block_draws))
        for rng in rngs[1:]
    ]
    sojourns: list[float] = []
    arrived = [0]

    def customer(born: float) -> Generator[simpy.Event, Any, None]:
        for resource, service in stations:
            with resource.request() as req:
                yield req
                yield env.timeout(service())
        sojourns.append(env.now - born)

    def source() -> Generator[simpy.Event, Any, None]:
        while True:
            yield env.timeout(interarrival())
            arrived[0] += 1
            env.process(customer(env.now))

    env.process(source())
    env.run(until=horizon)
    return TwinResult(
        mean_sojourn=float(np.mean(sojourns)) if sojourns else float("nan"),
        count=len(sojourns),
        arrived=arrived[0],
        wall_seconds=time.perf_counter() - started,
        events=counter[0] if counter is not None else None,
    )


if __name__ == "__main__":
    # python bare_simpy_tandem.py [SEED [DAYS]]
    days = float(sys.argv[2]) if len(sys.argv) > 2 else None
    result = run(int(sys.argv[1]) if len(sys.argv) > 1 else 0, days * 1440 if days else HORIZON_MIN)
    print(
        f"mean sojourn {result.mean_sojourn:.3f} min over {result.count} customers "
        f"({result.wall_seconds:.2f} s)"
    )
