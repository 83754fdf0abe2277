"""The digital border-gate platform (``platform:``): dispatch order, registration, yards,
deferral and diversion, as exact hand-computed timelines; the extended conservation as a
hypothesis property; bad input as one line with exit code 2."""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path
from typing import Any

import pytest
from builders import (
    assert_results_identical,
    det,
    scenario,
    timeline,
    trace_stream,
    trucks_by_id,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatesim.cli import main
from gatesim.experiment.parts import independent_parts, merge_parts, simulate_part
from gatesim.model.engine import simulate
from gatesim.model.loading import load_scenario
from gatesim.scenario.schema import Scenario
from gatesim.stats.kpis import replication_kpis

ROOT = Path(__file__).resolve().parents[1]
GATE = {"gate": {"service": det(10)}}
ROUTE = {"r": {"origin": "src", "steps": ["gate"], "destination": "out"}}


def _platform(**fields: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "streams": ["other", "fruit"],
        "dispatch": {"station": "gate", "below": 1},
    }
    spec.update(fields)
    return {"p": spec}


def _two_cargo(
    platform: dict[str, Any] | None, stations: dict[str, Any] = GATE, **kw: Any
) -> Scenario:
    """Three 'other' trucks at 0, 1, 2 and two fruit trucks at 3, 4 (ids 0-4 in that order)."""
    extra = {"platform": platform} if platform is not None else {}
    return scenario(
        stations,
        ROUTE,
        {
            "other": trace_stream([0, 1, 2], cargo="other"),
            "fruit": trace_stream([3, 4], cargo="fruit"),
        },
        **extra,
        **kw,
    )


# --------------------------------------------------------------------------- dispatch order
def test_dispatch_in_registration_order_keeps_one_truck_at_the_gate() -> None:
    # below 1: a truck is released only while the gate's queue is empty (and none on the way).
    # id0 released at 0 and served 0-10; id1 released at 1 (queue empty), waits 1-10;
    # ids 2, 3, 4 are held; each start at the gate empties its queue and releases the next.
    result = simulate(_two_cargo(_platform()))
    assert timeline(result) == [
        (0, "gate", 0.0, 0.0, 10.0),
        (1, "gate", 1.0, 10.0, 20.0),
        (2, "gate", 10.0, 20.0, 30.0),
        (3, "gate", 20.0, 30.0, 40.0),
        (4, "gate", 30.0, 40.0, 50.0),
    ]


def test_dispatch_by_priority_calls_fruit_forward() -> None:
    # As above until 10; then the fruit trucks (ids 3, 4), registered after id2, go first.
    dispatch = {"station": "gate", "below": 1, "order": "priority"}
    dispatch["priority"] = {"by": "cargo", "order": ["fruit"]}
    result = simulate(_two_cargo(_platform(dispatch=dispatch)))
    assert timeline(result) == [
        (0, "gate", 0.0, 0.0, 10.0),
        (1, "gate", 1.0, 10.0, 20.0),
        (3, "gate", 10.0, 20.0, 30.0),
        (4, "gate", 20.0, 30.0, 40.0),
        (2, "gate", 30.0, 40.0, 50.0),
    ]


def test_level_counts_trucks_on_the_road_to_the_gate() -> None:
    # A 6-minute road (1 km at 10 km/h) to a gate of 2 servers, below 2: ids 0 and 1 leave at
    # 0 and 1 and arrive at 6 and 7 (started at once: no queue, so the check one travel time
    # after each release lets the next go): ids 2, 3 leave at 6, 7 and arrive at 12, 13 (queue),
    # id4 leaves when the queue falls below 2 at 16 (id0 done, id2 starts) and arrives at 22.
    nodes = {"src": {"kind": "source"}, "out": {"kind": "sink"}}
    roads = {
        "in": {"from": "src", "to": "gate", "length_km": 1.0, "speed_kmh": 10.0},
        "on": {"from": "gate", "to": "out", "length_km": 1.0, "speed_kmh": 60.0},
    }
    stations = {"gate": {"servers": 2, "service": det(10)}}
    platform = _platform(dispatch={"station": "gate", "below": 2})
    result = simulate(_two_cargo(platform, stations, nodes=nodes, roads=roads))
    assert timeline(result) == [
        (0, "gate", 6.0, 6.0, 16.0),
        (1, "gate", 7.0, 7.0, 17.0),
        (2, "gate", 12.0, 16.0, 26.0),
        (3, "gate", 13.0, 17.0, 27.0),
        (4, "gate", 22.0, 26.0, 36.0),
    ]


def _dump(s: Scenario) -> dict[str, Any]:
    return s.model_dump(by_alias=True, exclude_unset=True)


def test_a_platform_that_never_holds_changes_nothing() -> None:
    """Everyone registered, a level no queue reaches, no response: the gate sees exactly the
    trucks and times it sees without a platform."""
    stations = {"gate": {"servers": 2, "service": {"dist": "exponential", "mean": 30.0}}}
    arrivals = {
        "a": {"lane": "L", "direction": "export", "cargo": "c", "route": "r", "per_day": 80}
    }
    plain = scenario(stations, ROUTE, arrivals, days=2, seed=5)
    platform = {"p": {"streams": ["a"], "dispatch": {"station": "gate", "below": 10**6}}}
    held = scenario(stations, ROUTE, arrivals, days=2, seed=5, platform=platform)
    a, b = simulate(plain), simulate(held)
    assert timeline(a) == timeline(b)
    assert a.conservation() == {k: v for k, v in b.conservation().items() if k in a.conservation()}


# --------------------------------------------------------------------------- registration
def test_unregistered_trucks_wait_their_delay_and_count_at_report_time() -> None:
    # Nobody registered, a 5-minute delay: trucks at 0.5 ... 4.5 become eligible at 5.5 ...
    # 9.5, then go in registration order one at a time (below 1, 10 minutes each). At the
    # 00:04 report trucks 0-3 are held, all unregistered, and on the Vietnamese side.
    s = scenario(
        GATE,
        ROUTE,
        {"a": trace_stream([0.5, 1.5, 2.5, 3.5, 4.5])},
        report_time="00:04",
        platform={
            "p": {
                "streams": ["a"],
                "registered_share": 0.0,
                "registration_delay": det(5),
                "dispatch": {"station": "gate", "below": 1},
            }
        },
    )
    result = simulate(s)
    assert timeline(result) == [
        (0, "gate", 5.5, 5.5, 15.5),
        (1, "gate", 6.5, 15.5, 25.5),
        (2, "gate", 15.5, 25.5, 35.5),
        (3, "gate", 25.5, 35.5, 45.5),
        (4, "gate", 35.5, 45.5, 55.5),
    ]
    assert result.platform is not None
    assert result.platform.at_report[0].tolist() == [[4, 4, 0]]  # held, unregistered, owed
    kpis = replication_kpis(result)
    assert kpis["vn_side_backlog_at_report_unregistered_mean"] == 4.0
    assert kpis["vn_side_backlog_at_report_registered_mean"] == 0.0


# --------------------------------------------------------------------------- yards
def test_held_trucks_fill_the_yards_in_order_then_the_road() -> None:
    # Gate: one server, 1000 min a truck; below 1. id0 (t 0) is served 0-1000, id1 (t 10)
    # waits at the gate; ids 2-5 (t 20-50) are held: 1, 2, 3, 4 trucks. Yards a (2) and b (1):
    # a holds 1 over [20, 30) and 2 from 30 to the end (1440): area 10 + 2 x 1410 = 2830;
    # b holds 1 from 40 on (at 1000 one truck leaves, 3 stay): 1400; the road holds 1 over
    # [50, 1000): 950.
    times = [0, 10, 20, 30, 40, 50]
    s = scenario(
        {"gate": {"service": det(1000)}},
        ROUTE,
        {"a": trace_stream(times)},
        platform={
            "p": {
                "streams": ["a"],
                "yards": [{"name": "a", "capacity": 2}, {"name": "b", "capacity": 1}],
                "truck_spacing_m": 20,
                "dispatch": {"station": "gate", "below": 1},
            }
        },
    )
    kpis = replication_kpis(simulate(s))
    assert kpis["staging_occupancy_mean.p.a"] == pytest.approx(2830 / 1440, rel=1e-12)
    assert kpis["staging_occupancy_mean.p.b"] == pytest.approx(1400 / 1440, rel=1e-12)
    assert kpis["staging_occupancy_mean.p.approach_road"] == pytest.approx(950 / 1440, rel=1e-12)
    assert kpis["staging_occupancy_max.p.a"] == 2.0
    assert kpis["staging_spillback_km_max.p"] == pytest.approx(0.02)
    # first hour: a holds 1 over [20, 30) and 2 over [30, 60): (10 + 60) / 60
    assert kpis["staging_occupancy_by_hour.p.a.h00"] == pytest.approx(70 / 60, rel=1e-12)
    assert kpis["staging_occupancy_by_hour.p.approach_road.h16"] == pytest.approx(40 / 60)


# --------------------------------------------------------------------------- deferral and diversion
def _long_gate(times: list[float], response: dict[str, Any], service: float = 600) -> Scenario:
    """One server of ``service`` minutes, below 1; expected waits over a 1-hour window,
    tolerance 1 hour (or as ``response`` says)."""
    spec = {
        "streams": ["a"],
        "dispatch": {"station": "gate", "below": 1},
        "tolerance_h": {"c": det(1)},
        "rate_window_h": 1,
        **response,
    }
    return scenario(
        {"gate": {"service": det(service)}},
        ROUTE,
        {"a": trace_stream(times)},
        days=3,
        platform={"p": spec},
    )


def test_a_deferred_truck_comes_back_a_day_later_and_joins() -> None:
    # id0 (0) served 0-600; id1 (30) released at once, waits at the gate. Before one window
    # (60 min) everyone joins. id2 (70): nobody held, expected wait 0: joins, held.
    # id3 (100): 1 held, no release in [40, 100]: expected wait unbounded > 1 h: deferred to
    # 100 + 1440 = 1540, when nobody is held (id2 left at 600): joins and is released at once.
    result = simulate(_long_gate([0, 30, 70, 100], {"deferral": {"after_days": 1}}))
    assert timeline(result) == [
        (0, "gate", 0.0, 0.0, 600.0),
        (1, "gate", 30.0, 600.0, 1200.0),
        (2, "gate", 600.0, 1200.0, 1800.0),
        (3, "gate", 1540.0, 1800.0, 2400.0),
    ]
    assert trucks_by_id(result)[3]["created_min"] == 1540.0  # its gate time starts on return
    kpis = replication_kpis(result)
    assert kpis["deferred_per_day"] == pytest.approx(1 / 3)
    assert kpis["deferral_added_delay_mean_h"] == pytest.approx(24.0)
    assert kpis["deferred_owed_end"] == 0.0
    assert result.conservation()["deferred_owed"] == 0


def test_a_truck_deferred_past_the_horizon_stays_owed() -> None:
    s = _long_gate([0, 30, 70, 100], {"deferral": {"after_days": 3}})  # back at 4420 > 4320
    result = simulate(s)
    assert result.conservation() == {
        "arrived": 4,
        "cleared": 3,
        "lost": 0,
        "in_system": 0,
        "diverted": 0,
        "deferred_owed": 1,
    }
    kpis = replication_kpis(result)
    assert kpis["deferred_owed_end"] == 1.0
    assert kpis["deferred_owed_at_report_mean"] == 1.0  # owed at every 20:00
    assert trucks_by_id(result)[3]["outcome"] == "deferred"


def test_diversion_by_share_and_after_deferrals() -> None:
    # share 1: id3 goes to x at once, never to the gate.
    at_once = {"diversion": {"to": {"x": 1.0}, "share": 1.0}}
    result = simulate(_long_gate([0, 30, 70, 100], at_once))
    assert [row[0] for row in timeline(result)] == [0, 1, 2]
    assert trucks_by_id(result)[3]["outcome"] == "diverted"
    assert trucks_by_id(result)[3]["cleared_min"] == 100.0
    kpis = replication_kpis(result)
    assert kpis["diverted_per_day.to.x"] == pytest.approx(1 / 3)
    # tolerance 0 and a 10,000-minute gate: id2 is held all run. id3 (100) is deferred to
    # 1540, still finds id2 held and, deferred once already, diverts (to x or y).
    worn = {
        "tolerance_h": {"c": det(0)},
        "deferral": {"after_days": 1},
        "diversion": {"to": {"x": 0.5, "y": 0.5}, "share": 0.0, "after_deferrals": 1},
    }
    result = simulate(_long_gate([0, 10, 20, 100], worn, service=10_000))
    row = trucks_by_id(result)[3]
    assert (row["outcome"], row["created_min"], row["cleared_min"]) == ("diverted", 1540.0, 1540.0)
    assert result.platform is not None
    assert result.platform.by_stream[0].tolist()[3] == 1  # diverted
    assert result.platform.by_stream[0].tolist()[5] == 1  # one deferral


def test_value_diverted_uses_the_trade_value_per_truck() -> None:
    at_once = {"diversion": {"to": {"x": 1.0}, "share": 1.0}}
    s = _long_gate([0, 30, 70, 100], at_once)
    s = Scenario.model_validate({**_dump(s), "trade_value": {"per_truck": {"c": 60_000}}})
    kpis = replication_kpis(simulate(s))
    assert kpis["value_diverted_musd_per_day"] == pytest.approx(0.06 / 3)


# --------------------------------------------------------------------------- properties
@st.composite
def _platform_scenarios(draw: st.DrawFn) -> tuple[Scenario, list[float], int]:
    times = sorted(draw(st.lists(st.floats(0, 4 * 1440 - 1), min_size=1, max_size=60)))
    after_days = draw(st.integers(1, 3))
    spec: dict[str, Any] = {
        "streams": ["a"],
        "registered_share": draw(st.sampled_from([0.0, 0.5, 1.0])),
        "registration_delay": {
            "dist": "uniform",
            "low": 0,
            "high": draw(st.sampled_from([1, 300])),
        },
        "yards": [{"name": "y", "capacity": draw(st.integers(0, 5))}],
        "dispatch": {"station": "gate", "below": draw(st.integers(1, 4))},
        "tolerance_h": {"c": {"dist": "uniform", "low": 0, "high": draw(st.sampled_from([1, 12]))}},
        "rate_window_h": draw(st.sampled_from([1, 6, 24])),
        "deferral": {"after_days": after_days},
    }
    if draw(st.booleans()):
        share = draw(st.sampled_from([0.0, 0.3, 1.0]))
        spec["diversion"] = {"to": {"x": 0.5, "y": 0.5}, "share": share, "after_deferrals": 2}
    service = draw(st.sampled_from([5.0, 60.0, 240.0]))
    s = scenario(
        {
            "gate": {
                "servers": draw(st.integers(1, 2)),
                "service": {"dist": "exponential", "mean": service},
            }
        },
        ROUTE,
        {"a": trace_stream(times)},
        days=5,
        seed=draw(st.integers(0, 1000)),
        platform={"p": spec},
    )
    return s, times, after_days


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_platform_scenarios())
def test_deferred_trucks_reappear_later_and_every_truck_is_accounted_for(
    case: tuple[Scenario, list[float], int],
) -> None:
    """The run's own check passed (it raises otherwise); here: arrived = cleared + lost +
    diverted + in system + owed; each truck's gate time starts a whole number of deferral
    periods after its arrival; every deferral is either such a period or a truck still owed."""
    s, times, after_days = case
    result = simulate(s)
    c = result.conservation()
    assert c["arrived"] == len(times)
    assert (
        c["arrived"]
        == c["cleared"] + c["lost"] + c["diverted"] + c["in_system"] + c["deferred_owed"]
    )
    period = after_days * 1440.0
    returns = 0
    for truck, row in trucks_by_id(result).items():
        # (the chain schedules an arrival at now + (t - now): t within an ulp)
        shift = (row["created_min"] - times[truck]) / period
        assert round(shift) >= 0 and math.isclose(shift, round(shift), abs_tol=1e-9), row
        returns += round(shift)
    assert result.platform is not None
    counts = dict(
        zip(
            ("held", "unreg", "owed", "diverted", "dispatched", "deferrals", "rejoined"),
            result.platform.by_stream[0].tolist(),
            strict=True,
        )
    )
    assert counts["deferrals"] == returns + counts["owed"]


def test_parts_merge_to_the_whole_with_platforms() -> None:
    """Each lane's platform runs in that lane's part; the merged parts equal one environment."""
    s = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    s = s.model_copy(update={"days": 3, "warmup_days": 1.0})
    whole = simulate(s, 0)
    parts = [simulate_part(s, 0, i) for i in range(len(independent_parts(s)))]
    assert len(parts) > 1
    assert_results_identical(whole, merge_parts(s, parts))
    assert whole.platform is not None and whole.platform.by_stream[:, 4].sum() > 0


def test_capacity_measures_the_gate_without_the_platform() -> None:
    from gatesim.experiment.capacity import capacity_scenario

    s = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    assert s.platform and capacity_scenario(s).platform == {}


# --------------------------------------------------------------------------- bad input
BAD = {
    "negative tolerance": (
        "tolerance_h: {c: {dist: deterministic, value: -2}}\n    deferral: {after_days: 1}",
        ["platform.p.tolerance_h.c.value", "-2"],
    ),
    "dispatch to an unknown yard": ("yards: [{name: y, capacity: 5}]", None),
    "share above one": (
        "registered_share: 1.5\n    registration_delay: {dist: deterministic, value: 1}",
        ["platform.p.registered_share", "1.5"],
    ),
    "diversion share below zero": (
        "tolerance_h: {c: {dist: deterministic, value: 2}}\n"
        "    diversion: {to: {x: 1.0}, share: -0.5}",
        ["platform.p.diversion.share", "-0.5"],
    ),
    "diversion probabilities": (
        "tolerance_h: {c: {dist: deterministic, value: 2}}\n    diversion: {to: {x: 0.5, y: 0.2}}",
        ["platform.p.diversion", "sum to 1"],
    ),
    "unknown stream": ("", ["platform.p.streams", "'b'"]),
    "tolerance for an unknown cargo": (
        "tolerance_h: {c: {dist: deterministic, value: 2}, fruit: {dist: deterministic, value: 1}}"
        "\n    deferral: {after_days: 1}",
        ["platform.p.tolerance_h.fruit", "'fruit'"],
    ),
    "a yard named as the road": (
        "yards: [{name: approach_road, capacity: 5}]",
        ["platform.p.yards", "approach_road"],
    ),
    "unregistered without a delay": ("registered_share: 0.5", ["platform.p", "registration_delay"]),
}
PLATFORM_YAML = """\
name: tiny
days: 2
nodes: {{src: {{kind: source}}, out: {{kind: sink}}}}
stations: {{s1: {{servers: 1, service: {{dist: exponential, mean: 1.0}}}}}}
routes: {{r: {{origin: src, steps: [s1], destination: out}}}}
arrivals: {{a: {{lane: L, direction: export, cargo: c, route: r, per_day: 100}}}}
platform:
  p:
    streams: [a]
    dispatch: {{station: {station}, below: 3}}
    {extra}
"""


def _cli(args: list[str]) -> tuple[int, str]:
    """``gatesim.cli.main(args)`` in-process: its exit code and what it wrote on stderr."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, err.getvalue()


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_platform_input_is_one_line_exit_2(name: str, tmp_path: Path) -> None:
    extra, needles = BAD[name]
    station = "y" if name == "dispatch to an unknown yard" else "s1"
    if needles is None:
        needles = ["platform.p.dispatch.station", "'y'", "a yard of the platform"]
    path = tmp_path / "bad.yaml"
    text = PLATFORM_YAML.format(station=station, extra=extra)
    if name == "unknown stream":
        text = text.replace("streams: [a]", "streams: [a, b]")
    path.write_text(text)
    code, err = _cli(["run", str(path), "--out", str(tmp_path / "out"), "-q"])
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "bad.yaml" in lines[0] and all(n in lines[0] for n in needles), lines[0]
    assert not (tmp_path / "out").exists()


def test_dispatch_station_must_open_every_managed_route(tmp_path: Path) -> None:
    text = (
        PLATFORM_YAML.format(station="s1", extra="")
        .replace("stations: {s1:", "stations: {s0: {servers: 1}, s1:")
        .replace("steps: [s1]", "steps: [s0, s1]")
    )
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, err = _cli(["validate", str(path)])
    assert code == 2
    assert "platform.p.dispatch.station: 's1' must be the first step of route 'r'" in err


# --------------------------------------------------------------------------- outputs
def test_console_report_and_summary_show_the_platform(tmp_path: Path) -> None:
    """A run with a platform: its table in the console and the HTML report, the extended
    conservation in summary.json; the KPIs of a scenario without one are untouched."""
    from gatesim.report import html

    extra = (
        "tolerance_h: {c: {dist: deterministic, value: 0}}\n"
        "    deferral: {after_days: 1}\n"
        "    diversion: {to: {chi_ma: 1.0}, share: 0.5}\n"
        "    rate_window_h: 1"
    )
    path = tmp_path / "platform.yaml"
    path.write_text(PLATFORM_YAML.format(station="s1", extra=extra).replace("below: 3", "below: 1"))
    err = io.StringIO()
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["run", str(path), "--days", "2", "-r", "2", "--out", str(tmp_path / "run")])
    assert code == 0, err.getvalue()
    console = out.getvalue()
    assert "Digital platform" in console and "diverted_per_day.to.chi_ma" in console
    assert "+ diverted" in console and "owed at origin" in console
    summary = (tmp_path / "run" / "summary.json").read_text(encoding="utf-8")
    assert '"deferred_owed"' in summary
    page = html.write_report(tmp_path / "run").read_text(encoding="utf-8")
    assert "Digital platform: deferral, diversion, registration, staging yards" in page
    for label in ("diverted per day, to chi_ma", "deferred per day, L export"):
        assert label in page


@given(
    capacities=st.lists(st.integers(0, 4), max_size=4),
    walk=st.lists(st.sampled_from([1, -1]), max_size=40),
)
def test_a_hold_changes_only_the_place_fill_areas_says(
    capacities: list[int], walk: list[int]
) -> None:
    """The platform updates one place per truck held or released; after any walk every
    place's count equals yard.fill_areas, which fills the yards in order, then the road."""
    from itertools import accumulate

    from gatesim.model.platform import changed_place
    from gatesim.stations.yard import fill_areas

    filled = list(accumulate(capacities))
    before = [0, *filled]
    counts, held = [0] * (len(capacities) + 1), 0
    for change in walk:
        if held + change < 0:
            continue
        held += change
        place = changed_place(filled, held, change)
        counts[place] = held - before[place]
        assert counts == fill_areas(capacities, held)
