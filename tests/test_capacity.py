"""Capacity per lane and direction: closed forms, the two methods against each other, the CLI.

Closed forms used (trucks per day, a station open H hours with c servers, saturated entry):
* deterministic service s dividing 60·H: exactly c·60·H/s (the last start ends at closing);
* exponential service of mean s: c·(60·H/s + 1). The c·60·H/s trucks of the opening hours
  plus, by memorylessness, one more per server: the service in progress at closing
  finishes in overtime;
* a tandem: the minimum over its stations; a daily cap: the cap;
* open 24 h, two classes with shares p_i and deterministic means s_i: 1440 / Σ p_i·s_i
  (the mix-weighted harmonic rate).
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import pytest
from builders import det, scenario

import gatesim
from gatesim.cli import main
from gatesim.experiment.capacity import (
    CapacityOptions,
    FlowCapacity,
    _Bracket,
    agreement,
    headline,
    measure_capacity,
    offered_per_day,
    ramp_scenario,
    replication_rows,
    saturated_scenario,
)
from gatesim.experiment.study import ReplicationRunner
from gatesim.scenario.schema import Scenario

GROUP = "L.export"
REPLICATIONS = 5


def _stream(per_day: float, cargo: str = "c") -> dict[str, Any]:
    return {"lane": "L", "direction": "export", "cargo": cargo, "route": "r", "per_day": per_day}


def _line(
    stations: dict[str, Any], steps: list[str], streams: dict[str, Any], hours: str | None = None
) -> Scenario:
    calendars = {"open": {"hours": [hours.split("-")]}} if hours else {}
    if hours:
        stations = {name: {**spec, "calendar": "open"} for name, spec in stations.items()}
    return scenario(
        stations,
        {"r": {"origin": "src", "steps": steps, "destination": "out"}},
        streams,
        days=20,
        warmup_days=2,
        replications=REPLICATIONS,
        records=False,
        calendars=calendars,
    )


def _measure(s: Scenario, methods: tuple[str, ...] = ("saturated", "ramp")) -> FlowCapacity:
    evaluate = replication_rows(ReplicationRunner(), REPLICATIONS)
    [flow] = measure_capacity(
        s, evaluate, CapacityOptions(replications=REPLICATIONS, methods=methods)
    )
    return flow


def _assert_ramp_agrees(flow: FlowCapacity, capacity: float) -> None:
    """The ramp brackets the closed form: stable below it, growing above it (allowing the
    ramp's resolution), and the two methods' intervals meet."""
    assert flow.ramp is not None and flow.ramp_growing_offered is not None, flow.ramp_note
    assert flow.ramp_bracket is not None
    assert flow.ramp[0] <= capacity * 1.02
    assert flow.ramp[0] >= capacity * 0.85
    assert flow.ramp_growing_offered[0] >= capacity * 0.97
    assert flow.ramp_growing_offered[0] <= capacity * 1.15
    assert agreement(flow)[0] is True, agreement(flow)[1]


# --------------------------------------------------------------------------- closed forms
def test_deterministic_station_with_hours_is_exact() -> None:
    s = _line({"s": {"servers": 2, "service": det(10)}}, ["s"], {"a": _stream(60)}, "08:00-16:00")
    flow = _measure(s)
    assert flow.saturated == (96.0, 96.0, 96.0)  # 2 * 480 / 10, every day of every replication
    assert flow.saturated_growth is not None and flow.saturated_growth.grows
    assert [b["station"] for b in flow.binding] == ["s"]
    assert flow.binding[0]["utilization"] == pytest.approx(1.0)
    _assert_ramp_agrees(flow, 96.0)


def test_exponential_station_with_hours_inside_the_interval() -> None:
    expo = {"dist": "exponential", "mean": 20}
    s = _line({"s": {"servers": 3, "service": expo}}, ["s"], {"a": _stream(80)}, "07:00-19:00")
    flow = _measure(s)
    expected = 3 * (720 / 20 + 1)  # 111: 108 in hours + one overtime completion per server
    assert flow.saturated is not None
    _, lo, hi = flow.saturated
    assert lo <= expected <= hi
    assert hi - lo < 0.05 * expected  # tight enough that a wrong model cannot pass by luck
    assert not lo <= 3 * 720 / 20 - 3 <= hi  # and distinguishable from a capacity 3 lower
    _assert_ramp_agrees(flow, expected)


def test_tandem_capacity_is_the_slowest_station() -> None:
    stations = {"a": {"servers": 2, "service": det(10)}, "b": {"service": det(6)}}
    s = _line(stations, ["a", "b"], {"x": _stream(50)}, "08:00-16:00")
    flow = _measure(s)
    assert flow.saturated == (80.0, 80.0, 80.0)  # min(2*480/10 = 96, 480/6 = 80)
    assert flow.binding[0]["station"] == "b"
    _assert_ramp_agrees(flow, 80.0)


def test_daily_cap_is_the_capacity() -> None:
    stations = {"cap": {"type": "daily_cap", "service": det(1), "params": {"per_day": 50}}}
    s = _line(stations, ["cap"], {"x": _stream(30)})
    flow = _measure(s)
    assert flow.saturated == (50.0, 50.0, 50.0)
    assert flow.binding[0]["capped_days"] >= 18  # capped on every measured day
    _assert_ramp_agrees(flow, 50.0)


def test_two_class_mix_gives_the_harmonic_rate() -> None:
    station = {
        "service": det(10),
        "service_when": [{"when": {"cargo": "slow"}, "service": det(20)}],
    }
    streams = {"fast": _stream(60, "fast"), "slow": _stream(20, "slow")}
    s = _line({"s": station}, ["s"], streams)
    flow = _measure(s)
    expected = 1440 / (0.75 * 10 + 0.25 * 20)  # 115.2
    assert flow.saturated is not None
    _, lo, hi = flow.saturated
    assert lo <= expected <= hi and hi - lo < 0.05 * expected
    assert not lo <= 1440 / 15 <= hi  # the unweighted mean of the two rates would be wrong
    _assert_ramp_agrees(flow, expected)


# --------------------------------------------------------------------------- the two loads
def test_saturated_load_keeps_the_mix_and_opens_the_entry_queue() -> None:
    streams = {"fast": _stream(60, "fast"), "slow": _stream(20, "slow")}
    s = _line({"s": {"service": det(5), "queue_capacity": 3}}, ["s"], streams)
    fed = saturated_scenario(s, {GROUP: 400.0})
    assert fed.arrivals["fast"].per_day == pytest.approx(300.0)
    assert fed.arrivals["slow"].per_day == pytest.approx(100.0)
    assert fed.stations["s"].queue_capacity is None
    assert offered_per_day(fed)[GROUP] == pytest.approx(400.0)


def test_ramp_load_scales_only_its_flow() -> None:
    streams = {"x": _stream(60), "y": {**_stream(40), "direction": "import"}}
    s = _line({"s": {"service": det(5)}}, ["s"], streams)
    scaled = ramp_scenario(s, {GROUP: 1.5})
    assert offered_per_day(scaled) == pytest.approx({GROUP: 90.0, "L.import": 0.0})


# --------------------------------------------------------------------------- the CLI
def test_capacity_command_on_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Both methods agree on every lane and direction of the baseline (shortened run)."""
    out = tmp_path / "cap"
    code = main(
        [
            "capacity",
            "scenarios/baseline.yaml",
            "--days",
            "20",
            "-r",
            "4",
            "--jobs",
            "2",
            "--out",
            str(out),
            "-q",
        ]
    )
    assert code == 0
    document = json.loads((out / "capacity.json").read_text())
    flows = {(f["lane"], f["direction"]): f for f in document["flows"]}
    assert set(flows) == {
        (lane, d) for lane in ("1119-1120", "1088/2-1089") for d in ("export", "import")
    }
    for (_lane, direction), flow in flows.items():
        if direction == "export" and not flow["agree"]:
            # fruit first at export dispatch: an unlimited queue of fruit starves other cargo,
            # so saturated entry clears another mix; the ramp's figure is quoted
            assert flow["agreement"].startswith("the entry serves cargo fruit first")
            assert flow["capacity_method"] == "ramp"
            assert flow["saturated"]["mean"] < flow["ramp"]["mean"]
        else:
            assert flow["agree"] is True, flow["agreement"]
        if direction == "import":
            assert flow["saturated"]["mean"] > flow["offered_per_day"]  # headroom today
            assert 0 < flow["load_ratio"] < 1
        else:
            # exports are offered at 1.11 x the ordinary-day counts [s 90], about the export
            # capacity: the platform sheds what the gate cannot clear
            assert 0.9 < flow["load_ratio"] < 1.2
        assert flow["binding"]
    # 1119-1120 imports: 3 dispatch lanes, 3.5 min headway, CN hours 07:00-20:00 VN time
    assert flows[("1119-1120", "import")]["saturated"]["mean"] == pytest.approx(
        3 * 780 / 3.5, rel=0.01
    )
    total = sum(f["saturated"]["mean"] for f in flows.values())
    assert document["gate"]["saturated"]["mean"] == pytest.approx(total)
    assert (out / "capacity.csv").exists() and (out / "manifest.json").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lane", "9999"], "--lane: no arrival stream uses this lane"),
        (["--scale-range", "3:1"], "--scale-range"),
        (["--resolution", "0"], "--resolution"),
        (["-r", "1"], "--replications"),
    ],
)
def test_bad_capacity_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    out = tmp_path / "never"
    assert _exit_code(["capacity", "scenarios/baseline.yaml", "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def _exit_code(argv: list[str]) -> int | str | None:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own one-line errors
        return exc.code


def test_scenario_without_arrivals_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never"
    argv = ["capacity", "scenarios/baseline.yaml", "--set", "demand_scale=0", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "error: scenarios/baseline.yaml: arrivals: "
        "no trucks arrive after the warm-up: nothing to measure"
    )
    assert not out.exists()


def test_headline_is_the_ramp_when_it_sustains_less() -> None:
    flow = FlowCapacity(GROUP, 100.0, saturated=(200.0, 195.0, 205.0))
    flow.ramp, flow.ramp_growing_offered = (150.0, 147.0, 153.0), (160.0, 155.0, 165.0)
    assert agreement(flow)[0] is False and "grows below the saturated rate" in agreement(flow)[1]
    assert headline(flow) == flow.ramp
    flow.ramp_growing_offered = (210.0, 200.0, 220.0)  # the bracket now reaches 195-205
    assert agreement(flow)[0] is True and headline(flow) == flow.saturated
    ramp_only = FlowCapacity(GROUP, 100.0, ramp=(90.0, 85.0, 95.0))
    assert headline(ramp_only) is None  # a stable load without a growing one: a lower bound
    ramp_only.ramp_growing_offered = (95.0, 93.0, 97.0)
    assert headline(ramp_only) == (90.0, 85.0, 95.0)


def test_a_flow_that_cannot_be_saturated_has_no_answer() -> None:
    """1,000 servers of one minute: the feed (50, then 200, 800, 3,200 a day) never makes the
    backlog grow, so there is no saturated figure; the ramp doubles its factor up to the top
    of the searched range (100 x) without the backlog growing."""
    s = _line({"s": {"servers": 1000, "service": det(1)}}, ["s"], {"x": _stream(10)})
    flow = _measure(s)
    assert flow.saturated is None and "3,200 trucks/day" in flow.saturated_note
    assert flow.ramp_growing_offered is None and flow.ramp_note == (
        "capacity above the searched range"
    )
    assert flow.ramp_bracket is None and flow.ramp is not None
    assert headline(flow) is None


def _two_paths(steps: list[Any], stations: dict[str, Any]) -> Scenario:
    """Half the trucks take path a (one server, 10 min: 144/day), half path b (5 min: 288)."""
    stream = {**_stream(100), "attributes": {"path": {"a": 0.5, "b": 0.5}}}
    stations = {"a": {"service": det(10)}, "b": {"service": det(5)}, **stations}
    return _line(stations, steps, {"x": stream})


SPLIT = {"branch": "path", "cases": {"a": ["a"], "b": ["b"]}}


def test_paths_that_clear_in_another_mix_quote_the_ramp() -> None:
    """Behind one fast entry (2 min: 720/day) the two paths would clear 144 + 288 = 432/day
    under saturated entry, but the offered half-and-half mix sustains only 2 x 144 = 288."""
    flow = _measure(_two_paths(["e", SPLIT], {"e": {"service": det(2)}}))
    assert flow.saturated is not None and flow.saturated[0] == pytest.approx(432, abs=2)
    assert flow.behind[0][0] == "a" and flow.behind[0][1] == pytest.approx(0.4, abs=0.01)
    agree, why = agreement(flow)
    assert agree is False and "a serves only 40%" in why
    assert headline(flow) == flow.ramp and flow.ramp is not None
    # path a grows by 0.5 x offered - 144 a day, which the growth test counts only from 1 % of
    # the offered trucks: stable up to 144 / 0.49 = 293.9 a day (2 % above 288)
    assert 288 * 0.9 <= flow.ramp[0] <= 144 / 0.49 + 1


def test_parallel_entries_in_another_mix_quote_the_ramp() -> None:
    """The same split taken at the origin: a and b are both entries."""
    flow = _measure(_two_paths([SPLIT], {}))
    assert flow.behind and flow.behind[0][0] == "a"
    assert flow.behind[0][1] == pytest.approx(0.5, abs=0.02)  # 144 of 288's pace
    assert headline(flow) == flow.ramp and flow.ramp is not None
    assert 288 * 0.9 <= flow.ramp[0] <= 144 / 0.49 + 1  # as above


def test_the_public_api_measures() -> None:
    s = _line({"s": {"servers": 2, "service": det(10)}}, ["s"], {"a": _stream(60)}, "08:00-16:00")
    options = CapacityOptions(replications=3, methods=("saturated",))
    [flow] = gatesim.scenario_capacity(s, options, jobs=2)
    assert flow.saturated == (96.0, 96.0, 96.0) and flow.ramp is None


def _ramp_loads(capacity: float, start: float = 1.0) -> tuple[list[float], _Bracket]:
    """The factors the ramp tries for a flow that grows exactly above ``capacity``, starting
    at ``start`` (the saturated answer) with 5 % resolution."""
    bracket = _Bracket(start=start, step=1.05**2)
    tried = [start]
    while True:
        bracket.record(tried[-1], [], tried[-1] > capacity)
        point = bracket.next_point(0.05, (0.02, 100.0))
        if point is None:
            return tried, bracket
        tried.append(point)


def test_ramp_settles_a_close_saturated_answer_with_three_loads() -> None:
    """One step of 1.05^2 brackets it and one geometric halving gives exactly 1.05."""
    tried, bracket = _ramp_loads(1.07)
    assert tried == pytest.approx([1.0, 1.1025, 1.05])
    assert (bracket.stable, bracket.growing) == pytest.approx((1.05, 1.1025))
    tried, bracket = _ramp_loads(0.97)  # the same downwards: 1 / 1.05 = 0.952 is stable
    assert tried == pytest.approx([1.0, 1 / 1.1025, 1 / 1.05])
    assert (bracket.stable, bracket.growing) == pytest.approx((1 / 1.05, 1.0))


def test_ramp_steps_grow_until_they_bracket_then_halve_to_the_resolution() -> None:
    """Steps of 1.05^2, 1.05^4, 1.05^8 (squared each time, at most 2); a bracket found by k
    steps spans 1.05^(2^k) and k halvings bring it to 1.05."""
    tried, bracket = _ramp_loads(1.5)
    steps = [1.05**2, 1.05**4, 1.05**8]
    assert tried[:4] == pytest.approx([1.0, steps[0], steps[0] * steps[1], math.prod(steps)])
    assert len(tried) == 4 + 3
    assert bracket.stable is not None and bracket.growing is not None
    assert bracket.stable <= 1.5 < bracket.growing
    assert bracket.growing / bracket.stable == pytest.approx(1.05)
    far, _ = _ramp_loads(1e9)  # never grows: doubling at most, up to the range's top
    assert far[-1] == 100.0 and all(b / a <= 2.0 + 1e-12 for a, b in itertools.pairwise(far))
