"""The engine's event loop: plain callbacks interleave with SimPy events exactly as Timeouts."""

from __future__ import annotations

import gc
import math
from collections.abc import Callable

import pytest
import simpy

from gatesim.core.calendar import Calendar
from gatesim.core.loop import FastEnvironment, scheduler


def _trace(env: simpy.Environment, call: Callable[..., None]) -> list[tuple[float, str]]:
    """Plain callbacks, a process and a Timeout at tied times; returns (time, label) in order."""
    seen: list[tuple[float, str]] = []

    def note(label: str) -> None:
        seen.append((env.now, label))

    def proc() -> simpy.events.ProcessGenerator:
        note("proc start")
        yield env.timeout(1.0)
        note("proc 1")
        call(0.0, note, "call from proc")
        yield env.timeout(1.0)
        note("proc 2")

    call(1.0, note, "call a")
    env.process(proc())
    env.timeout(1.0).callbacks.append(lambda _e: note("timeout"))
    call(1.0, note, "call b")
    call(2.0, note, "call c")
    call(3.0, note, "at horizon (not run)")
    env.run(until=3.0)
    return seen


def test_plain_callbacks_keep_simpy_order() -> None:
    fast = FastEnvironment()
    plain = simpy.Environment()
    assert _trace(fast, fast.call_in) == _trace(plain, scheduler(plain))
    assert fast.now == plain.now == 3.0


def test_processed_counts_events_and_callbacks() -> None:
    env = FastEnvironment()
    for delay in (0.0, 1.0, 2.0):
        env.call_in(delay, lambda _arg: None)
    env.run(until=5.0)
    assert env.processed == 3


def test_negative_delay_rejected() -> None:
    with pytest.raises(ValueError):
        FastEnvironment().call_in(-1.0, print)


def test_calendar_stretch() -> None:
    cal = Calendar([(10.0, 20.0), (30.0, 40.0)])
    assert cal.stretch(5.0) == (-math.inf, 10.0, False)
    assert cal.stretch(10.0) == (10.0, 20.0, True)
    assert cal.stretch(20.0) == (20.0, 30.0, False)
    assert cal.stretch(45.0) == (40.0, math.inf, False)
    for t in (0.0, 10.0, 15.0, 20.0, 25.0, 35.0, 50.0):
        lo, hi, is_open = cal.stretch(t)
        assert lo <= t < hi and is_open == cal.is_open(t)
        assert hi == (cal.next_close(t) if is_open else cal.next_open(t))


def test_a_run_freezes_older_objects_and_leaves_the_collector_as_it_was() -> None:
    from builders import single_station

    from gatesim.model.engine import Replication

    def run_and_look() -> int:
        run = Replication(single_station([1.0, 2.0], 1.0), 0)
        seen: list[int] = []
        run.env.call_in(1.5, lambda _: seen.append(gc.get_freeze_count()))
        run.run()
        return seen[0]

    assert gc.get_freeze_count() == 0
    assert run_and_look() > 0  # during the run the older objects sit in the frozen generation
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    gc.freeze()  # a caller's own freeze is neither extended nor undone
    try:
        frozen = gc.get_freeze_count()  # may only shrink (frozen objects can still be freed)
        assert run_and_look() <= frozen and gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()


def test_back_to_back_runs_do_not_keep_the_earlier_ones() -> None:
    """A finished run leaves no engine behind: its cycles are collected as it ends (with the
    older objects frozen, so only the run's own objects are walked); before, each run froze
    the uncollected engines of the runs before it, and a batch kept every one of them."""
    from builders import single_station

    from gatesim.experiment.parts import simulate_part
    from gatesim.model.engine import Replication, simulate

    def engines() -> int:
        return sum(1 for o in gc.get_objects() if type(o) is Replication)

    scen = single_station([1.0, 2.0, 3.0], 1.0)
    gc.collect()
    for replication in range(4):
        simulate(scen, replication)
        assert engines() == 0
        simulate_part(scen, replication, 0)
        assert engines() == 0
    assert gc.get_freeze_count() == 0 and gc.isenabled()
