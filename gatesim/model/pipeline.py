"""Run a component cut into pipeline stages (:mod:`gatesim.model.stages`), a day at a time.

The head advances one day, hands the trucks that left it over, and the tail advances the same
day; trucks only move from head to tail, so the tail never needs anything later. Serially both
stages alternate in this process. With ``fork=True`` (a process-pool worker, which has one
thread) the head runs in a forked child and sends each day's trucks through a pipe, so both
stages run at once on two cores. Both ways process exactly the same events in the same order:
the result does not depend on how the stages were run.
"""

from __future__ import annotations

import contextlib
import marshal
import multiprocessing
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

from gatesim.core.results import RunResult
from gatesim.core.trucks import Truck
from gatesim.model.components import Component
from gatesim.model.engine import MINUTES_PER_DAY, Handoff, Replication
from gatesim.scenario.schema import Scenario

__all__ = ["PipelineError", "can_fork", "run_stages"]

Handoffs = list[Handoff]
PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged process


class PipelineError(RuntimeError):
    """The head stage failed in its child process (the message holds its traceback)."""


def can_fork() -> bool:
    """A child may be forked safely: POSIX, and this process runs a single thread."""
    return hasattr(os, "fork") and threading.active_count() == 1


def run_stages(
    scenario: Scenario, replication: int, part: Component, seed: int | None, fork: bool
) -> list[RunResult]:
    """[head result, tail result] of a two-stage component."""
    if len(part.stages) != 2:
        raise ValueError(f"a pipeline needs two stages, got {len(part.stages)}")
    if fork and can_fork():
        return _run_forked(scenario, replication, part, seed)
    head = Replication(scenario, replication, seed, component=part, stage=0)
    tail = Replication(scenario, replication, seed, component=part, stage=1)
    for day_end in _day_ends(scenario):
        head.advance(day_end)
        tail.take(head.handed_over())
        tail.advance(day_end)
    return [_finish(head), _finish(tail)]


def _day_ends(scenario: Scenario) -> Iterator[float]:
    """The stops of the day-by-day advance: each midnight, then the horizon."""
    horizon = scenario.horizon_min
    day_end = MINUTES_PER_DAY
    while day_end < horizon:
        yield day_end
        day_end += MINUTES_PER_DAY
    yield horizon


def _finish(run: Replication) -> RunResult:
    result = run.finish()
    run.release()
    return result


def _run_forked(
    scenario: Scenario, replication: int, part: Component, seed: int | None
) -> list[RunResult]:
    reader, writer = multiprocessing.Pipe(duplex=False)
    _widen(writer)
    pid = os.fork()
    if pid == 0:  # the child: the head stage; it must never return into the caller's code
        reader.close()
        os._exit(_head_child(scenario, replication, part, seed, writer))
    writer.close()
    try:
        tail = Replication(scenario, replication, seed, component=part, stage=1)
        head_result = _follow(tail, reader)
        results = [head_result, _finish(tail)]
    except BaseException:
        os.kill(pid, signal.SIGKILL)  # it may be blocked on a full pipe
        raise
    finally:
        reader.close()
        os.waitpid(pid, 0)
    return results


def _widen(pipe: Connection) -> None:
    """Let the head run days ahead: a baseline day is ~125 kB marshalled and a pipe holds
    64 kB, so with the default size every send would wait for the tail (Linux only; else as
    it is). 1 MB holds about a week."""
    with contextlib.suppress(ImportError, AttributeError, OSError):
        import fcntl  # POSIX only

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


# Messages from the head: a tag byte, then the body. A day's trucks are marshalled (plain
# values only; ~1.2 us per truck out and in against ~5 us with pickle, whose loads is slow on
# many small tuples); the result and a failure are pickled. Both ends are the same interpreter
# (a fork), so marshal's version-specific format is safe here.
TRUCKS, DONE, FAILED = b"T", b"D", b"E"


def _head_child(
    scenario: Scenario, replication: int, part: Component, seed: int | None, out: Connection
) -> int:
    try:
        head = Replication(scenario, replication, seed, component=part, stage=0)
        for day_end in _day_ends(scenario):
            head.advance(day_end)
            out.send_bytes(TRUCKS + marshal.dumps((day_end, _pack(head.handed_over()))))
        out.send_bytes(DONE + pickle.dumps(head.finish(), pickle.HIGHEST_PROTOCOL))
        return 0
    except BaseException:  # reported to the parent, which raises it
        out.send_bytes(FAILED + traceback.format_exc().encode())
        return 1
    finally:
        out.close()


# Trucks cross the pipe as tuples of plain values, which marshal can write; pickling Truck
# objects (slots) cost ~14 us per truck out and in, as much as simulating a few visits.
_Packed = tuple[
    float,
    int,
    int,
    int,
    str,
    int,
    str,
    str,
    str,
    str,
    float,
    str,
    Any,
    dict[str, str],
    float,
    float,
]


def _pack(handoffs: Handoffs) -> list[_Packed]:
    return [
        (
            when,
            snapshots,
            reports,
            t.id,
            t.stream,
            t.stream_index,
            t.lane,
            t.direction,
            t.cargo,
            t.channel,
            t.created,
            t.node,
            t.step,
            t.attrs,
            t.visit_t,
            t.closed_wait,
        )
        for when, snapshots, reports, t in handoffs
    ]


def _unpack(packed: list[_Packed]) -> Handoffs:
    handoffs = []
    for (
        when, snapshots, reports, i, name, k, lane, direction, cargo, channel, created, node,
        step, attrs, t, closed_wait,
    ) in packed:  # fmt: skip
        truck = Truck(i, name, k, lane, direction, cargo, channel, created, node, attrs)
        truck.step, truck.visit_t, truck.closed_wait = step, t, closed_wait
        handoffs.append((when, snapshots, reports, truck))
    return handoffs


def _follow(tail: Replication, head: Connection) -> RunResult:
    """Advance the tail behind the head's days; returns the head's result."""
    while True:
        try:
            message = head.recv_bytes()
        except EOFError:
            raise PipelineError("the head stage's process ended without a result") from None
        kind, body = message[:1], memoryview(message)[1:]
        if kind == TRUCKS:
            day_end, packed = marshal.loads(body)
            tail.take(_unpack(packed))
            tail.advance(day_end)
        elif kind == DONE:
            result: RunResult = pickle.loads(body)
            return result
        else:
            raise PipelineError(f"the head stage failed:\n{bytes(body).decode()}")
