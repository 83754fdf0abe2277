"""Capacity search (``run_sim.py plan``): the search on synthetic monotone oracles (exact points
and simulation counts), the argument parsers, and the command on a real M/M/c scenario checked
against Erlang C.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gatesim import load_scenario
from gatesim.cli import main
from gatesim.core.errors import ScenarioError
from gatesim.experiment.levers import lever_side, override_sides, policy_side
from gatesim.experiment.plan import CapacitySearch, Value
from gatesim.experiment.planning import bottleneck, lane_parts
from gatesim.experiment.store import PartialStore, partial_folder
from gatesim.experiment.targets import (
    FAILS,
    HOLDS,
    UNDECIDED,
    Cost,
    Dimension,
    load_costs,
    parse_target,
    parse_vary,
)
from gatesim.report.studies import summary_lines
from gatesim.stats.queueing import mmc_wait


class Oracle:
    """A monotone synthetic KPI: ``kpi(point, replication)``; records every request."""

    def __init__(self, kpi: Callable[[dict[str, Value], int], float], name: str = "wait"):
        self.kpi, self.name = kpi, name
        self.calls: list[tuple[tuple[Value, ...], list[int]]] = []

    def __call__(
        self, point: dict[str, Value], replications: Sequence[int]
    ) -> list[dict[str, float]]:
        self.calls.append((tuple(point.values()), list(replications)))
        return [{self.name: self.kpi(point, r), "other": 0.0} for r in replications]

    def points(self) -> list[tuple[Value, ...]]:
        """Points in the order they were first simulated."""
        return list(dict.fromkeys(p for p, _ in self.calls))

    def simulations(self) -> int:
        return sum(len(r) for _, r in self.calls)


def search(dims: list[str], targets: list[str], oracle: Oracle, **kwargs: Any) -> CapacitySearch:
    return CapacitySearch(
        [parse_vary(d) for d in dims], [parse_target(t) for t in targets], oracle, **kwargs
    )


BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


# --------------------------------------------------------------------------- 1-D bisection
def test_one_dimension_is_bisected_to_the_smallest_feasible_value() -> None:
    oracle = Oracle(lambda p, r: 10.0 / p["c"])  # deterministic: meets <= 1.5 from c = 7
    result = search(["c=1:12"], ["wait<=1.5"], oracle, initial_replications=2).run()
    assert result.found and result.point.values == {"c": 7}
    assert oracle.points() == [(12,), (6,), (9,), (7,)]  # top corner, then bisection
    assert result.simulations == oracle.simulations() == 8  # 4 points x 2 replications
    assert [n["values"] for n in result.neighbours] == [{"c": 6}]
    assert result.neighbours[0]["evaluated"] and result.neighbours[0]["meets_targets"] is False


def test_target_met_at_the_lowest_corner_is_a_valid_answer() -> None:
    oracle = Oracle(lambda p, r: 10.0 / p["c"])
    result = search(["c=1:12"], ["wait<=100"], oracle, initial_replications=2).run()
    assert result.found and result.point.values == {"c": 1}
    assert oracle.points() == [(12,), (6,), (3,), (1,)]
    assert result.neighbours == []


def test_no_feasible_point_reports_the_largest_corner_only() -> None:
    oracle = Oracle(lambda p, r: 10.0 / p["c"])
    result = search(["c=1:12"], ["wait<=0.1"], oracle, initial_replications=2).run()
    assert not result.found
    assert result.point.values == {"c": 12} and result.point.verdict == FAILS
    assert oracle.points() == [(12,)] and result.simulations == 2


def test_greater_than_targets_and_several_targets_are_anded() -> None:
    oracle = Oracle(lambda p, r: 100.0 * p["c"], name="throughput")  # more capacity, more flow
    result = search(["c=1:20"], ["throughput>=850"], oracle, initial_replications=2).run()
    assert result.point.values == {"c": 9}
    both = Oracle(lambda p, r: 100.0 * p["c"], name="throughput")
    result = search(
        ["c=1:20"], ["throughput>=850", "throughput>1000"], both, initial_replications=2
    ).run()
    assert result.point.values == {"c": 11}


# --------------------------------------------------------------------------- 2-D frontier
def product_oracle() -> Oracle:
    """Meets ``wait <= 1`` iff a·b >= 12 (monotone in both)."""
    return Oracle(lambda p, r: 12.0 / (p["a"] * p["b"]))


def test_two_dimensions_cheapest_frontier_point_with_costs_and_pruning() -> None:
    oracle = product_oracle()
    costs = {"a": Cost(per_unit=1.0), "b": Cost(per_unit=5.0)}
    result = search(
        ["a=1:10", "b=1:4"], ["wait<=1"], oracle, costs=costs, initial_replications=2
    ).run()
    # frontier: b=2 -> a=6 (cost 16), b=3 -> a=4 (19), b=4 -> a=3 (23); b=1 none
    assert result.found and result.point.values == {"a": 6, "b": 2}
    assert result.main_dimension == "a"  # the dimension with the most values is bisected
    assert result.cost(result.point.values) == 16.0
    assert oracle.points() == [(10, 4), (10, 1), (10, 2), (5, 2), (7, 2), (6, 2), (3, 3)]
    assert result.simulations == 14  # 7 of the 40 points, 2 replications each
    # b = 3 stops after one point (a = 4 already costs more than 16), b = 4 is never simulated
    neighbours = {n["dimension"]: n for n in result.neighbours}
    assert neighbours["a"]["values"] == {"a": 5, "b": 2} and neighbours["a"]["evaluated"]
    assert neighbours["b"]["values"] == {"a": 6, "b": 1}
    assert neighbours["b"]["implied_by"] == {"a": 10, "b": 1}  # monotonicity, not simulated
    assert all(n["meets_targets"] is False for n in result.neighbours)


def test_cost_ties_go_to_fewer_units_then_lexicographic() -> None:
    oracle = product_oracle()  # unit costs: (3, 4) and (4, 3) both cost 7 with 7 units
    result = search(["a=1:10", "b=1:4"], ["wait<=1"], oracle, initial_replications=2).run()
    assert result.point.values == {"a": 3, "b": 4}
    assert result.cost(result.point.values) == 7.0


def test_fixed_cost_is_paid_once_a_dimension_is_raised() -> None:
    oracle = product_oracle()
    costs = {"a": Cost(per_unit=1.0), "b": Cost(per_unit=1.0, fixed=100.0)}
    result = search(
        ["a=1:12", "b=1:4"], ["wait<=1"], oracle, costs=costs, initial_replications=2
    ).run()
    assert result.point.values == {"a": 12, "b": 1}  # raising b at all costs 100


def test_monotone_pruning_never_simulates_implied_points_and_matches_brute_force() -> None:
    def kpi(p: dict[str, Value], r: int) -> float:
        return 30.0 / (p["a"] + 2 * p["b"] + 3 * p["c"])

    oracle = Oracle(kpi)
    costs = {"a": Cost(1.0), "b": Cost(1.5), "c": Cost(2.5)}
    dims = ["a=1:15", "b=0:5", "c=0:3"]
    result = search(dims, ["wait<=1"], oracle, costs=costs, initial_replications=2).run()
    grid = [(a, b, c) for a in range(1, 16) for b in range(6) for c in range(4)]
    feasible = [x for x in grid if kpi(dict(zip("abc", x, strict=True)), 0) <= 1]
    cheapest = min(feasible, key=lambda x: (x[0] + 1.5 * x[1] + 2.5 * x[2], sum(x), x))
    assert tuple(result.point.values.values()) == cheapest
    points = oracle.points()
    assert len(points) == len(set(points)) < len(grid) // 4  # no point twice; far below a grid
    for i, p in enumerate(points):  # nothing simulated whose status was already implied
        for q in points[:i]:
            q_ok = kpi(dict(zip("abc", q, strict=True)), 0) <= 1
            above = all(x >= y for x, y in zip(p, q, strict=True))
            below = all(x <= y for x, y in zip(p, q, strict=True))
            assert not (q_ok and above) and not (not q_ok and below), (p, q)


# --------------------------------------------------------------------------- replications
def alternating(mean: float, spread: float) -> Callable[[dict[str, Value], int], float]:
    return lambda p, r: mean + spread * (-1) ** r


def test_undecided_points_get_doubled_replications_reusing_the_earlier_ones() -> None:
    oracle = Oracle(alternating(0.8, 0.5))  # mean 0.8, s about 0.5: close to the target 1
    result = search(["c=3:3"], ["wait<=1"], oracle, initial_replications=2).run()
    assert result.found and result.point.batches == [2, 4, 8, 16, 32]
    assert result.simulations == 32 and result.point.replications == 32
    requested = [r for _, reps in oracle.calls for r in reps]
    assert requested == list(range(32))  # each replication once, in order (same seeds)
    assert oracle.calls[:3] == [((3,), [0]), ((3,), [1]), ((3,), [2, 3])]  # first: KPI check


def test_still_undecided_at_the_cap_is_treated_as_failing() -> None:
    oracle = Oracle(alternating(0.8, 0.5))
    result = search(
        ["c=3:3"], ["wait<=1"], oracle, initial_replications=2, max_replications=12
    ).run()
    assert not result.found
    assert result.point.verdict == UNDECIDED and result.point.batches == [2, 4, 8, 12]
    assert result.simulations == 12


def test_unknown_kpi_is_reported_after_one_replication() -> None:
    oracle = Oracle(lambda p, r: 1.0)
    with pytest.raises(ScenarioError, match="did you mean 'wait'") as caught:
        search(["c=1:5"], ["wiat<=1"], oracle).run()
    assert "--target" in str(caught.value)
    assert oracle.simulations() == 1


# --------------------------------------------------------------------------- parsers
def test_one_sided_verdicts() -> None:
    target = parse_target("wait <= 1")
    assert target.verdict([0.5, 0.5])[0] == HOLDS  # no spread: the mean itself
    assert (
        target.verdict([1.0, 1.0])[0] == HOLDS
        and parse_target("wait<1").verdict([1.0, 1.0])[0] == FAILS
    )
    assert target.verdict([0.9, 1.1])[0] == UNDECIDED
    assert target.verdict([0.5])[0] == UNDECIDED  # one value: no bound
    assert target.verdict([0.5, math.nan])[0] == FAILS  # undefined KPI: more runs won't help
    verdict, stats = target.verdict([2.0, 2.2, 2.4])
    assert verdict == FAILS
    half = 2.919986 * 0.2 / math.sqrt(3)  # t(0.95, 2) · s / sqrt(n)
    assert stats["low"] == pytest.approx(2.2 - half, rel=1e-6)
    assert stats["high"] == pytest.approx(2.2 + half, rel=1e-6)
    assert parse_target("x>=2").verdict([2.0, 2.2, 2.4])[0] == UNDECIDED
    assert parse_target("x>1").verdict([2.0, 2.2, 2.4])[0] == HOLDS


def test_targets_are_parsed() -> None:
    t = parse_target("time_in_system_p95_h.1119-1120.export<=6")
    assert (t.kpi, t.op, t.value) == ("time_in_system_p95_h.1119-1120.export", "<=", 6.0)
    assert str(parse_target(" throughput_per_day > 1e3 ")) == "throughput_per_day > 1000"


@pytest.mark.parametrize("text", ["wait", "wait<=", "wait<=abc", "wait=<1", "<=1", "w<=inf"])
def test_malformed_targets_are_refused(text: str) -> None:
    with pytest.raises(ScenarioError, match="--target"):
        parse_target(text)


def test_ranges_are_parsed() -> None:
    assert parse_vary("agv.fleet=5:60") == Dimension("agv.fleet", tuple(range(5, 61)))
    assert parse_vary("x=0:10:5").values == (0, 5, 10)
    assert parse_vary("x=2:2").values == (2,)
    assert parse_vary("x=1:2:0.25").values == (1.0, 1.25, 1.5, 1.75, 2.0)
    assert parse_vary("x=0.1:0.35:0.1").values == (0.1, 0.2, 0.3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x=5:2", "LO must not exceed HI"),
        ("x=a:b", "not a number"),
        ("x=1:5:0", "step must be > 0"),
        ("x=1:5:-1", "step must be > 0"),
        ("x=1.5:3", "needs a step"),
        ("x=1:2:3:4", "LO:HI or LO:HI:STEP"),
        ("x", "FIELD.PATH=LO:HI"),
        ("=1:2", "FIELD.PATH=LO:HI"),
        ("x=0:100000", "more than"),
    ],
)
def test_malformed_ranges_are_refused(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message) as caught:
        parse_vary(text)
    assert str(caught.value).startswith("--vary:") and text in str(caught.value)


def test_cost_file(tmp_path: Path) -> None:
    dims = [parse_vary("agv.fleet=5:60"), parse_vary("stations.xray.servers=1:6")]
    path = tmp_path / "cost.yaml"
    path.write_text("stations.xray.servers: {per_unit: 40, fixed: 100}\n", encoding="utf-8")
    costs = load_costs(path, dims)
    assert costs == {"agv.fleet": Cost(1.0, 0.0), "stations.xray.servers": Cost(40.0, 100.0)}
    assert costs["stations.xray.servers"].of(1, 1) == 40.0  # at its range's LO: no fixed cost
    assert costs["stations.xray.servers"].of(2, 1) == 180.0
    path.write_text("agv.fleat: 3\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"did you mean 'agv\.fleet'"):
        load_costs(path, dims)
    path.write_text("agv.fleet: -1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=">= 0"):
        load_costs(path, dims)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agv.fleet: 1\nagv.fleet: 2\n", "duplicate key 'agv.fleet' at lines 1 and 2"),
        (
            "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
            "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
            "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
            "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
            "YAML alias bomb",
        ),
        ("agv.fleet: true\n", "agv.fleet.per_unit: must be a number (got True)"),
        ("- 1\n", "top level must be a mapping"),
        ("agv.fleet: !!python/object:os.system 1\n", "YAML syntax error"),
    ],
)
def test_a_cost_file_is_read_as_strictly_as_a_scenario(
    tmp_path: Path, text: str, message: str
) -> None:
    dims = [parse_vary("agv.fleet=5:60")]
    path = tmp_path / "cost.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_costs(path, dims)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


# --------------------------------------------------------------------------- the command
LAM_PER_MIN, SERVICE_MEAN_MIN, MAX_WAIT_MIN = 1.0, 5.0, 1.5
MMC = f"""\
name: mmc
days: 3
warmup_days: 0.5
replications: 5
seed: 2024
nodes: {{src: {{kind: source}}, out: {{kind: sink}}}}
stations:
  xray: {{servers: 1, service: {{dist: exponential, mean: {SERVICE_MEAN_MIN}}}}}
routes: {{r: {{origin: src, steps: [xray], destination: out}}}}
arrivals: {{a: {{lane: L, direction: export, cargo: c, route: r, per_day: {LAM_PER_MIN * 1440}}}}}
"""
TARGET = f"station.xray.wait_mean_min<={MAX_WAIT_MIN}"
VARY = "stations.xray.servers=1:12"


@pytest.fixture(scope="module")
def mmc_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plan") / "mmc.yaml"
    path.write_text(MMC, encoding="utf-8")
    return path


def exit_code(*args: Any) -> int:
    try:
        return main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def serial_plan(mmc_file: Path) -> Path:
    out = mmc_file.parent / "serial"
    assert exit_code("plan", mmc_file, "--target", TARGET, "--vary", VARY, "--out", out, "-q") == 0
    return out


def erlang_c_servers() -> int:
    """The smallest c whose M/M/c mean wait in queue (Erlang C) meets the target."""
    mu = 1.0 / SERVICE_MEAN_MIN
    stable = [c for c in range(1, 13) if c * mu > LAM_PER_MIN]
    return next(c for c in stable if mmc_wait(c, LAM_PER_MIN, mu) <= MAX_WAIT_MIN)


def test_mmc_plan_finds_the_erlang_c_server_count(serial_plan: Path) -> None:
    c = erlang_c_servers()
    mu = 1.0 / SERVICE_MEAN_MIN
    # the design leaves no room for luck: Wq(c) is about half the target, Wq(c-1) about twice
    assert mmc_wait(c, LAM_PER_MIN, mu) < MAX_WAIT_MIN / 1.8
    assert mmc_wait(c - 1, LAM_PER_MIN, mu) > MAX_WAIT_MIN * 1.9
    plan = read_json(serial_plan / "plan.json")
    assert plan["found"] and plan["result"] == "found"
    assert plan["chosen"]["values"] == {"stations.xray.servers": c} == {"stations.xray.servers": 7}
    assert plan["chosen"]["verdict"] == "holds"
    [neighbour] = plan["failing_neighbours"]
    assert neighbour["values"] == {"stations.xray.servers": c - 1}
    assert neighbour["evaluated"] and neighbour["targets"][0]["verdict"] == "fails"
    assert plan["bottleneck"]["station"] == "xray"
    assert plan["bottleneck"]["utilization"] == pytest.approx(LAM_PER_MIN / (c * mu), rel=0.1)
    # top corner 12, then bisection 6, 9, 7: 4 configurations x 5 replications
    assert [p["values"]["stations.xray.servers"] for p in plan["points"]] == [12, 6, 9, 7]
    assert plan["simulations"] == 20 and plan["points_evaluated"] == 4
    table = pd.read_csv(serial_plan / "plan_points.csv")
    assert list(table["stations.xray.servers"]) == [12, 6, 9, 7]
    assert set(table["verdict"]) == {"holds", "fails"}
    point = read_json(serial_plan / "point" / "summary.json")  # the chosen point's run outputs
    assert point["replications"] == 5
    assert point["stations"]["xray"]["servers"] == c


@pytest.mark.parametrize("executor", [["--jobs", "2"], ["--dask", "local", "--jobs", "2"]])
def test_plan_on_two_workers_is_identical_to_serial(
    mmc_file: Path, serial_plan: Path, executor: list[str]
) -> None:
    out = mmc_file.parent / executor[1]
    args = ["--target", TARGET, "--vary", VARY, "--out", out, "-q", *executor]
    assert exit_code("plan", mmc_file, *args) == 0
    serial, parallel = read_json(serial_plan / "plan.json"), read_json(out / "plan.json")
    execution = parallel.pop("execution")
    assert execution["jobs"] == 2
    assert execution["dask_address"] == ("local" if "--dask" in executor else None)
    serial.pop("execution")
    assert parallel == serial
    assert (out / "plan_points.csv").read_text() == (serial_plan / "plan_points.csv").read_text()


def test_interrupted_then_resumed_plan_equals_uninterrupted(
    mmc_file: Path, serial_plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = mmc_file.parent / "resumed"
    args = ["plan", mmc_file, "--target", TARGET, "--vary", VARY, "--out", out, "-q"]
    original, saves = PartialStore.save, [0]

    def save(self: PartialStore, key: str, outcome: Any) -> None:
        original(self, key, outcome)
        saves[0] += 1
        if saves[0] == 7:  # Ctrl-C in the second configuration
            raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(PartialStore, "save", save)
        assert exit_code(*args) == 130
    assert not out.exists() and PartialStore(partial_folder(out)).count() == 7
    assert exit_code(*args, "--resume") == 0
    assert not partial_folder(out).exists()
    assert read_json(out / "manifest.json")["resumed_replications"] == 7
    resumed, uninterrupted = read_json(out / "plan.json"), read_json(serial_plan / "plan.json")
    assert (resumed["spent"].pop("reused"), uninterrupted["spent"].pop("reused")) == (7, 0)
    assert resumed == uninterrupted


def test_no_configuration_in_range_is_exit_1_with_the_best_point(
    mmc_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = mmc_file.parent / "none"
    args = ["--target", "station.xray.wait_mean_min<=0.001", "--vary", "stations.xray.servers=1:6"]
    assert exit_code("plan", mmc_file, *args, "--days", 2, "--out", out) == 1
    plan = read_json(out / "plan.json")
    assert not plan["found"] and plan["result"] == "no configuration in range meets the target"
    assert plan["chosen"] is None and plan["failing_neighbours"] == []
    best = plan["best"]
    assert best["values"] == {"stations.xray.servers": 6} and best["verdict"] == "fails"
    stat = best["targets"][0]
    assert stat["low"] > 0.001 and stat["low"] <= stat["mean"] <= stat["high"]
    assert plan["simulations"] == 5 and plan["points_evaluated"] == 1
    assert "no configuration in range meets the target" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        ["--vary", "stations.xray.servers=5:2"],
        ["--vary", "stations.xray.servers=a:b"],
        ["--vary", "stations.xray.servers=1:5:0"],
        ["--vary", "stations.xray.server=1:3"],  # unknown path
        ["--vary", "stations.xray.servers=0:3"],  # the schema wants servers >= 1
        ["--vary", VARY, "--vary", VARY],
        ["--vary", VARY, "--set", "stations.xray.servers=2"],
        ["--vary", VARY, "--target", "station.xray.wait_mean_min<=x"],
        ["--vary", VARY, "--target", "station.xray.wiat_mean_min<=1"],  # unknown KPI
        ["--vary", VARY, "--replications", "auto"],
        ["--vary", VARY, "--target-rel", "0.1"],
        ["--vary", VARY, "--cost", "{cost}"],
        ["--vary", VARY, "--cost", "{missing}"],
        ["--vary", VARY, "--jobs", "0"],
    ],
)
def test_bad_plan_input_is_one_line_exit_2_nothing_written(
    args: list[str],
    mmc_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    cost = tmp_path / "cost.yaml"
    cost.write_text("stations.xray.servres: 3\n", encoding="utf-8")
    argv = [a.format(cost=cost, missing=tmp_path / "none.yaml") for a in args]
    if "--target" not in argv:
        argv += ["--target", TARGET]
    assert exit_code("plan", mmc_file, *argv, "--days", 2, "--out", out, "-q") == 2
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err
    assert "--vary" in err or "--target" in err or "--" in err
    assert not out.exists() and not partial_folder(out).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cost.yaml"]


TANDEM = """\
name: tandem
days: 2
warmup_days: 0.25
replications: 3
seed: 5
nodes: {src: {kind: source}, out: {kind: sink}}
stations:
  docs: {servers: 1, service: {dist: exponential, mean: 3}}
  scan: {servers: 1, service: {dist: exponential, mean: 4}}
routes: {r: {origin: src, steps: [docs, scan], destination: out}}
arrivals: {a: {lane: L, direction: export, cargo: c, route: r, per_day: 720}}
"""


def test_two_dimensions_with_a_cost_file_end_to_end(tmp_path: Path) -> None:
    scenario, cost, out = tmp_path / "tandem.yaml", tmp_path / "cost.yaml", tmp_path / "out"
    scenario.write_text(TANDEM, encoding="utf-8")
    cost.write_text("stations.scan.servers: {per_unit: 3, fixed: 1}\n", encoding="utf-8")
    args = [
        "--target",
        "station.docs.wait_mean_min<=2",
        "--target",
        "station.scan.wait_mean_min<=2",
    ]
    varies = ["--vary", "stations.docs.servers=1:5", "--vary", "stations.scan.servers=1:4"]
    assert exit_code("plan", scenario, *args, *varies, "--cost", cost, "--out", out, "-q") == 0
    plan = read_json(out / "plan.json")
    chosen = plan["chosen"]
    docs, scan = (
        chosen["values"]["stations.docs.servers"],
        chosen["values"]["stations.scan.servers"],
    )
    assert chosen["cost"] == docs + 3 * scan + (1 if scan > 1 else 0)
    assert all(t["verdict"] == "holds" for t in chosen["targets"])
    # λ = 0.5/min: docs needs 2 servers (ρ = 0.75 with 2), scan needs at least 3 (ρ = 1 with 2)
    assert docs >= 2 and scan >= 3
    assert len(plan["failing_neighbours"]) == 2
    assert all(n["meets_targets"] is False for n in plan["failing_neighbours"])
    assert plan["simulations"] == sum(p["replications"] for p in plan["points"])
    for point in plan["points"]:  # undecided means: doubled up to the cap, then counted as failing
        assert point["verdict"] != "undecided" or point["replications"] == 40
    assert plan["points_evaluated"] < 20  # of the 5 x 4 grid
    assert plan["bottleneck"]["station"] in ("docs", "scan")
    assert [d["cost_per_unit"] for d in plan["dimensions"]] == [1.0, 3.0]


def test_bottleneck_names_the_busiest_station_of_each_lane() -> None:
    rows = [
        {"station.a1.utilization": 0.50, "station.a1.wait_mean_min": 3.0,
         "station.a2.utilization": 0.70, "station.a2.wait_mean_min": 1.0,
         "station.b1.utilization": 0.90, "station.b1.wait_mean_min": 9.0},
        {"station.a1.utilization": 0.60, "station.a1.wait_mean_min": 5.0,
         "station.a2.utilization": 0.70, "station.a2.wait_mean_min": 2.0,
         "station.b1.utilization": 0.80, "station.b1.wait_mean_min": 7.0},
    ]  # fmt: skip
    neck = bottleneck(rows, {"A": ("a1", "a2"), "B": ("b1",)})
    assert neck is not None and neck["station"] == "b1"
    assert neck["utilization"] == pytest.approx(0.85)
    assert neck["by_part"] == [
        {"part": "A", "station": "a2", "utilization": pytest.approx(0.70),
         "wait_mean_min": pytest.approx(1.5)},
        {"part": "B", "station": "b1", "utilization": pytest.approx(0.85),
         "wait_mean_min": pytest.approx(8.0)},
    ]  # fmt: skip
    whole = bottleneck(rows)
    assert whole is not None and whole["by_part"] == []


def test_lane_parts_of_the_baseline_are_its_two_lanes() -> None:
    parts = lane_parts(load_scenario(BASELINE))
    assert list(parts) == ["1119-1120", "1088/2-1089"]
    assert all(s.startswith("hn_") for s in parts["1119-1120"])
    assert all(s.startswith("tt_") for s in parts["1088/2-1089"])


def test_plan_on_the_baseline_reports_each_lanes_bottleneck(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["--days", 3, "--warmup-days", 1, "--out", out, "-q"]
    target = "station.hn_vn_xray.wait_mean_min<=100000"  # holds anywhere: two points only
    vary = "stations.hn_vn_xray.servers=1:2"
    assert exit_code("plan", BASELINE, "--target", target, "--vary", vary, *args) == 0
    plan = read_json(out / "plan.json")
    parts = plan["bottleneck"]["by_part"]
    assert [p["part"] for p in parts] == ["1119-1120", "1088/2-1089"]
    assert parts[0]["station"].startswith("hn_") and parts[1]["station"].startswith("tt_")
    assert plan["bottleneck"]["station"] in (parts[0]["station"], parts[1]["station"])
    assert max(p["utilization"] for p in parts) == plan["bottleneck"]["utilization"]
    lines = summary_lines(plan)
    assert any(line.startswith("  lane 1088/2-1089: ") for line in lines)


def test_levers_belong_to_the_side_that_runs_them() -> None:
    scenario = load_scenario(BASELINE)
    assert lever_side(scenario, "stations.hn_vn_xray.servers") == "VN"
    assert lever_side(scenario, "stations.hn_cn_inspection.servers") == "CN"
    assert lever_side(scenario, "calendars.vn_hours.hours") == "VN"
    assert lever_side(scenario, "calendars.cn_hours.hours") == "CN"
    assert lever_side(scenario, "calendars.yards_24h.hours") == "bilateral"  # both sides' yards
    assert lever_side(scenario, "roads.hn_zero_line.lanes") == "bilateral"
    assert lever_side(scenario, "roads.hn_vn_yard_road.lanes") == "VN"
    assert lever_side(scenario, "demand_scale") == "neither side"
    hours_24 = {"calendars.vn_hours.hours": [], "calendars.cn_hours.hours": [], "records": {}}
    assert override_sides(scenario, hours_24) == {
        "calendars.vn_hours.hours": "VN",
        "calendars.cn_hours.hours": "CN",
    }
    assert policy_side(scenario, hours_24) == "bilateral"  # 24-hour opening: both sides
    assert policy_side(scenario, {"stations.hn_vn_xray.servers": 2}) == "VN"
    assert policy_side(scenario, {"demand_scale": 2}) == "neither side"
    # the acceptance of VN trucks: they wait for it in Vietnam, China decides it
    assert scenario.stations["hn_cn_acceptance"].side == "VN"
    assert lever_side(scenario, "stations.hn_cn_acceptance.params.per_day") == "CN"
    assert lever_side(scenario, "stations.tt_cn_acceptance.params.slots") == "CN"


def test_a_vn_plan_refuses_a_cn_lever_and_names_the_side_of_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    target = "station.hn_vn_xray.wait_mean_min<=100000"  # holds anywhere: two points only
    args = ["--target", target, "--side", "VN", "--days", 3, "--warmup-days", 1, "-q"]
    cn = "stations.hn_cn_inspection.servers=6:7"
    assert exit_code("plan", BASELINE, "--vary", cn, *args, "--out", out) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "error: --vary: stations.hn_cn_inspection.servers is a lever of CN; "
        "--side VN varies only VN levers"
    )
    assert not out.exists() and not partial_folder(out).exists()
    vn = "stations.hn_vn_xray.servers=1:2"
    assert exit_code("plan", BASELINE, "--vary", vn, *args, "--out", out) == 0
    plan = read_json(out / "plan.json")
    assert plan["side"] == "VN"
    assert [(d["path"], d["side"]) for d in plan["dimensions"]] == [
        ("stations.hn_vn_xray.servers", "VN")
    ]
    point = read_json(out / "point" / "manifest.json")["resolved_scenario"]["stations"]
    base = read_json(out / "point" / "manifest.json")["resolved_scenario"]
    base_stations = load_scenario(BASELINE).model_dump(mode="json", by_alias=True)["stations"]
    # stations China runs: on its side, and its acceptance of VN trucks (waiting in Vietnam)
    cn = [n for n, spec in base_stations.items() if (spec["run_by"] or spec["side"]) == "CN"]
    assert len(cn) == 20 and all(point[name] == base_stations[name] for name in cn)
    assert {"hn_cn_acceptance", "tt_cn_acceptance"} <= set(cn)
    assert base["stations"]["hn_vn_xray"]["servers"] in (1, 2)
    assert any("(VN)" in line for line in summary_lines(plan))
