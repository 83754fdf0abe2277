"""A run's memory, estimated before it starts, and refused when it cannot fit.

The estimate is an upper bound built from the expected truck count (exact, from the demand
calendar) and the records asked for:

- each worker simulating a replication may hold every truck of it at once (a station that
  cannot keep up piles them in its queue): ``LIVE_TRUCK_BYTES`` each;
- truck and visit records, kept column by column (:mod:`gatesim.core.records`), travel back to
  this process and stay there until the results are written, for every replication:
  ``TRUCK_RECORD_BYTES`` per truck, ``VISIT_RECORD_BYTES`` per expected station visit;
- the event log (``run`` with visit records) is built in this process afterwards, one
  replication at a time: ``EVENT_LOG_VISIT_BYTES`` per visit of the largest replication;
- each process costs ``PROCESS_BYTES`` (interpreter, numpy, pandas, pyarrow) besides.

Measured (VmHWM of whole ``run`` commands, one replication, 2-vCPU VM, Python 3.11.7,
2026-12-05): a process after its imports 182 MB; a year of ``baseline`` (415,000 trucks)
peaks at 299 MB with truck records and 256 MB without: 104 bytes a truck record, all costs
included; ``year_2025 --records`` (468,000 trucks, 4.43 million visits) peaks in its event
log at some 380 MB above the process (86 bytes a visit) after holding the records at about
34 bytes a visit; ``LIVE_TRUCK_BYTES``: 362-370 bytes per truck held in a queue (one station,
2·10⁵ and 4·10⁵ trucks a day). They are rounded up here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from gatesim.core.errors import ScenarioError
from gatesim.scenario.schema import Scenario, expected_trucks

LIVE_TRUCK_BYTES = 400
TRUCK_RECORD_BYTES = 110
VISIT_RECORD_BYTES = 48
EVENT_LOG_VISIT_BYTES = 100
PROCESS_BYTES = 190_000_000  # an upper bound: 63 MB of CLI imports, pyarrow and pandas ~100 MB
MAX_MEMORY_OPTION = "--max-memory"
_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def estimate_bytes(scenarios: Sequence[Scenario], workers: int) -> int:
    """Peak memory of running every replication of ``scenarios`` on ``workers`` processes
    (1: serially in this process; 0: on a remote cluster, so only the records come here)."""
    parent = PROCESS_BYTES
    largest_replication = largest_event_log = 0.0
    for scenario in scenarios:
        trucks = expected_trucks(scenario)
        visits = _expected_visits(scenario) if scenario.records.visits else 0.0
        records = scenario.records.trucks * trucks * TRUCK_RECORD_BYTES
        records += visits * VISIT_RECORD_BYTES
        parent += int(records * scenario.replications)
        largest_replication = max(largest_replication, trucks * LIVE_TRUCK_BYTES + records)
        largest_event_log = max(largest_event_log, visits * EVENT_LOG_VISIT_BYTES)
    parent += int(largest_event_log)
    return parent + int(max(workers, 0) * (PROCESS_BYTES + largest_replication))


def _expected_visits(scenario: Scenario) -> float:
    from gatesim.model.flows import expected_visits

    flow = expected_visits(scenario, tuple(scenario.arrivals))
    return float(sum(flow.visits.values()))


def available_bytes() -> int | None:
    """Memory the system can give without swapping (``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def parse_size(text: str) -> int:
    """``800M``, ``2G``, ``1.5G`` or a number of bytes; ValueError otherwise."""
    cleaned = text.strip().upper().removesuffix("B")
    unit = cleaned[-1:] if cleaned[-1:] in _UNITS and cleaned[-1:] else ""
    number = float(cleaned[: len(cleaned) - len(unit)])
    if not number > 0 or number == float("inf"):
        raise ValueError(text)
    return int(number * _UNITS[unit])


def check_memory(scenarios: Sequence[Scenario], workers: int, limit: int | None) -> None:
    """Refuse, before simulating, a run whose estimate exceeds ``limit`` (``--max-memory``)
    or, without one, the memory available now."""
    budget = limit if limit is not None else available_bytes()
    if budget is None:
        return
    needed = estimate_bytes(scenarios, workers)
    if needed > budget:
        source = "--max-memory" if limit is not None else "available memory"
        raise ScenarioError(
            None,
            "arrivals",
            f"this run would need about {_gb(needed)} (expected trucks x replications, records "
            f"and {workers} worker(s)) but {source} is {_gb(budget)}; shorten the run, turn "
            f"records off, use fewer --jobs, or give {MAX_MEMORY_OPTION} SIZE to allow it",
        )


def _gb(size: float) -> str:
    return f"{size / 1e9:.2f} GB"
