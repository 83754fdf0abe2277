"""The walk-through's job graph (``scripts/job_graph.py``) and the graph of runs it is given
(``planning_walkthrough.simulate``): order, dependencies, follow-up jobs and failures."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str) -> ModuleType:
    sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve the module's annotations through it
    spec.loader.exec_module(module)
    return module


jg = _load("job_graph")
SLOW = ("h24_2030", "year_2025", "h24_2025")  # what later runs read
pw = _load("planning_walkthrough")


class Log:
    """Start and end of every job, in one global order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def job(self, name: str, seconds: float = 0.0, more: Any = None) -> Any:
        def run() -> Any:
            with self.lock:
                self.events.append(("start", name))
            time.sleep(seconds)
            with self.lock:
                self.events.append(("end", name))
            return more

        return jg.Job(name, run)

    def index(self, kind: str, name: str) -> int:
        return self.events.index((kind, name))


def with_(job: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(job, **changes)


def test_one_worker_runs_ready_jobs_by_rank_then_list_order() -> None:
    log = Log()
    jobs = [
        with_(log.job("c"), rank=2),
        with_(log.job("a"), rank=1),
        with_(log.job("b"), rank=1),
        with_(log.job("d"), rank=0, after=("c",)),  # rank 0, but waits for c
    ]
    assert jg.run_jobs(jobs, 1) == ["a", "b", "c", "d"]


def test_two_workers_start_a_job_only_after_what_it_waits_for() -> None:
    log = Log()
    jobs = [
        with_(log.job("slow", 0.5), rank=0),
        with_(log.job("quick1", 0.01), rank=1),
        with_(log.job("after_slow", 0.01), rank=0, after=("slow",)),
        with_(log.job("quick2", 0.01), rank=1),
    ]
    finished = jg.run_jobs(jobs, 2)
    assert sorted(finished) == ["after_slow", "quick1", "quick2", "slow"]
    assert log.index("start", "after_slow") > log.index("end", "slow")
    # the free worker did the quick jobs while the slow one ran, not after it
    assert log.index("end", "quick2") < log.index("end", "slow")


def test_a_job_can_add_jobs_that_others_wait_for() -> None:
    log = Log()
    added = [log.job("child1"), log.job("child2")]
    jobs = [
        log.job("parent", more=added),
        with_(log.job("last"), after=("child1", "child2")),
    ]
    finished = jg.run_jobs(jobs, 2)
    assert finished[0] == "parent" and finished[-1] == "last"
    assert sorted(finished) == ["child1", "child2", "last", "parent"]


@pytest.mark.parametrize("error", [ValueError("boom"), SystemExit("command failed")])
def test_the_first_failure_stops_new_starts_and_is_raised(error: BaseException) -> None:
    log = Log()

    def fail() -> None:
        raise error

    jobs = [jg.Job("bad", fail), with_(log.job("dependent"), after=("bad",))]
    with pytest.raises(type(error)):
        jg.run_jobs(jobs, 2)
    assert log.events == []


def test_jobs_waiting_for_names_no_job_has_are_an_error() -> None:
    log = Log()
    with pytest.raises(jg.JobGraphError, match="orphan"):
        jg.run_jobs([log.job("fine"), with_(log.job("orphan"), after=("missing",))], 2)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_walkthrough_graph_runs_every_run_once_after_what_it_reads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, workers: str
) -> None:
    """simulate() with the runs stubbed: the same runs as a sequential script, each after
    the runs it reads (the searches after the 24-hour 2030 run, the check after every search,
    a scan at another rate after its 2025)."""
    order: list[str] = []
    lock = threading.Lock()

    def note(name: str) -> None:
        with lock:
            order.append(name)

    def slow_note(name: str) -> None:  # a run that others wait for: they must not overtake it
        time.sleep(0.1)
        note(name)

    def scan_years(work, prefix, extra, common, rate=pw.CENTRAL_RATE, stop=False, years=pw.YEARS):  # type: ignore[no-untyped-def]
        if rate != pw.CENTRAL_RATE:  # a chain over every year, stopping at the target
            assert stop and years == pw.YEARS
            note(f"{prefix}_{round(rate * 100)}")
        else:
            assert not stop and len(years) == 1  # the central years: one run a job
            time.sleep(0.2 if f"{prefix}_{years[0]}" in SLOW else 0.0)
            note(f"{prefix}_{years[0]}")
        if prefix == "check":
            assert extra[-2:] == ["--set", "stations.x.servers=9"]

    searches = [(name, f".{name}", ["r"]) for name in ("hn_export", "hn_import", "tt_import")]
    monkeypatch.setattr(pw, "scan_years", scan_years)
    monkeypatch.setattr(pw, "binding_searches", lambda work: searches)
    monkeypatch.setattr(pw, "search", lambda work, name, *rest: slow_note(f"plan_{name}"))
    monkeypatch.setattr(pw, "seasons", lambda work: note("seasons"))
    monkeypatch.setattr(pw, "empty_yards", lambda work, common: note("empty_2027"))
    monkeypatch.setattr(pw, "chosen_settings", lambda work: {"stations.x.servers": 9})
    pw.simulate(tmp_path, workers)

    central = [f"{p}_{y}" for p in ("year", "h24", "check") for y in pw.YEARS]
    rates = [f"{p}_{round(r * 100)}" for p in ("year", "h24", "check") for r in pw.OTHER_RATES]
    plans = [f"plan_{name}" for name, _, _ in searches]
    expected = [*central, *rates, "seasons", "empty_2027", *plans]
    assert sorted(order) == sorted(expected)
    for plan in plans:
        assert order.index(plan) > order.index("h24_2030")
        assert all(order.index(c) > order.index(plan) for c in order if c.startswith("check"))
    for prefix in ("year", "h24", "check"):
        for rate in pw.OTHER_RATES:
            assert order.index(f"{prefix}_{round(rate * 100)}") > order.index(f"{prefix}_2025")
    if workers == "1":  # the longest chain first: the 2030 run, the searches, then the check
        assert order[:6] == ["h24_2030", *plans, "check_2025", "check_8"]
