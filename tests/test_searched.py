"""Searches that simulate only the independent parts they search (issue 23, item 1).

A lane's KPIs simulated on its own part are those of the whole gate bit for bit, so a ``plan``
restricted to the searched lane takes the same decisions on the same numbers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from gatesim import load_scenario
from gatesim.cli import main
from gatesim.experiment import capacity
from gatesim.experiment.parts import independent_parts
from gatesim.experiment.plan import CapacitySearch
from gatesim.experiment.planning import ScenarioEvaluator
from gatesim.experiment.runner import run_replications
from gatesim.experiment.searched import kpi_members, lever_members, searched_parts
from gatesim.experiment.study import ReplicationRunner, replication_key
from gatesim.experiment.targets import parse_target, parse_vary
from gatesim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
HN, TT = "1119-1120", "1088/2-1089"
SHORT = {"days": 3, "warmup_days": 1, "records": {"trucks": False, "visits": False}}


def short(scenario: Scenario) -> Scenario:
    records = scenario.records.model_copy(update=SHORT["records"])
    return scenario.model_copy(update={"days": 3, "warmup_days": 1.0, "records": records})


def test_lane_station_and_stream_members_and_the_parts_a_search_needs() -> None:
    scenario = load_scenario(BASELINE)
    hn, tt = independent_parts(scenario)  # the two lanes, in stream order
    assert "hn_cn_transship" in hn.stations and "tt_cn_transship" in tt.stations
    kpi = f"time_in_system_p95_h.{HN}.export"
    assert kpi_members(scenario, kpi) == (set(), {"hn_export_fruit", "hn_export_other"})
    assert kpi_members(scenario, f"throughput_per_day.{TT}") == (
        set(),
        {"tt_export_fruit", "tt_export_other", "tt_import"},
    )
    assert kpi_members(scenario, "station.tt_cn_transship.utilization") == (
        {"tt_cn_transship"},
        set(),
    )
    for gate_wide in ("time_in_system_p95_h", "throughput_per_day.direction.export"):
        assert kpi_members(scenario, gate_wide) is None
    assert lever_members(scenario, "stations.hn_cn_transship.servers") == (
        {"hn_cn_transship"},
        set(),
    )
    assert lever_members(scenario, "arrivals.tt_import.rate_per_hour") == (set(), {"tt_import"})
    assert lever_members(scenario, "calendars.vn_hours.hours") is None
    lever = ["stations.hn_cn_transship.servers"]
    assert searched_parts(scenario, [kpi], lever) == (0,)
    assert searched_parts(scenario, [f"wait_mean_min.{TT}"], ["stations.tt_vn_xray.servers"]) == (
        1,
    )
    assert searched_parts(scenario, [kpi], ["stations.tt_vn_xray.servers"]) is None  # both: all
    assert searched_parts(scenario, ["time_in_system_p95_h"], lever) is None  # gate-wide
    assert searched_parts(scenario, [kpi], ["calendars.vn_hours.hours"]) is None


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("part", [0, 1])
def test_a_part_simulated_alone_gives_its_kpis_bit_for_bit(part: int) -> None:
    scenario = short(load_scenario(BASELINE))
    whole = run_replications([(scenario, 1)])[0].kpis
    alone = run_replications([(scenario, 1)], only=[(part,)])[0].kpis
    own = independent_parts(scenario)[part]
    checked = 0
    for kpi, value in whole.items():
        members = kpi_members(scenario, kpi)
        if members is None or not (members[0] & set(own.stations) or members[1] & set(own.streams)):
            continue
        assert same(alone[kpi], value), kpi
        checked += 1
    assert checked > 200  # every lane, lane-direction and station KPI of the part
    lane = HN if part == 0 else TT
    assert alone[f"throughput_per_day.{lane}"] == whole[f"throughput_per_day.{lane}"] > 0
    other = TT if part == 0 else HN
    assert alone[f"throughput_per_day.{other}"] == 0 < whole[f"throughput_per_day.{other}"]


def plan_points(restricted: bool) -> tuple[list[dict[str, Any]], float]:
    """A small search on the baseline's 1119-1120 lane, with and without the restriction."""
    target = f"time_in_system_mean_h.{HN}.export<=15"
    vary = "stations.hn_cn_transship.servers=8:32:4"
    overrides = {**SHORT, "replications": 2}
    runner = ReplicationRunner()
    evaluator = ScenarioEvaluator(BASELINE, overrides, runner)
    if restricted:
        evaluator.kpis = [target.split("<")[0]]
    search = CapacitySearch([parse_vary(vary)], [parse_target(target)], evaluator, None, 2, 4)
    result = search.run()
    points = [
        {"values": e.values, "verdict": e.verdict, "targets": e.targets, "rows": len(e.rows)}
        for e in result.evaluations
    ]
    other_lane = evaluator(result.point.values, [0])[0][f"throughput_per_day.{TT}"]
    return [*points, {"found": result.found, "point": result.point.values}], other_lane


def test_a_restricted_plan_takes_the_same_decisions_on_the_same_numbers() -> None:
    restricted, other_lane = plan_points(restricted=True)
    whole, other_lane_whole = plan_points(restricted=False)
    assert json.dumps(restricted) == json.dumps(whole)  # bit for bit (floats in full)
    assert other_lane == 0 < other_lane_whole  # the other lane was not simulated
    *points, answer = restricted
    assert {"holds", "fails"} <= {p["verdict"] for p in points} and len(points) >= 3
    # the answer is the fewest servers that hold, above every point that fails
    key = "stations.hn_cn_transship.servers"
    chosen = answer["point"][key]
    held = [p["values"][key] for p in points if p["verdict"] == "holds"]
    failed = [p["values"][key] for p in points if p["verdict"] == "fails"]
    assert answer["found"] and chosen == min(held) and max(failed) < chosen


def test_a_parts_key_changes_with_its_own_inputs_only() -> None:
    scenario = short(load_scenario(BASELINE))
    keys = {replication_key(scenario), *(replication_key(scenario, (i,)) for i in (0, 1))}
    assert len(keys) == 3 and all(len(k) == 64 for k in keys)

    def with_tt_import_load(per_day: float) -> Scenario:
        arrivals = dict(scenario.arrivals)
        arrivals["tt_import"] = arrivals["tt_import"].model_copy(update={"per_day": per_day})
        return scenario.model_copy(update={"arrivals": arrivals})

    busier = with_tt_import_load(2 * scenario.arrivals["tt_import"].per_day + 1)
    assert replication_key(busier, (0,)) == replication_key(scenario, (0,))  # the other lane
    assert replication_key(busier, (1,)) != replication_key(scenario, (1,))
    assert replication_key(busier) != replication_key(scenario)
    reseeded = scenario.model_copy(update={"seed": scenario.seed + 1})
    assert replication_key(reseeded, (0,)) != replication_key(scenario, (0,))


def whole_gate_rows(runner: ReplicationRunner, replications: int) -> Any:
    """The capacity measurement's evaluate as it was: every batch simulates the whole gate."""

    def evaluate(scenarios: list[Scenario], label: str) -> list[list[dict[str, float]]]:
        batches = runner.outcomes(scenarios, [replications] * len(scenarios), label)
        return [[capacity._row(o) for o in outcomes] for outcomes in batches]

    return evaluate


@pytest.mark.parametrize("lane", [None, TT])
def test_capacity_by_part_gives_the_whole_gates_answer(lane: str | None) -> None:
    scenario = capacity.capacity_scenario(
        load_scenario(BASELINE).model_copy(update={"days": 7, "warmup_days": 1.0})
    )
    options = capacity.CapacityOptions(replications=2, max_batches=3, lane=lane)
    by_part_runner = ReplicationRunner()
    by_part = capacity.measure_capacity(
        scenario, capacity.replication_rows(by_part_runner, 2), options
    )
    whole_runner = ReplicationRunner()
    whole = capacity.measure_capacity(scenario, whole_gate_rows(whole_runner, 2), options)
    assert len(by_part) == len(whole) == (4 if lane is None else 2)
    rows_kept = [flow_rows(flow) for flow in by_part]
    for mine, theirs in zip(by_part, whole, strict=True):
        for attr in ("saturated_rows", "ramp_rows"):
            rows, full = getattr(mine, attr), getattr(theirs, attr)
            assert len(rows) == len(full)
            for row, full_row in zip(rows, full, strict=True):
                assert f"throughput_per_day.{mine.group}" in row
                assert json.dumps(row) == json.dumps({k: full_row[k] for k in row})
            setattr(mine, attr, []), setattr(theirs, attr, [])
        assert repr(mine) == repr(theirs)  # every interval, bracket, note and binding station
    simulated = {name for rows in rows_kept for row in rows for name in row}
    assert any(k.startswith("station.tt_") for k in simulated)
    assert any(k.startswith("station.hn_") for k in simulated) == (lane is None)


def flow_rows(flow: capacity.FlowCapacity) -> list[dict[str, float]]:
    return [dict(r) for r in (*flow.saturated_rows, *flow.ramp_rows)]


# --------------------------------------------------------------------------- plan end to end
TWO_LANES = """\
name: two_mmc
days: 3
warmup_days: 0.5
replications: 5
seed: 2024
nodes: {src: {kind: source}, out: {kind: sink}}
stations:
  x1: {servers: 1, service: {dist: exponential, mean: 5.0}}
  x2: {servers: 1, service: {dist: exponential, mean: 5.0}}
routes:
  r1: {origin: src, steps: [x1], destination: out}
  r2: {origin: src, steps: [x2], destination: out}
arrivals:
  a1: {lane: L1, direction: export, cargo: c, route: r1, per_day: 1440}
  a2: {lane: L2, direction: export, cargo: c, route: r2, per_day: 1440}
"""
PLAN_ARGS = ["--target", "station.x1.wait_mean_min<=1.5", "--vary", "stations.x1.servers=1:12"]


def exit_code(*args: Any) -> int:
    try:
        return main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)


def test_plan_reports_its_spending_and_reuses_its_cache_across_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "two.yaml"
    scenario.write_text(TWO_LANES, encoding="utf-8")
    cache = tmp_path / "cache"
    first, second = tmp_path / "first", tmp_path / "second"
    assert exit_code("plan", scenario, *PLAN_ARGS, "--out", first, "--cache", cache) == 0
    capsys.readouterr()
    assert exit_code("plan", scenario, *PLAN_ARGS, "--out", second, "--cache", cache) == 0
    out = capsys.readouterr().out
    plan, again = (json.loads((f / "plan.json").read_text()) for f in (first, second))
    assert plan["chosen"]["values"] == {"stations.x1.servers": 7}  # Erlang C, as in test_plan
    # points 12, 6, 9, 7 at 5 replications, each of lane L1's part only (half the work)
    spent = plan["spent"]
    assert spent["simulations"] == 20 and spent["grid_simulations"] == 12 * 5
    assert (spent["parts_simulated"], spent["parts"]) == (1, 2)
    assert spent["work_share"] == 0.5 and spent["whole_gate_equivalent"] == 10.0
    assert spent["reused"] == 0
    assert again["spent"]["reused"] == 20 + 5  # the search's and the chosen point's whole runs
    assert plan["searched_parts"]["simulated"] == [{"stations": ["x1"], "streams": ["a1"]}]
    for document in (plan, again):
        document.pop("execution"), document["spent"].pop("reused")
    assert again == plan
    assert "= 10 whole-gate replications; a grid search: 60 (12 points x 5)" in out
    # the chosen point's outputs are the whole gate's: both lanes
    point = json.loads((first / "point" / "summary.json").read_text())
    assert set(point["stations"]) == {"x1", "x2"}


def test_a_foreign_file_in_the_cache_is_one_line_naming_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "two.yaml"
    scenario.write_text(TWO_LANES, encoding="utf-8")
    cache = tmp_path / "cache"
    assert exit_code("plan", scenario, *PLAN_ARGS, "--out", tmp_path / "a", "--cache", cache) == 0
    planted = sorted(cache.glob("*/*.json"))[0]
    planted.write_text("{not json", encoding="utf-8")
    capsys.readouterr()
    out = tmp_path / "b"
    assert exit_code("plan", scenario, *PLAN_ARGS, "--out", out, "--cache", cache) == 2
    err = capsys.readouterr().err.strip()
    assert "--cache" in err and "not readable JSON" in err and "\n" not in err
    assert not out.exists()
