"""Sensitivity of simulated scenarios: known answer, common random numbers, executors, resume,
outputs, and bad input (one line, exit 2, nothing written)."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gatesim import SensitivityOptions, sensitivity
from gatesim.cli import main
from gatesim.experiment.sensitivity_run import ScenarioModel
from gatesim.experiment.store import PartialStore
from gatesim.experiment.uncertainty import DesignSpace

#: Lane A (one exponential server) and lane B (independent: own source, station, route). Only
#: a1's service mean can move lane A's time in system: the nine other uncertain values belong
#: to lane B, to cost factors or to trade values, which never touch lane A's trucks.
TWO_LANES = """\
name: two_lanes
days: 2
replications: 2
seed: 7
nodes: {src: {kind: source}, out: {kind: sink}, src_b: {kind: source}, out_b: {kind: sink}}
stations:
  a1: {servers: 1, service: {dist: exponential, mean: 1.0}}
  b1: {servers: 2, queue_capacity: 100, service: {dist: exponential, mean: 2.0}}
routes:
  ra: {origin: src, steps: [a1], destination: out}
  rb: {origin: src_b, steps: [b1], destination: out_b}
arrivals:
  a: {lane: A, direction: export, cargo: c, route: ra, per_day: 600}
  b: {lane: B, direction: export, cargo: c, route: rb, per_day: 500}
trade_value: {per_truck: {c: 1000}}
uncertain:
  stations.a1.service.mean: {low: 0.8, high: 1.6, why: "the one that matters"}
  stations.b1.service.mean: {low: 1.0, high: 3.0, why: "other lane"}
  stations.b1.servers: {low: 2, high: 4, why: "other lane"}
  stations.b1.queue_capacity: {low: 50, high: 100, why: "other lane"}
  arrivals.b.per_day: {low: 300, high: 600, why: "other lane"}
  costs.idle_fuel_l_per_truck_h: {low: 2, high: 4, why: "cost only"}
  costs.co2_kg_per_l: {low: 2.5, high: 2.9, why: "cost only"}
  costs.idling_share: {low: 0.5, high: 1.0, why: "cost only", dist: triangular, mode: 0.9}
  costs.transshipment_cny_per_truck: {low: 800, high: 1000, why: "cost only"}
  trade_value.per_truck.c: {low: 500, high: 2000, why: "value only"}
"""
KPI = "time_in_system_mean_h.A"
RELEVANT = "stations.a1.service.mean"
MORRIS = SensitivityOptions(method="morris", budget=22, resamples=100)  # 2 trajectories


@pytest.fixture
def two_lanes(tmp_path: Path) -> Path:
    path = tmp_path / "two_lanes.yaml"
    path.write_text(TWO_LANES, encoding="utf-8")
    return path


def test_only_the_relevant_assumption_moves_the_kpi(two_lanes: Path) -> None:
    """Known answer: the relevant factor ranks first; under common random numbers the nine
    others leave lane A's trucks exactly as they were, so their μ* is exactly 0 (not ~0)."""
    result = sensitivity(two_lanes, [KPI], MORRIS, replications=1)
    ranking = result.ranking(KPI)
    assert ranking.index[0] == RELEVANT
    assert ranking.loc[RELEVANT, "mu_star"] > 0.01  # hours: a1 runs at utilisation 0.33-0.67
    others = ranking.drop(index=RELEVANT)
    assert len(others) == 9 and (others["mu_star"] == 0.0).all() and (others["sigma"] == 0).all()
    assert "9 of the 10 have no effect at all" in result.reading(KPI)
    assert result.design["tasks_run"] == 22 and result.design["replications_per_point"] == 1


def test_sobol_stage_gives_the_relevant_factor_all_the_variance(two_lanes: Path) -> None:
    options = SensitivityOptions(budget=64, top=1, resamples=200)  # Sobol: 16 x (2 + 2)
    result = sensitivity(two_lanes, [KPI], options, replications=1)
    rows = {r["factor"]: r for r in result.sobol_rows}
    assert set(rows) == {RELEVANT, "other assumptions"}
    assert rows["other assumptions"]["ST"] == 0.0  # the nine inert ones, varied together
    for index in ("S1", "ST"):  # the KPI depends on one factor only: both indices are 1
        assert abs(rows[RELEVANT][index] - 1.0) <= rows[RELEVANT][f"{index}_ci"]
    assert result.explained(KPI) == (1.0, 0.0)


def test_common_random_numbers_across_design_points(two_lanes: Path) -> None:
    """The same design point twice gives the same KPI; a point differing only in inert values
    too; changing the relevant value changes it."""
    space = DesignSpace(two_lanes)
    model = ScenarioModel(space, [KPI], replications=2)
    centre = np.full((1, len(space.factors)), 0.5)
    inert = centre.copy()
    inert[0, 1:] = 0.9  # every factor but the first (stations.a1.service.mean)
    relevant = centre.copy()
    relevant[0, 0] = 0.9
    first, again = model(centre), model(centre)
    assert first[0, 0] == again[0, 0]
    assert model(inert)[0, 0] == first[0, 0]
    assert model(relevant)[0, 0] > first[0, 0]
    assert space.factors[0].name == RELEVANT


def test_executors_give_identical_results(two_lanes: Path) -> None:
    serial = sensitivity(two_lanes, [KPI, "throughput_per_day"], MORRIS, replications=1)
    pool = sensitivity(two_lanes, [KPI, "throughput_per_day"], MORRIS, replications=1, jobs=2)
    dask = sensitivity(
        two_lanes, [KPI, "throughput_per_day"], MORRIS, replications=1, dask_address="local"
    )
    pd.testing.assert_frame_equal(serial.table(), pool.table(), check_exact=True)
    pd.testing.assert_frame_equal(serial.table(), dask.table(), check_exact=True)
    assert (pool.design["executor"], dask.design["executor"]) == ("processes", "dask")


def test_a_resumed_analysis_reuses_every_finished_run(two_lanes: Path, tmp_path: Path) -> None:
    store = PartialStore(tmp_path / "runs.partial")
    first = sensitivity(two_lanes, [KPI], MORRIS, replications=2, store=store)
    again = sensitivity(two_lanes, [KPI], MORRIS, replications=2, store=store)
    assert store.count() == 44 and first.design["tasks_run"] == 44
    assert again.design["tasks_run"] == 0 and again.design["tasks_reused"] == 44
    pd.testing.assert_frame_equal(first.table(), again.table(), check_exact=True)


def test_cli_writes_tables_figures_and_manifest(
    two_lanes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sens"
    code = main(["sensitivity", str(two_lanes), "--kpi", KPI, "--method", "morris",
                 "--budget", "22", "-r", "1", "--report", "--out", str(out)])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert f"{KPI}: most influential assumptions first" in printed and RELEVANT in printed
    names = {p.name for p in out.iterdir()}
    assert {"sensitivity.json", "sensitivity.csv", "manifest.json"} <= names
    assert {
        "tornado-time_in_system_mean_h_A.png",
        "interaction-time_in_system_mean_h_A.png",
    } <= names
    document = json.loads((out / "sensitivity.json").read_text())
    assert document["kind"] == "sensitivity" and document["kpis"] == [KPI]
    assert len(document["factors"]) == 10 and len(document["morris"]) == 10
    assert document["reading"][KPI].startswith("1 of 10 assumptions account for 90 %")
    table = pd.read_csv(out / "sensitivity.csv")
    assert len(table) == 10 and table.loc[table["mu_star"].idxmax(), "factor"] == RELEVANT
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["design"]["common_random_numbers"] is True
    assert manifest["resolved_scenario"]["name"] == "two_lanes"
    assert not (tmp_path / "sens.partial").exists()  # the run store goes once results are in
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'data-report-kind="sensitivity"' in page and "1 of 10 assumptions account" in page
    assert page.count("data:image/png;base64") == 2 and "the one that matters" in page


BAD_FILES = {
    "low >= high": (
        "stations.a1.service.mean: {low: 1.6, high: 0.8, why: x}",
        "uncertain.stations.a1.service.mean: low must be below high",
    ),
    "unknown path": (
        "stations.a1.service.maen: {low: 1, high: 2, why: x}",
        "uncertain.stations.a1.service.maen: unknown field 'maen'",
    ),
    "unknown station": (
        "stations.zz.servers: {low: 1, high: 2, why: x}",
        "uncertain.stations.zz.servers: no such field 'zz'",
    ),
    "field of another distribution": (
        "stations.a1.service.mode: {low: 1, high: 2, why: x}",
        "uncertain.stations.a1.service.mode: no such field in this scenario",
    ),
    "not numeric": (
        "stations.a1.service.dist: {low: 1, high: 2, why: x}",
        "'stations.a1.service.dist' is not a numeric field",
    ),
    "not an assumption": (
        "seed: {low: 1, high: 2, why: x}",
        "uncertain.seed: this field is not an assumption",
    ),
    "range leaves the schema": (
        "stations.a1.servers: {low: 0, high: 2, why: x}",
        "uncertain.stations.a1.servers.low: gives an invalid scenario",
    ),
    "fractional server count": (
        "stations.a1.servers: {low: 1, high: 2.5, why: x}",
        "a whole-number field needs whole-number low and high",
    ),
    "also mixes whole and real numbers": (
        "stations.a1.service.mean: {low: 1, high: 2, why: x, also: [stations.b1.servers]}",
        "must all be whole numbers or all not",
    ),
    "also path unknown": (
        "stations.a1.service.mean: {low: 1, high: 2, why: x, also: [stations.b2.servers]}",
        "uncertain.stations.a1.service.mean: no such field 'b2'",
    ),
    "triangular without mode": (
        "stations.a1.service.mean: {low: 1, high: 2, why: x, dist: triangular}",
        "a triangular range needs a mode",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_uncertain_ranges_get_one_line_and_exit_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entry, expected = BAD_FILES[case]
    path = tmp_path / "bad.yaml"
    head = TWO_LANES.split("uncertain:")[0]
    path.write_text(f"{head}uncertain:\n  {entry}\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["sensitivity", str(path), "--kpi", KPI, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and str(path) in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "out.partial").exists()


BAD_ARGUMENTS = {
    "unknown KPI": (["--kpi", "time_in_sytem_mean_h.A"], "unknown KPI (did you mean"),
    "budget too small for Morris": (
        ["--kpi", KPI, "--budget", "21"],
        "--budget: too small for Morris",
    ),
    "budget too small for Sobol": (
        ["--kpi", KPI, "--budget", "30"],
        "too small for Sobol indices of 6 groups",
    ),
    "unknown method": (["--kpi", KPI, "--method", "fast"], "invalid choice: 'fast'"),
    "no KPI": ([], "the following arguments are required: --kpi"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS, ids=list(BAD_ARGUMENTS))
def test_bad_arguments_get_one_line_and_exit_2(
    case: str, two_lanes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments, expected = BAD_ARGUMENTS[case]
    out = tmp_path / "out"
    with pytest.raises(SystemExit) if case in ("unknown method", "no KPI") else nullcontext():
        code = main(["sensitivity", str(two_lanes), *arguments, "--out", str(out)])
        assert code == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "out.partial").exists()


def test_a_child_can_drop_an_inherited_range(two_lanes: Path, tmp_path: Path) -> None:
    child = tmp_path / "child.yaml"
    child.write_text(
        "extends: two_lanes.yaml\nname: child\nuncertain: {stations.b1.servers: null}\n",
        encoding="utf-8",
    )
    names = [f.name for f in DesignSpace(child).factors]
    assert len(names) == 9 and "stations.b1.servers" not in names


@pytest.mark.parametrize(("name", "count"), [("baseline", 49), ("plan_2028", 55)])
def test_the_shipped_ranges_load_and_cover_the_assumed_values(name: str, count: int) -> None:
    """Every range loads, each end gives a valid scenario (checked when the design space is
    built), holds the file's own value, and says why."""
    root = Path(__file__).resolve().parents[1] / "scenarios"
    space = DesignSpace(root / f"{name}_uncertain.yaml")
    assert len(space.factors) == count
    assert all(f.low <= f.nominal <= f.high for f in space.factors), [
        f.name for f in space.factors if not f.low <= f.nominal <= f.high
    ]
    assert all(len(f.why) > 10 for f in space.factors)


def test_the_demand_ranges_name_the_seasons_they_address() -> None:
    """parts/uncertainty_demand.yaml addresses seasons by position: each entry's reason starts
    with the name of the season at that position (and at every `also` position), so a
    reordered calendar fails here instead of shifting a range onto another season."""
    root = Path(__file__).resolve().parents[1] / "scenarios"
    space = DesignSpace(root / "year_2025_uncertain.yaml")
    seasons = space.raw["demand"]["seasons"]
    checked = 0
    for f in space.factors:
        for path in f.paths:
            parts = path.split(".")
            if parts[:2] == ["demand", "seasons"]:
                assert f.why.startswith(seasons[int(parts[2])]["name"] + ":"), path
                checked += 1
    assert checked == 22  # every season of the calendar, each year's copy included
    assert len(space.factors) == 61
