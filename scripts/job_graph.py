"""Run a graph of jobs on a few worker threads: a job starts once the jobs it names are done.

Used by ``planning_walkthrough.py``, whose jobs are command-line runs (each a process of its
own, so threads are enough). Among the jobs ready to start, the lowest ``rank`` goes first and,
within a rank, the one listed first: callers rank the jobs on the longest chain of
dependencies first, so the other workers are never left idle waiting for it at the end.

A job may add jobs when it finishes (its function returns them); a job can then depend on jobs
whose names are only known once an earlier job has run. The first failure (any exception,
``SystemExit`` included) stops new starts, lets running jobs end, and is raised again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    name: str
    #: The work; may return further jobs to schedule (None: none).
    run: Callable[[], Sequence[Job] | None]
    after: tuple[str, ...] = ()
    rank: int = 0


class JobGraphError(RuntimeError):
    """Jobs that can never start: they wait for names no job has or will have."""


class _Board:
    """The shared state of the workers, guarded by one condition."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        self.pending = list(jobs)
        self.done: set[str] = set()
        self.running = 0
        self.failure: BaseException | None = None
        self.cond = threading.Condition()

    def _ready(self) -> Job | None:
        ready = [job for job in self.pending if self.done.issuperset(job.after)]
        return min(ready, key=lambda job: job.rank) if ready else None  # min keeps list order

    def take(self) -> Job | None:
        """The next job to run, waiting while none is ready; None when the worker should stop."""
        with self.cond:
            while self.failure is None:
                job = self._ready()
                if job is not None:
                    self.pending.remove(job)
                    self.running += 1
                    return job
                if self.running == 0:  # nothing runs that could unblock the rest
                    if self.pending:
                        names = ", ".join(job.name for job in self.pending)
                        self.failure = JobGraphError(f"jobs waiting for no one: {names}")
                    self.cond.notify_all()
                    return None
                self.cond.wait()
            return None

    def finish(self, job: Job, more: Sequence[Job] | None, failure: BaseException | None) -> None:
        with self.cond:
            self.running -= 1
            if failure is not None:
                self.failure = self.failure or failure
            else:
                self.pending.extend(more or ())
                self.done.add(job.name)
            self.cond.notify_all()


def run_jobs(jobs: Sequence[Job], workers: int) -> list[str]:
    """Run every job on ``workers`` threads; returns the names in the order they finished."""
    board = _Board(jobs)
    finished: list[str] = []

    def work() -> None:
        while (job := board.take()) is not None:
            try:
                more = job.run()
            except BaseException as exc:  # raised again by run_jobs, in the caller's thread
                board.finish(job, None, exc)
                return
            with board.cond:
                finished.append(job.name)
            board.finish(job, more, None)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(max(1, workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if board.failure is not None:
        raise board.failure
    return finished
