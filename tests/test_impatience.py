"""Impatient trucks (issue 18): reneging (``patience``) and balking (``balk_at``) at stations.

Tiers: exact hand-computed timelines (deterministic service and patience, replayed arrivals;
every number worked out in the comments), the Erlang-A closed forms cross-checked against each
other, the validation checks against theory (and a wrong patience failing), and hypothesis
properties of random small scenarios.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from builders import det, scenario, single_station, timeline, trace_stream, trucks_by_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatesim.cli import main as cli_main
from gatesim.experiment.runner import run_experiment
from gatesim.model.engine import Replication, simulate
from gatesim.scenario.schema import Scenario
from gatesim.stations.queues import FifoQueue, ImpatientQueue
from gatesim.stats.abandonment import erlang_a_abandonment, erlang_a_chain, erlang_a_tagged
from gatesim.stats.kpis import replication_kpis
from gatesim.stats.queueing import mmc_wait, mmck_blocking, mmck_number
from gatesim.validation import get_check, run_check

OPEN_8_TO_10 = {"h": {"hours": [["08:00", "10:00"]]}}


# --------------------------------------------------------------------------- exact timelines
def test_reneging_timeline() -> None:
    # service 10, patience 15 (wall clock), arrivals 0, 1, 2, 3, 30:
    #   truck 0: 0 -> 10
    #   truck 1: arrives 1 (deadline 16), starts 10 -> 20: served first, its timer does nothing
    #   truck 2: arrives 2 (deadline 17), still waiting at 17: reneges, wait 15
    #   truck 3: arrives 3 (deadline 18): reneges at 18, wait 15
    #   truck 4: arrives 30, server idle: 30 -> 40
    result = simulate(single_station([0, 1, 2, 3, 30], 10.0, patience=det(15.0)))
    assert timeline(result) == [
        (0, "s1", 0.0, 0.0, 10.0),
        (1, "s1", 1.0, 10.0, 20.0),
        (4, "s1", 30.0, 30.0, 40.0),
    ]
    trucks = trucks_by_id(result)
    assert [trucks[i]["outcome"] for i in range(5)] == [
        "cleared",
        "cleared",
        "reneged",
        "reneged",
        "cleared",
    ]
    assert (trucks[2]["cleared_min"], trucks[3]["cleared_min"]) == (17.0, 18.0)
    row = result.stations["s1"]
    assert (row["reneged"], row["balked"], row["served"]) == (2.0, 0.0, 3.0)
    assert row["wait_mean_min"] == (0 + 9 + 0) / 3  # served trucks only
    assert row["wait_reneged_mean_min"] == 15.0
    assert row["queue_max"] == 3.0  # trucks 1, 2, 3 on [3, 10)
    # queue area: 1 on [1,2), 2 on [2,3), 3 on [3,10), 2 on [10,17), 1 on [17,18) = 1+2+21+14+1
    assert row["queue_mean"] == 39.0 / 1440
    assert result.conservation() == {
        "arrived": 5,
        "cleared": 3,
        "lost": 0,
        "in_system": 0,
        "reneged": 2,
    }
    kpis = replication_kpis(result)
    assert kpis["reneged_per_day"] == 2.0 and kpis["reneged_per_day.L.export"] == 2.0
    assert kpis["wait_reneged_mean_min"] == 15.0 and kpis["wait_served_mean_min"] == 3.0


def test_balking_and_reneging_timeline() -> None:
    # as above with balk_at 2: truck 3 arrives at 3 and finds trucks 1 and 2 waiting: balks.
    #   truck 2 still reneges at 17; nobody is lost (no queue_capacity).
    result = simulate(single_station([0, 1, 2, 3, 30], 10.0, patience=det(15.0), balk_at=2))
    trucks = trucks_by_id(result)
    assert trucks[3]["outcome"] == "balked" and trucks[3]["cleared_min"] == 3.0
    assert trucks[2]["outcome"] == "reneged" and trucks[2]["cleared_min"] == 17.0
    row = result.stations["s1"]
    assert (row["reneged"], row["balked"], row["rejected"]) == (1.0, 1.0, 0.0)
    assert row["queue_max"] == 2.0
    assert result.conservation() == {
        "arrived": 5,
        "cleared": 3,
        "lost": 0,
        "in_system": 0,
        "reneged": 1,
        "balked": 1,
    }


def test_balk_at_zero_turns_away_only_trucks_that_would_wait() -> None:
    # balk_at 0 = a loss system (M/M/c/c): trucks 1, 2 find the server busy and leave;
    # truck 3 at 12 finds it free and is served.
    result = simulate(single_station([0, 1, 2, 12], 10.0, balk_at=0))
    assert timeline(result) == [(0, "s1", 0.0, 0.0, 10.0), (3, "s1", 12.0, 12.0, 22.0)]
    assert result.stations["s1"]["balked"] == 2.0


def test_patience_clock_runs_while_the_station_is_closed() -> None:
    # open 08:00-10:00 (480-600, 1920-2040), service 30, patience 100 minutes of wall time:
    #   truck 0: arrives 420 (closed), deadline 520, starts at opening 480 -> 510
    #   truck 1: arrives 590, served 590 -> 620
    #   truck 2: arrives 595, waits; closed from 600 on: reneges at 695 (night, wall clock)
    #   truck 3: arrives 1000 (closed): reneges at 1100
    #   truck 4: arrives 1850, deadline 1950; opens 1920: starts 1920 -> 1950
    s = single_station(
        [420, 590, 595, 1000, 1850],
        30.0,
        days=2,
        calendar="h",
        calendars=OPEN_8_TO_10,
        patience=det(100.0),
    )
    result = simulate(s)
    assert timeline(result) == [
        (0, "s1", 420.0, 480.0, 510.0),
        (1, "s1", 590.0, 590.0, 620.0),
        (4, "s1", 1850.0, 1920.0, 1950.0),
    ]
    trucks = trucks_by_id(result)
    assert [(trucks[i]["outcome"], trucks[i]["cleared_min"]) for i in (2, 3)] == [
        ("reneged", 695.0),
        ("reneged", 1100.0),
    ]


def test_patience_by_cargo_class() -> None:
    # fruit is impatient (5 min), other cargo waits for ever; service 10, arrivals:
    #   truck 0 (box) 0 -> 10; truck 1 (fruit) at 1: reneges at 6; truck 2 (box) at 2: 10 -> 20
    s = scenario(
        {"s1": {"service": det(10.0), "patience_by_cargo": {"fruit": det(5.0)}}},
        {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
        {
            "a": trace_stream([0.0, 2.0], cargo="box"),
            "b": trace_stream([1.0], cargo="fruit"),
        },
    )
    result = simulate(s)
    assert timeline(result) == [(0, "s1", 0.0, 0.0, 10.0), (2, "s1", 2.0, 10.0, 20.0)]
    assert trucks_by_id(result)[1]["outcome"] == "reneged"
    assert result.reneged_by_stream.tolist() == [0, 1]
    kpis = replication_kpis(result)
    assert kpis["reneged_per_day.cargo.fruit"] == 1.0 and kpis["reneged_per_day.cargo.box"] == 0.0


def test_staging_yard_trucks_renege_and_leave_the_road() -> None:
    # staging yard, 1 dispatch lane of 10 min, 1 parking place, patience 15:
    #   truck 0 dispatched 0 -> 10; trucks 1, 2 wait (1 parked, 2 on the road);
    #   truck 1 dispatched at 10; truck 2 reneges at 17 (arrived 2): the road is empty again
    s = scenario(
        {
            "y": {
                "type": "staging_yard",
                "service": det(10.0),
                "patience": det(15.0),
                "params": {"areas": [{"name": "park", "capacity": 1}]},
            }
        },
        {"r": {"origin": "src", "steps": ["y"], "destination": "out"}},
        {"a": trace_stream([0.0, 1.0, 2.0])},
    )
    result = simulate(s)
    row = result.stations["y"]
    assert row["reneged"] == 1.0 and row["spillback_trucks_max"] == 1.0
    # on the road: truck 2 on [2, 10) (truck 1 parked until dispatched at 10) = 8 truck-minutes
    assert row["spillback_trucks_mean"] == 8.0 / 1440
    assert row["spillback_km_end"] == 0.0


# --------------------------------------------------------------------------- cost when off
def test_stations_without_impatience_keep_the_plain_loop() -> None:
    run = Replication(single_station([0.0], 1.0))
    station = run.stations["s1"]
    assert type(station.queue) is FifoQueue and "arrive" not in vars(station)
    assert "reneged" not in simulate(single_station([0.0], 1.0)).stations["s1"]


def test_only_trucks_that_queue_get_a_timer() -> None:
    # a truck served at once schedules no patience timer: the heap holds arrivals only
    run = Replication(single_station([0.0, 100.0], 1.0, patience=det(5.0)))
    assert isinstance(run.stations["s1"].queue, ImpatientQueue)
    run.env.run(until=50.0)
    assert all(entry[3] != run.stations["s1"]._renege for entry in run.env._heap)


def _exponential_station(**extra: object) -> Scenario:
    return scenario(
        {"s1": {"service": {"dist": "exponential", "mean": 3.0}, **extra}},
        {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
        {"a": trace_stream([0.0, 50.0, 100.0, 150.0])},
    )


def test_impatience_draws_leave_service_draws_unchanged() -> None:
    # trucks that never queue: patience and balking draw from their own streams, so the
    # service times are those of the same station without them
    plain = simulate(_exponential_station())
    impatient = simulate(
        _exponential_station(
            patience={"dist": "exponential", "mean": 1.0},
            balk_at={"dist": "uniform", "low": 0, "high": 3},
        )
    )
    assert timeline(impatient) == timeline(plain)


# --------------------------------------------------------------------------- closed forms
ERLANG_A = [(1, 0.9, 1.0, 0.5), (2, 1.8, 1.0, 0.25), (3, 2.7, 1.0, 0.2), (2, 3.0, 1.0, 1.0)]


@pytest.mark.parametrize(("c", "lam", "mu", "theta"), ERLANG_A)
def test_erlang_a_three_ways(c: int, lam: float, mu: float, theta: float) -> None:
    """The incomplete-gamma closed form, the tagged-arrival recursion and θ·E[Q]/λ over the
    truncated chain (abandonment = θ × mean queue / λ) agree."""
    closed = erlang_a_abandonment(c, lam, mu, theta)
    tagged, _ = erlang_a_tagged(c, lam, mu, theta)
    p = erlang_a_chain(c, lam, mu, theta)
    queue = float(np.dot(np.maximum(np.arange(p.size) - c, 0), p))
    assert closed == pytest.approx(tagged, rel=1e-12)
    assert closed == pytest.approx(theta * queue / lam, rel=1e-12)


def test_erlang_a_limits() -> None:
    # almost infinite patience: the served wait tends to Erlang C's (M/M/1: ρ/(μ−λ) = 1 at ρ=.5)
    abandon, wait = erlang_a_tagged(1, 0.5, 1.0, 1e-7)
    assert abandon == pytest.approx(0.0, abs=1e-6)
    assert wait == pytest.approx(mmc_wait(1, 0.5, 1.0), rel=1e-5)
    # M/M/1+M with θ = μ behaves as M/M/∞ in the number present: Poisson(λ/μ);
    # abandonment = 1 − P(busy)·μ/λ = 1 − (1 − e^(−λ/μ))·μ/λ
    assert erlang_a_abandonment(1, 2.0, 1.0, 1.0) == pytest.approx(1 - (1 - math.exp(-2.0)) / 2)


def test_mmck_number_by_hand() -> None:
    # M/M/1/2 with λ = μ: p = (1/3, 1/3, 1/3): mean number 1, blocking 1/3
    assert mmck_number(1, 2, 1.0, 1.0) == pytest.approx(1.0)
    assert mmck_blocking(1, 2, 1.0, 1.0) == pytest.approx(1 / 3)


# --------------------------------------------------------------------------- against theory
@pytest.mark.parametrize("name", ["mmc_abandon", "mm1_balk"])
def test_validation_checks_pass(name: str) -> None:
    results = run_check(get_check(name), jobs=1)
    assert all(r.replications >= 10 for r in results)
    for r in results:
        assert r.passed, f"{r.name}: {r.mean} {r.ci_pass} vs {r.analytic}"
        assert r.rel_half_width < 0.03, f"{r.name}: interval too wide to mean anything"


def _patience_scaled(factor: float):  # type: ignore[no-untyped-def]
    def perturb(s: Scenario) -> Scenario:
        spec = s.stations["s1"]
        assert spec.patience is not None
        patience = {"dist": "exponential", "mean": spec.patience.mean * factor}
        data = s.model_dump(by_alias=True)
        data["stations"]["s1"]["patience"] = patience
        return Scenario.model_validate(data)

    return perturb


def test_a_wrong_patience_fails() -> None:
    # the engine runs mean patience 5 instead of 4 (θ 0.2 not 0.25): abandonment drops from
    # 0.152 to about 0.13, far outside the interval
    results = run_check(get_check("mmc_abandon"), jobs=1, perturb=_patience_scaled(1.25))
    share = next(r for r in results if r.name.endswith("reneged_share"))
    assert not share.passed


# --------------------------------------------------------------------------- properties
@st.composite
def impatient_scenarios(draw: st.DrawFn) -> tuple[Scenario, float]:
    patience = draw(st.sampled_from([1.0, 2.5, 7.0, 20.0]))
    station: dict[str, object] = {
        "type": draw(st.sampled_from(["station", "staging_yard"])),
        "servers": draw(st.integers(1, 3)),
        "service": {"dist": "exponential", "mean": draw(st.sampled_from([0.5, 1.0, 3.0]))},
        "patience_by_cargo": {"fruit": det(patience)},
        "discipline": draw(st.sampled_from(["fifo", "lifo"])),
    }
    if draw(st.booleans()):
        station["patience"] = {"dist": "exponential", "mean": 4.0}
    balk = draw(st.sampled_from([None, 0, 1, 3, "dist"]))
    if balk == "dist":
        station["balk_at"] = {"dist": "uniform", "low": 0, "high": 4}
    elif balk is not None:
        station["balk_at"] = balk
    extra: dict[str, object] = {}
    if draw(st.booleans()):
        station["calendar"] = "h"
        extra["calendars"] = {"h": {"hours": [["06:00", "18:00"]]}}
    per_day = draw(st.integers(200, 3000))
    arrivals = {
        "a": {
            "lane": "L",
            "direction": "export",
            "cargo": "fruit",
            "route": "r",
            "per_day": per_day,
        },
        "b": {
            "lane": "M",
            "direction": "import",
            "cargo": "box",
            "route": "r",
            "per_day": per_day // 2,
        },
    }
    s = scenario(
        {"s1": station, "s2": {"service": {"dist": "exponential", "mean": 0.2}}},
        {"r": {"origin": "src", "steps": ["s1", "s2"], "destination": "out"}},
        arrivals,
        days=2,
        seed=draw(st.integers(0, 10_000)),
        **extra,
    )
    return s, patience


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(impatient_scenarios())
def test_extended_conservation_and_waits(case: tuple[Scenario, float]) -> None:
    s, patience = case
    result = simulate(s)  # the engine checks physical conservation itself
    c = result.conservation()
    left = c.get("reneged", 0) + c.get("balked", 0)
    assert c["arrived"] == c["cleared"] + c["lost"] + left + c["in_system"]
    by_stream = (
        result.cleared_by_stream
        + result.lost_by_stream
        + result.reneged_by_stream
        + result.balked_by_stream
        + result.in_system_by_stream
    )
    assert by_stream.tolist() == result.arrived_by_stream.tolist()
    assert result.visits is not None and all(v[3] >= v[2] for v in result.visits)  # start >= arrive
    for row in trucks_by_id(result).values():
        if row["outcome"] == "reneged" and row["cargo"] == "fruit":
            # s1 is the first station, reached at creation (no roads): wait = patience, in
            # wall-clock time, open or closed
            assert row["cleared_min"] - row["created_min"] == pytest.approx(patience, abs=1e-9)
    st1 = result.stations["s1"]
    assert st1["wait_mean_min"] >= 0.0 and st1["wait_reneged_mean_min"] >= 0.0
    assert st1["reneged"] + st1["balked"] == float(left)
    assert "reneged" not in result.stations["s2"]


def test_serial_and_two_processes_agree() -> None:
    # impatience draws come from named streams: two worker processes give the same tables
    s = scenario(
        {
            "s1": {
                "service": {"dist": "exponential", "mean": 1.0},
                "patience": {"dist": "exponential", "mean": 2.0},
                "balk_at": 2,
            }
        },
        {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
        {"a": {"lane": "L", "direction": "export", "cargo": "c", "route": "r", "per_day": 1500}},
        days=2,
    )
    serial, pooled = run_experiment(s, 2, jobs=1), run_experiment(s, 2, jobs=2)
    assert serial.kpi_table().equals(pooled.kpi_table())
    assert serial.conservation() == pooled.conservation()
    assert serial.conservation()["reneged"] > 0 and serial.conservation()["balked"] > 0


def _console_text(s: Scenario) -> str:
    from rich.console import Console

    from gatesim.report.console import print_summary

    console = Console(record=True, width=200)
    print_summary(run_experiment(s, 2).summary(), 0.0, console)
    return console.export_text()


def test_console_shows_impatient_trucks_only_when_some_left() -> None:
    def station(**extra: object) -> Scenario:
        return scenario(
            {"s1": {"service": {"dist": "exponential", "mean": 1.0}, **extra}},
            {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
            {
                "a": {
                    "lane": "L",
                    "direction": "export",
                    "cargo": "c",
                    "route": "r",
                    "per_day": 1500,
                }
            },
            days=2,
        )

    shown = _console_text(station(patience={"dist": "exponential", "mean": 2.0}, balk_at=2))
    assert "Impatient trucks" in shown and "+ reneged " in shown and "+ balked " in shown
    plain = _console_text(station())
    assert "Impatient trucks" not in plain and "reneged" not in plain


def test_html_report_shows_impatient_trucks(tmp_path: Path) -> None:
    from gatesim.report import html

    yaml = tmp_path / "s.yaml"
    yaml.write_text(
        "name: impatient\ndays: 2\nnodes: {src: {kind: source}, out: {kind: sink}}\n"
        "stations: {s1: {service: {dist: exponential, mean: 1.0}, balk_at: 1,\n"
        "  patience: {dist: exponential, mean: 2.0}}}\n"
        "routes: {r: {origin: src, steps: [s1], destination: out}}\n"
        "arrivals: {a: {lane: L, direction: export, cargo: c, route: r, per_day: 1500}}\n"
        "trade_value: {per_truck: {c: 40000}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert cli_main(["run", str(yaml), "--replications", "2", "--out", str(out), "-q"]) == 0
    page = html.write_report(out).read_text(encoding="utf-8")
    assert "Impatient trucks: reneged and balked" in page
    assert "Trucks reneged per day, L export" in page and "Value balked (M USD/day)" in page


def test_an_advanced_type_with_its_own_loop_keeps_the_extended_ledger() -> None:
    # the convoy example pushes and pops self.queue itself: its trucks renege from the
    # gathering area and balk at it, and every ledger still balances (the engine checks them)
    from gatesim.stations.plugins import load_plugin

    load_plugin(Path(__file__).resolve().parents[1] / "examples" / "convoy_escort.py")
    convoy = {
        "type": "convoy_escort",
        "service": {"dist": "exponential", "mean": 6.0},
        "params": {"size": 4, "max_wait": 30.0},
        "patience": {"dist": "exponential", "mean": 10.0},
        "balk_at": 6,
    }
    s = scenario(
        {"c": convoy},
        {"r": {"origin": "src", "steps": ["c"], "destination": "out"}},
        {"a": {"lane": "L", "direction": "export", "cargo": "c", "route": "r", "per_day": 600}},
        days=2,
    )
    result = simulate(s)
    row = result.stations["c"]
    assert row["reneged"] > 0 and row["balked"] > 0
    assert row["reneged"] == result.reneged_by_stream.sum()
    assert row["queue_max"] == 6.0  # a truck finding 6 waiting balks: the line never passes 6
