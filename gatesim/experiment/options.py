"""How a study runs, shared by the Python API (``gatesim.compare`` …) and the command line.

:class:`StudyOptions` holds every option besides the scenarios: overrides (``set``), the
replication count (a number, or ``"auto"`` for a precision target), the warm-up (days, or
``"auto"`` for MSER-5), the executor, the replication store (resume) and the memory limit. Its
checks raise :class:`UsageError` naming the option by its API name; the CLI renames it to the
flag (``UsageError.spelled``), so both faces share one check. :func:`run_scenarios` runs a
study with them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gatesim.core.errors import UsageError
from gatesim.experiment.executors import ExecutorError
from gatesim.experiment.memory import check_memory
from gatesim.experiment.progress import ProgressBar, progress_wanted
from gatesim.experiment.runner import ExperimentResult
from gatesim.experiment.store import PartialStore
from gatesim.experiment.study import (
    Design,
    Execution,
    ReplicationRunner,
    run_study,
    scheduler_address,
)
from gatesim.scenario.schema import Scenario

AUTO = "auto"
#: The ``command`` of a manifest written by ``save`` from Python (the CLI passes its argv).
API_COMMAND = ["python", "-c", "gatesim API"]
#: The options that only mean something with ``replications="auto"``.
AUTO_ONLY = ("target_kpi", "target_rel", "max_replications")


@dataclass(frozen=True)
class StudyOptions:
    """Every option of a study besides its scenarios (see docs/api.md, ``compare``)."""

    set: Mapping[str, Any] = field(default_factory=dict)
    replications: int | str | None = None
    warmup: float | str | None = None
    target_kpi: str | None = None
    target_rel: float | None = None
    max_replications: int | None = None
    jobs: int = 1
    dask: str | None = None
    store: Path | None = None
    resume: bool = True
    #: replications kept across commands, keyed by resolved scenario and replication (--cache)
    cache: Path | None = None
    max_memory: int | None = None
    progress: bool = False

    def overrides(self) -> dict[str, Any]:
        """Scenario overrides: ``set`` plus a fixed replication count and warm-up."""
        overrides = dict(self.set)
        if self.replications != AUTO and self.replications is not None:
            overrides["replications"] = self.replications
        if self.warmup != AUTO and self.warmup is not None:
            overrides["warmup_days"] = float(self.warmup)
        return overrides

    def design(self) -> Design:
        """The automatic parts of the study; refuses options that do not fit together."""
        check_counts(self)
        auto = self.replications == AUTO
        for name in AUTO_ONLY:
            if getattr(self, name) is not None and not auto:
                raise UsageError(name, "only applies with {replications} auto")
        defaults = Design()
        return Design(
            auto_replications=auto,
            auto_warmup=self.warmup == AUTO,
            target_kpi=self.target_kpi or defaults.target_kpi,
            target_rel=self.target_rel or defaults.target_rel,
            max_replications=self.max_replications or defaults.max_replications,
        )

    def execution(self) -> Execution:
        if isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or self.jobs < 1:
            raise UsageError("jobs", "must be a positive integer", self.jobs)
        return Execution(jobs=self.jobs, dask_address=self.dask)

    def runner_store(self) -> PartialStore | None:
        return None if self.store is None else PartialStore(Path(self.store))


def check_counts(options: StudyOptions) -> None:
    """Types and ranges of the replication count, the warm-up and the precision target."""
    reps = options.replications
    if reps is not None and reps != AUTO and not _positive_int(reps):
        raise UsageError("replications", "must be a positive integer or 'auto'", reps)
    warmup = options.warmup
    if warmup is not None and warmup != AUTO and not _days(warmup):
        raise UsageError("warmup", "must be 'auto' or a number of days >= 0", warmup)
    rel = options.target_rel
    if rel is not None and not (isinstance(rel, (int, float)) and 0.0 < rel < 1.0):
        raise UsageError("target_rel", "must be a number in (0, 1)", rel)
    cap = options.max_replications
    if cap is not None and not _positive_int(cap):
        raise UsageError("max_replications", "must be a positive integer", cap)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _days(value: Any) -> bool:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return number and math.isfinite(value) and value >= 0


@dataclass(frozen=True)
class StudyRun:
    """A finished study: one result per scenario, and how it was run."""

    results: list[ExperimentResult]
    design: Design
    runner: ReplicationRunner
    wall_seconds: float


@contextmanager
def study_runner(
    options: StudyOptions, groups: str | None = None, *, store: bool = True
) -> Iterator[ReplicationRunner]:
    """A replication runner on ``options``' executor with a progress bar (and its replication
    store unless ``store`` is False), open for the block; a Dask scheduler that cannot be used,
    at the start or during the block, is a one-line ``UsageError`` on ``dask``."""
    execution = options.execution()
    try:
        with (
            ProgressBar(progress_wanted(not options.progress), groups) as bar,
            scheduler_address(execution) as address,
        ):
            if store:
                cache = None if options.cache is None else PartialStore(options.cache, "--cache")
                yield ReplicationRunner(
                    execution, address, options.runner_store(), options.resume, bar, cache=cache
                )
            else:
                yield ReplicationRunner(execution, address, progress=bar)
    except ExecutorError as exc:
        raise UsageError("dask", str(exc)) from None


def run_scenarios(
    scenarios: Sequence[Scenario], options: StudyOptions, groups: str = ""
) -> StudyRun:
    """Run every scenario as ``options`` ask (warm-up pilot, replication batches, executor,
    store); a Dask scheduler that cannot be used is a one-line ``UsageError`` on ``dask``."""
    design, execution = options.design(), options.execution()
    remote = execution.dask_address not in (None, "local")
    check_memory(scenarios, 0 if remote else execution.jobs, options.max_memory)
    started = time.perf_counter()
    with study_runner(options, groups) as runner:
        results = run_study(scenarios, design, runner)
    return StudyRun(results, design, runner, time.perf_counter() - started)
