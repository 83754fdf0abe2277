"""Small scenario builders and record helpers shared by the engine tests (not a test module)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

import numpy as np

from gatesim.core.results import TRUCK_COLUMNS, VISIT_COLUMNS, RunResult
from gatesim.scenario.schema import Scenario

SOURCE_SINK = {"src": {"kind": "source"}, "out": {"kind": "sink"}}
#: The smallest valid scenario file: one exponential station, 100 trucks a day for 2 days.
TINY_YAML = """\
name: tiny
days: 2
nodes: {src: {kind: source}, out: {kind: sink}}
stations: {s1: {servers: 1, service: {dist: exponential, mean: 1.0}}}
routes: {r: {origin: src, steps: [s1], destination: out}}
arrivals: {a: {lane: L, direction: export, cargo: c, route: r, per_day: 100}}
"""


def det(value: float) -> dict[str, Any]:
    """A deterministic duration (minutes)."""
    return {"dist": "deterministic", "value": value}


def trace_stream(
    times: list[float], route: str = "r", cargo: str = "c", **fields: Any
) -> dict[str, Any]:
    """An arrival stream that replays ``times`` exactly (minutes from the start)."""
    return {
        "lane": "L",
        "direction": "export",
        "cargo": cargo,
        "route": route,
        "trace": {"times": list(times)},
        **fields,
    }


def scenario(
    stations: dict[str, Any],
    routes: dict[str, Any],
    arrivals: dict[str, Any],
    *,
    days: int = 1,
    nodes: dict[str, Any] | None = None,
    records: bool = True,
    **fields: Any,
) -> Scenario:
    """A validated Scenario from plain dicts; per-truck and per-visit records on by default."""
    return Scenario.model_validate(
        {
            "name": "test",
            "days": days,
            "nodes": nodes if nodes is not None else SOURCE_SINK,
            "stations": stations,
            "routes": routes,
            "arrivals": arrivals,
            "records": {"trucks": records, "visits": records},
            **fields,
        }
    )


def single_station(
    times: list[float], service: float, *, days: int = 1, **station: Any
) -> Scenario:
    """src -> s1 -> out (abstract network) with deterministic service and a trace of arrivals."""
    calendars = station.pop("calendars", None)
    extra: dict[str, Any] = {"calendars": calendars} if calendars else {}
    return scenario(
        {"s1": {"service": det(service), **station}},
        {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
        {"a": trace_stream(times)},
        days=days,
        **extra,
    )


# --------------------------------------------------------------------------- records
def truck_rows(result: RunResult) -> list[dict[str, Any]]:
    assert result.trucks is not None, "truck records are off"
    return [dict(zip(TRUCK_COLUMNS, row, strict=False)) for row in result.trucks]


def trucks_by_id(result: RunResult) -> dict[int, dict[str, Any]]:
    return {row["truck"]: row for row in truck_rows(result)}


def visit_rows(result: RunResult) -> list[dict[str, Any]]:
    assert result.visits is not None, "visit records are off"
    return [dict(zip(VISIT_COLUMNS, row, strict=False)) for row in result.visits]


def timeline(result: RunResult, station: str | None = None) -> list[tuple[Any, ...]]:
    """(truck, station, arrive, start, end) per visit, in order of service start then truck."""
    rows = [
        (v["truck"], v["station"], v["arrive_min"], v["start_min"], v["end_min"])
        for v in visit_rows(result)
        if station is None or v["station"] == station
    ]
    return sorted(rows, key=lambda r: (r[3], r[0]))


def visits_by_truck(result: RunResult) -> dict[int, list[dict[str, Any]]]:
    """Each truck's visits in the order they started."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for v in visit_rows(result):
        out[v["truck"]].append(v)
    return dict(out)


def assert_results_identical(a: RunResult, b: RunResult) -> None:
    """Every field of two RunResults equal (wall-clock time excepted), arrays element-wise."""
    for f in dataclasses.fields(RunResult):
        if f.name == "wall_seconds":
            continue
        x, y = getattr(a, f.name), getattr(b, f.name)
        _assert_equal(x, y, f.name)


def _assert_equal(x: Any, y: Any, where: str) -> None:
    if isinstance(x, np.ndarray):
        assert isinstance(y, np.ndarray), where
        assert x.dtype == y.dtype, where
        np.testing.assert_array_equal(x, y, err_msg=where)
    elif isinstance(x, dict):
        assert isinstance(y, dict) and x.keys() == y.keys(), where
        for key in x:
            _assert_equal(x[key], y[key], f"{where}.{key}")
    elif dataclasses.is_dataclass(x) and not isinstance(x, type):
        assert type(x) is type(y), where
        for f in dataclasses.fields(x):
            _assert_equal(getattr(x, f.name), getattr(y, f.name), f"{where}.{f.name}")
    elif isinstance(x, float) and isinstance(y, float) and np.isnan(x) and np.isnan(y):
        return
    elif isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        assert len(x) == len(y), where
        for i, (u, v) in enumerate(zip(x, y, strict=True)):
            _assert_equal(u, v, f"{where}[{i}]")
    else:
        assert x == y, f"{where}: {x!r} != {y!r}"
