"""Run independent tasks serially, on a process pool or on Dask; results come back in task order.

The executor changes only where tasks run, never what they return: each task must carry its own
seed, so ``run_tasks`` gives identical lists whatever the executor. ``fn`` and the tasks must be
picklable; for Dask on remote workers ``fn`` must also be importable there (install gatesim on
the workers).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from gatesim.stations.plugins import ensure_plugins, loaded_plugins

if TYPE_CHECKING:  # the pool's modules load only when a run uses a pool (not a serial run)
    import concurrent.futures as cf

__all__ = [
    "DASK_CONNECT_TIMEOUT",
    "LOCAL_CLUSTER_CONFIG",
    "MP_START_METHOD",
    "ExecutorError",
    "local_cluster",
    "run_tasks",
]

T = TypeVar("T")
R = TypeVar("R")

# fork starts workers in milliseconds and shares the parent's imports; elsewhere only spawn is
# safe. Fork is still skipped when the parent runs other threads (e.g. after a Dask client), as
# forking a multi-threaded process can deadlock: see _start_method.
MP_START_METHOD = "fork" if sys.platform == "linux" else "spawn"
DASK_CONNECT_TIMEOUT = 5.0  # seconds; an unreachable scheduler fails fast instead of hanging
_PENDING: Any = object()  # sentinel for a result slot not yet filled (None is a valid result)

# Dask's diagnostics run on each worker's event loop, which must take the GIL from the task
# thread every time one fires; the scheduler and nannies of a LocalCluster run in this process.
# With the default intervals (profiler, loop tick, memory and system monitors) an idle local
# cluster keeps part of a core busy and the workers spend CPU outside the tasks, so a batch
# runs measurably longer than on the process pool. These diagnostics feed the dashboard, which
# a throw-away cluster does not have, so it runs them rarely. The memory monitor still
# enforces the workers' memory limit, only later.
#
# worker-saturation 1.0: the scheduler hands a single-threaded worker its next task only when
# it is free (the default 1.1 gives it a second one in advance). A batch ends on small tasks
# in a chosen order (runner.schedule); with a task queued in advance, the last one could wait
# behind a busy worker while the other idled.
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}


class ExecutorError(Exception):
    """The requested executor cannot be used (e.g. the Dask scheduler is unreachable)."""


class WithPlugins(Generic[T, R]):
    """``fn`` run after loading the parent's ``--plugin`` modules: a worker started by spawn,
    forkserver or Dask does not inherit them, and a scenario may name their station types."""

    def __init__(self, fn: Callable[[T], R], plugins: tuple[str, ...]) -> None:
        self.fn = fn
        self.plugins = plugins

    def __call__(self, task: T) -> R:
        ensure_plugins(self.plugins)
        return self.fn(task)


class _Future(Protocol):
    """What both concurrent.futures and distributed futures offer."""

    def done(self) -> bool: ...
    def cancelled(self) -> bool: ...
    def exception(self) -> BaseException | None: ...
    def result(self) -> Any: ...


def run_tasks(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    jobs: int = 1,
    dask_address: str | None = None,
    on_result: Callable[[int, R], None] | None = None,
) -> list[R]:
    """Apply ``fn`` to every task and return the results in task order.

    - ``jobs == 1`` and no ``dask_address``: serial, in this process.
    - ``jobs > 1``: a process pool of ``jobs`` workers (start method ``MP_START_METHOD``).
    - ``dask_address == "local"``: a throw-away ``LocalCluster`` of ``jobs`` single-threaded
      worker processes; any other string: the Dask scheduler at that address.

    ``on_result(index, result)`` runs in this process as each result arrives (any order), so
    finished work can be saved at once. If a task raises, tasks not yet started are cancelled,
    every result that did finish is still passed to ``on_result``, then the first task exception
    is re-raised. Raises ``ValueError`` if ``jobs < 1``, ``ExecutorError`` if Dask is unreachable.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs!r}")
    if loaded_plugins() and (jobs > 1 or dask_address is not None):
        fn = WithPlugins(fn, loaded_plugins())
    callback = on_result if on_result is not None else _ignore
    if dask_address is not None:
        return _run_dask(fn, tasks, jobs, dask_address, callback)
    if jobs == 1 or not tasks:
        return _run_serial(fn, tasks, callback)
    return _run_pool(fn, tasks, jobs, callback)


def _ignore(index: int, result: Any) -> None:
    return None


def _run_serial(
    fn: Callable[[T], R], tasks: Sequence[T], on_result: Callable[[int, R], None]
) -> list[R]:
    results = []
    for i, task in enumerate(tasks):
        results.append(fn(task))
        on_result(i, results[-1])
    return results


def _start_method() -> str:
    """MP_START_METHOD, except that fork falls back to forkserver in a multi-threaded parent."""
    if MP_START_METHOD == "fork" and threading.active_count() > 1:
        return "forkserver"
    return MP_START_METHOD


def _run_pool(
    fn: Callable[[T], R], tasks: Sequence[T], jobs: int, on_result: Callable[[int, R], None]
) -> list[R]:
    import concurrent.futures as cf
    import multiprocessing

    ctx = multiprocessing.get_context(_start_method())
    pool = cf.ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)), mp_context=ctx, initializer=_worker_started
    )
    try:
        futures = [pool.submit(fn, task) for task in tasks]

        def stop() -> None:  # running tasks finish, so _drain can still deliver them
            pool.shutdown(wait=True, cancel_futures=True)

        results = _gather(futures, cf.as_completed(futures), stop, on_result)
    except BaseException:  # Ctrl-C, or a failure saving a result: no worker outlives this
        _terminate_workers(pool)
        pool.shutdown(wait=False, cancel_futures=True)  # waiting could block on dead workers
        raise
    pool.shutdown(wait=True)
    return results


PARENT_CHECK_SECONDS = 0.5


def _worker_started() -> None:
    """In each pool worker: Ctrl-C (SIGINT to the whole process group) is the parent's to
    handle, so the worker ignores it instead of printing a traceback; and the worker exits
    as soon as its parent is gone (killed hard, it cannot terminate the pool itself)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:  # an orphan is re-parented (to init or a subreaper)
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _terminate_workers(pool: cf.ProcessPoolExecutor) -> None:
    """Stop every worker now: their work is abandoned (ProcessPoolExecutor has no public
    way before Python 3.14's terminate_workers)."""
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        if process.is_alive():
            process.terminate()


def _run_dask(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    jobs: int,
    address: str,
    on_result: Callable[[int, R], None],
) -> list[R]:
    from distributed import Client, as_completed  # lazy: dask is slow to import

    if address == "local":
        with local_cluster(jobs) as cluster, Client(cluster) as client:
            return _dask_gather(client, as_completed, fn, tasks, on_result)
    check_scheduler(address)
    try:
        client = Client(address, timeout=DASK_CONNECT_TIMEOUT)
    except (OSError, ValueError) as exc:  # TimeoutError is an OSError
        raise ExecutorError(f"cannot reach Dask scheduler at {address}: {exc}") from exc
    with client:
        return _dask_gather(client, as_completed, fn, tasks, on_result)


_HANDSHAKE_PROBLEMS: dict[type[BaseException], str] = {
    TimeoutError: f"no Dask handshake within {DASK_CONNECT_TIMEOUT:g} s",
    MemoryError: "it does not speak the Dask protocol",
}


def check_scheduler(address: str) -> None:
    """Connect, shake hands and ask the scheduler who it is, all within DASK_CONNECT_TIMEOUT.

    ``Client(timeout=...)`` bounds only the TCP connect: a port that accepts and stays silent
    hangs the handshake, and one that speaks another protocol (HTTP) sends bytes that Dask
    reads as a frame length (an exabyte allocation). Run in its own thread and event loop, so
    it also works where a loop is already running (a notebook)."""
    import asyncio  # only a Dask address needs an event loop
    import concurrent.futures as cf

    with cf.ThreadPoolExecutor(max_workers=1) as thread:
        try:
            reply = thread.submit(asyncio.run, _identity(address)).result()
        except Exception as exc:  # MemoryError included: the peer's bytes are not Dask frames
            known = [text for kind, text in _HANDSHAKE_PROBLEMS.items() if isinstance(exc, kind)]
            detail = known[0] if known else f"{type(exc).__name__}: {str(exc)[:120]}"
            raise ExecutorError(f"cannot reach Dask scheduler at {address}: {detail}") from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ExecutorError(f"{address} answered, but it is not a Dask scheduler")


async def _identity(address: str) -> Any:
    import asyncio

    from distributed.comm import connect

    async def ask() -> Any:
        comm = await connect(address, timeout=DASK_CONNECT_TIMEOUT)
        try:
            await comm.write({"op": "identity"})
            return await comm.read()
        finally:
            comm.abort()

    return await asyncio.wait_for(ask(), DASK_CONNECT_TIMEOUT)


@contextmanager
def local_cluster(jobs: int) -> Iterator[Any]:
    """A throw-away ``LocalCluster`` of ``jobs`` single-threaded worker processes, without
    dashboard and with its diagnostics slowed down (see LOCAL_CLUSTER_CONFIG)."""
    import dask
    from distributed import Client, LocalCluster  # lazy: dask is slow to import

    from gatesim.experiment.dask_quiet import QuietCancellations

    # The scheduler and nannies read these settings when they start; each nanny hands its
    # copy of the configuration to its worker process, so setting them around the start is
    # enough and leaves the caller's Dask configuration as it was.
    with dask.config.set(LOCAL_CLUSTER_CONFIG), _sigint_ignored():
        cluster = LocalCluster(
            n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None
        )
    with cluster:
        with Client(cluster) as client:  # kept by the scheduler for every worker it gets
            client.register_plugin(QuietCancellations())
        yield cluster


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Processes started in the block inherit an ignored SIGINT (Python keeps a disposition
    that is ignored at start-up), so Ctrl-C reaches only this process, which stops them."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may change signal handlers
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _dask_gather(
    client: Any,
    as_completed: Any,
    fn: Callable[[T], R],
    tasks: Sequence[T],
    on_result: Callable[[int, R], None],
) -> list[R]:
    if not tasks:
        return []
    futures = client.map(fn, list(tasks), pure=False)  # pure=False: never dedupe equal tasks

    def stop() -> None:  # cancel only unfinished work: cancelling a finished future drops it
        client.cancel([f for f in futures if not f.done()])

    try:
        results = _gather(futures, as_completed(futures), stop, on_result)
    except KeyboardInterrupt:
        _quiet_dask_logs()  # the cluster's teardown that follows is expected, not news
        raise
    finally:
        client.cancel(futures)  # release results held on the workers
    return results


def _quiet_dask_logs() -> None:
    """This process's Dask loggers (scheduler, nannies of a local cluster) after Ctrl-C."""
    import logging

    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _gather(
    futures: Sequence[_Future],
    completed: Iterable[_Future],
    stop: Callable[[], None],
    on_result: Callable[[int, Any], None],
) -> list[Any]:
    """Deliver results as they complete; on the first task error, stop, drain and re-raise."""
    index = {id(f): i for i, f in enumerate(futures)}
    results: list[Any] = [_PENDING] * len(futures)
    for fut in completed:
        if fut.exception() is not None:
            stop()
            _drain(futures, results, on_result)
            fut.result()  # re-raises, with the worker's traceback attached
        i = index[id(fut)]
        results[i] = fut.result()
        on_result(i, results[i])
    return results


def _drain(
    futures: Sequence[_Future], results: list[Any], on_result: Callable[[int, Any], None]
) -> None:
    """Deliver every successful result not delivered yet (after a failure)."""
    for i, fut in enumerate(futures):
        if (
            results[i] is _PENDING
            and fut.done()
            and not fut.cancelled()
            and fut.exception() is None
        ):
            results[i] = fut.result()
            on_result(i, results[i])
