"""Every executor returns the same results, in task order, and reports each result once."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from gatesim.experiment.executors import (
    DASK_CONNECT_TIMEOUT,
    LOCAL_CLUSTER_CONFIG,
    ExecutorError,
    check_scheduler,
    local_cluster,
    run_tasks,
)

TASKS = [(seed, 1000 + 100 * seed) for seed in range(6)]  # (seed, sample size)


def draw(task: tuple[int, int]) -> float:
    """Deterministic given its task: the seed travels with the task, not with the worker."""
    seed, n = task
    return float(np.random.default_rng(seed).exponential(2.0, size=n).mean())


def fail_on_zero(task: tuple[int, int]) -> float:
    if task[0] == 0:
        time.sleep(0.5)  # fail late, after the other tasks have finished
        raise RuntimeError("task 0 failed")
    return draw(task)


def collect(
    jobs: int = 1, dask_address: str | None = None
) -> tuple[list[float], dict[int, float], list[int]]:
    seen: dict[int, float] = {}
    calls: list[int] = []

    def on_result(i: int, r: float) -> None:
        calls.append(i)
        seen[i] = r

    results = run_tasks(draw, TASKS, jobs=jobs, dask_address=dask_address, on_result=on_result)
    return results, seen, calls


def expected() -> list[float]:
    return [draw(t) for t in TASKS]


def test_serial_in_task_order() -> None:
    results, seen, calls = collect()
    assert results == expected()
    assert calls == list(range(len(TASKS)))
    assert seen == dict(enumerate(results))


def test_process_pool_matches_serial() -> None:
    results, seen, calls = collect(jobs=2)
    assert results == expected()
    assert sorted(calls) == list(range(len(TASKS)))  # once each, in any order
    assert seen == dict(enumerate(results))


def test_dask_local_matches_serial() -> None:
    results, seen, calls = collect(jobs=2, dask_address="local")
    assert results == expected()
    assert sorted(calls) == list(range(len(TASKS)))
    assert seen == dict(enumerate(results))


def test_empty_and_without_callback() -> None:
    assert run_tasks(draw, [], jobs=2) == []
    assert run_tasks(draw, TASKS[:2], jobs=3) == expected()[:2]


@pytest.mark.parametrize("jobs", [1, 2])
def test_failure_propagates_after_finished_results(jobs: int) -> None:
    tasks = [TASKS[1], TASKS[2], TASKS[0], TASKS[3], TASKS[4]]  # the failing task is index 2
    seen: dict[int, float] = {}
    with pytest.raises(RuntimeError, match="task 0 failed"):
        run_tasks(fail_on_zero, tasks, jobs=jobs, on_result=seen.__setitem__)
    # serial stops at the failure; the pool also delivers the tasks that ran meanwhile
    delivered = {0, 1} if jobs == 1 else {0, 1, 3, 4}
    assert seen == {i: draw(tasks[i]) for i in delivered}


def test_unreachable_scheduler_fails_fast() -> None:
    start = time.monotonic()
    with pytest.raises(ExecutorError, match=r"cannot reach Dask scheduler at tcp://127\.0\.0\.1:9"):
        run_tasks(draw, TASKS, dask_address="tcp://127.0.0.1:9")
    assert time.monotonic() - start < 15.0


def test_jobs_must_be_positive() -> None:
    with pytest.raises(ValueError, match="jobs"):
        run_tasks(draw, TASKS, jobs=0)


def worker_settings() -> dict[str, object]:
    import dask

    return {key: dask.config.get(key) for key in LOCAL_CLUSTER_CONFIG}


def test_local_cluster_quiets_its_workers_only() -> None:
    from distributed import Client

    before = worker_settings()
    with local_cluster(1) as cluster, Client(cluster) as client:
        on_workers = list(client.run(worker_settings).values())
    assert on_workers == [LOCAL_CLUSTER_CONFIG]
    assert worker_settings() == before  # the caller's configuration is left as it was


# --------------------------------------------------------------------------- not a Dask scheduler
@contextlib.contextmanager
def listener(reply: bytes | None) -> Iterator[str]:
    """A TCP port that accepts, sends ``reply`` (None: nothing) and then stays silent."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        held = []
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            held.append(conn)
            if reply is not None:
                conn.sendall(reply)
        for conn in held:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        server.close()


HTTP_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" * 4


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (None, f"no Dask handshake within {DASK_CONNECT_TIMEOUT:g} s"),
        (HTTP_REPLY, "it does not speak the Dask protocol"),  # read as an exabyte frame length
    ],
)
def test_a_port_that_is_not_a_scheduler_fails_within_the_connect_timeout(
    reply: bytes | None, problem: str
) -> None:
    with listener(reply) as address:
        start = time.monotonic()
        with pytest.raises(ExecutorError) as caught:
            run_tasks(draw, TASKS, dask_address=address)
        elapsed = time.monotonic() - start
    assert str(caught.value) == f"cannot reach Dask scheduler at {address}: {problem}"
    assert elapsed < DASK_CONNECT_TIMEOUT + 3.0


def test_a_real_scheduler_passes_the_handshake_check() -> None:
    with local_cluster(1) as cluster:
        check_scheduler(cluster.scheduler_address)  # no error
        assert run_tasks(draw, TASKS[:2], dask_address=cluster.scheduler_address) == [
            draw(TASKS[0]),
            draw(TASKS[1]),
        ]


def test_gatesims_local_workers_drop_only_the_lost_scheduler_heartbeat_error() -> None:
    """After Ctrl-C the scheduler closes first; a worker's heartbeat then fails. On the
    workers of gatesim's own cluster that one ERROR (with its traceback) is dropped, no other."""
    import logging

    from gatesim.experiment.dask_quiet import QuietCancellations

    logger = logging.getLogger("distributed.worker")
    before = list(logger.filters)
    try:
        QuietCancellations().setup(worker=None)
        QuietCancellations().setup(worker=None)  # a second set-up adds nothing

        def record(message: str) -> logging.LogRecord:
            return logger.makeRecord(logger.name, logging.ERROR, __file__, 1, message, (), None)

        assert len(logger.filters) == len(before) + 1
        lost = record("Failed to communicate with scheduler during heartbeat.")
        assert not logger.filter(lost)
        assert logger.filter(record("Compute Failed"))
    finally:
        logger.filters[:] = before
