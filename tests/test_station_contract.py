"""The station subclass contract: built-ins keep the ledger through public helpers only, the
helpers keep it at every step, and the monitors' update gives the exact time integral.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from builders import det, scenario, trace_stream

from gatesim.core.monitors import TimeWeighted
from gatesim.core.trucks import Truck
from gatesim.model.engine import Replication, simulate
from gatesim.stations.base import NoParams, Station, StationContext

ROOT = Path(__file__).resolve().parent.parent
BUILT_INS = sorted((ROOT / "gatesim" / "stations").glob("*.py"))
#: The base and the parts of its loop that keep the ledger with it (not station types).
BASE_LOOP = {"base.py", "blocking.py", "preemption.py", "class_statistics.py"}
#: Private members of Station a subclass must not touch, and ledger counters it must not set.
PRIVATE = re.compile(r"\._(queue_changed|forward|visits|pull|lose|start|service_done|call)\b")
LEDGER = re.compile(r"\.(arrived|rejected|served|departed|in_service|in_hold)\s*[+-]?=[^=]")


@pytest.mark.parametrize(
    "path",
    [p for p in BUILT_INS if p.name not in BASE_LOOP] + [ROOT / "examples" / "convoy_escort.py"],
    ids=lambda p: p.name,
)
def test_station_types_use_only_public_hooks(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not PRIVATE.findall(text), f"{path.name} calls private Station members"
    assert not LEDGER.findall(text), f"{path.name} sets ledger counters by hand"


def ledger(station: Station) -> int:
    """arrived - (rejected + waiting + in service + held + departed)."""
    return station.conservation_gap()


def test_helpers_keep_the_ledger_at_every_step() -> None:
    """An arrive override built from the helpers: the gap is 0 after every single call."""
    s = scenario({"s1": {"servers": 1, "service": det(1.0)}},
                 {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
                 {"a": trace_stream([100.0])})  # fmt: skip
    run = Replication(s)
    station = run.stations["s1"]
    forwarded: list[Truck] = []
    station._forward = forwarded.append  # the engine's side, out of the way here
    station._lose = forwarded.append
    trucks = [Truck(i, "a", 0, "L", "export", "c", "green", 0.0, "src", None) for i in range(3)]
    gaps = []
    station.accept(trucks[0])
    station.queue.push(trucks[0])
    station.queue_changed(0.0)
    gaps.append(ledger(station))
    station.queue.pop()
    station.queue_changed(0.0)
    station.begin_service(trucks[0], 0.0)
    gaps.append(ledger(station))
    station.end_service(trucks[0])
    gaps.append(ledger(station))
    assert station.in_hold == 1  # served, not yet gone
    station.depart(trucks[0])
    station.reject(trucks[1])
    gaps.append(ledger(station))
    assert gaps == [0, 0, 0, 0]
    assert (station.arrived, station.rejected, station.departed, station.served) == (2, 1, 1, 1)
    assert forwarded == [trucks[0], trucks[1]]


def test_an_internal_station_is_in_the_ledger_and_the_count_of_trucks_inside() -> None:
    s = scenario({"s1": {"servers": 1, "service": det(1.0)}},
                 {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
                 {"a": trace_stream([100.0])})  # fmt: skip
    run = Replication(s)
    outer = run.stations["s1"]
    booth = outer.add_internal(
        Station("s1/booth", s.stations["s1"], NoParams()),
        StationContext(env=run.env, rng=outer.rng, calendar=outer.calendar,
                       forward=lambda t: None, lose=lambda t: None, warmup=0.0),
    )  # fmt: skip
    truck = Truck(0, "a", 0, "L", "export", "c", "green", 0.0, "src", None)
    outer.accept(truck)
    outer.hand_to(booth, truck)  # the booth starts it at once (a free server)
    assert (outer.inside(), outer.conservation_gap()) == (1, 0)
    assert (booth.in_service, outer.departed, outer.internal) == (1, 1, [booth])
    booth.arrived += 1  # a leak inside the booth shows in the outer station's gap
    assert outer.conservation_gap() == 1


def test_monitor_update_equals_the_integral_of_the_recorded_levels() -> None:
    """A station's queue monitor (updated on the hot path) against the step function of every
    queue length it reported, integrated here."""
    times = [0.0, 0.5, 0.7, 1.0, 1.1, 4.0, 4.2, 4.25, 9.0]
    levels: list[tuple[float, int]] = [(0.0, 0)]

    class Watched(Station):
        def on_queue_change(self, now: float, waiting: int) -> None:
            levels.append((now, waiting))

    s = scenario({"s1": {"servers": 1, "service": det(1.3)}},
                 {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
                 {"a": trace_stream(times)})  # fmt: skip
    run = Replication(s)
    station = run.stations["s1"]
    station.__class__ = Watched
    station._bind_fast_paths()  # it now watches its queue
    end = 20.0
    run.env.run(until=end)
    reference = TimeWeighted()
    area = 0.0
    for (t0, level), (t1, _) in zip(levels, [*levels[1:], (end, 0)], strict=True):
        area += level * (t1 - t0)
        reference.update(t0, level)
    assert station.queue_monitor.area(end) == pytest.approx(area, rel=1e-15)
    assert station.queue_monitor.area(end) == reference.area(end)  # same additions, same order
    assert station.queue_monitor.max == max(level for _, level in levels) == reference.max
    assert simulate(s).stations["s1"]["queue_mean"] == pytest.approx(area / 1440.0, rel=1e-15)
