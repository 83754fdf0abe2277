"""Answers with their uncertainty: ``plan`` and ``capacity`` over draws of the uncertain values.

Closed forms used:
* a station open 24 h with c servers and deterministic service s minutes clears 1440·c/s
  trucks a day under saturated entry, so with s uniform on [a, b] the capacity's q-quantile is
  1440·c / (a + (1 - q)(b - a)); a Latin hypercube of N draws puts exactly one draw in each
  of the N equal strata of [0, 1], so the drawn values' q-quantile is within 1/N of q;
* utilisation of that station under λ trucks/day is ρ = λ s / (1440 c) (below 1), about 1 at
  and above saturation; demand growing 100 %/yr doubles λ each year.
"""

from __future__ import annotations

import json
import math
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gatesim
from gatesim.cli import main
from gatesim.core.errors import ScenarioError
from gatesim.experiment.draws import DrawOptions, shares, summary, unit_design
from gatesim.experiment.draws_output import DrawsResult
from gatesim.report.draws_console import draws_lines

SERVICE_LOW, SERVICE_HIGH, SERVERS = 10.0, 20.0, 2
#: One deterministic station open 24 h; its service time is the one uncertain value.
DETERMINISTIC = f"""\
name: det
days: 12
warmup_days: 2
replications: 2
seed: 3
nodes: {{src: {{kind: source}}, out: {{kind: sink}}}}
stations:
  s1: {{servers: {SERVERS}, service: {{dist: deterministic, value: 15.0}}}}
routes: {{r: {{origin: src, steps: [s1], destination: out}}}}
arrivals: {{a: {{lane: L, direction: export, cargo: c, route: r, per_day: 100}}}}
uncertain:
  stations.s1.service.value: {{low: {SERVICE_LOW}, high: {SERVICE_HIGH}, why: "test"}}
"""
#: 12 trucks a day in 2025 doubling every year, one-hour services; the server count (1-4) is
#: uncertain, so ρ(year, c) = 0.5 · 2^(year - 2025) / c.
GROWING = """\
name: grow
days: 22
warmup_days: 2
replications: 2
seed: 3
start_date: 2025-01-01
demand: {growth: {annual_rate: 1.0, base_year: 2025}}
nodes: {src: {kind: source}, out: {kind: sink}}
stations:
  s1: {servers: 2, service: {dist: deterministic, value: 60.0}}
routes: {r: {origin: src, steps: [s1], destination: out}}
arrivals: {a: {lane: L, direction: export, cargo: c, route: r, per_day: 12}}
uncertain:
  stations.s1.servers: {low: 1, high: 4, why: "test"}
"""
UTILISATION = "station.s1.utilization"


@pytest.fixture
def deterministic(tmp_path: Path) -> Path:
    path = tmp_path / "det.yaml"
    path.write_text(DETERMINISTIC, encoding="utf-8")
    return path


@pytest.fixture
def growing(tmp_path: Path) -> Path:
    path = tmp_path / "grow.yaml"
    path.write_text(GROWING, encoding="utf-8")
    return path


def _capacity(path: Path, draws: int, **kw: object) -> DrawsResult:
    result = gatesim.capacity(path, method="saturated", draws=draws, **kw)  # type: ignore[arg-type]
    assert isinstance(result, DrawsResult)
    return result


# --------------------------------------------------------------------------- the design
@pytest.mark.parametrize("sampler", ["lhs", "sobol"])
def test_draws_are_seeded_and_stratified(sampler: str) -> None:
    first = unit_design(3, DrawOptions(16, sampler, seed=5))  # type: ignore[arg-type]
    again = unit_design(3, DrawOptions(16, sampler, seed=5))  # type: ignore[arg-type]
    other = unit_design(3, DrawOptions(16, sampler, seed=6))  # type: ignore[arg-type]
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert first.shape == (16, 3) and ((first >= 0) & (first < 1)).all()
    for column in first.T:  # both designs put one point in each sixteenth of every axis
        assert sorted(np.floor(column * 16).astype(int)) == list(range(16))


def test_summary_and_shares() -> None:
    stat = summary([3.0, None, 1.0, 2.0, float("nan"), 4.0])
    assert (stat["answered"], stat["draws"], stat["median"]) == (4, 6, 2.5)
    assert stat["interval90"] == pytest.approx([1.15, 3.85])  # linear between draws
    assert summary([1, 2, 3, 4], discrete=True)["interval90"] == [1.0, 4.0]
    assert summary([1, 2, 3, 4], discrete=True)["median"] == 2.0  # a value some draw gave
    assert summary([None])["median"] is None
    assert shares([2027, None, 2026, 2027]) == [
        {"value": 2026, "draws": 1, "share": 0.25},
        {"value": 2027, "draws": 2, "share": 0.5},
        {"value": None, "draws": 1, "share": 0.25},
    ]


# --------------------------------------------------------------------------- capacity
def test_capacity_over_draws_follows_the_transformed_uniform(deterministic: Path) -> None:
    draws = 16
    result = _capacity(deterministic, draws)
    table = result.to_frame()
    service = table["stations.s1.service.value"].to_numpy()
    capacity = table["capacity.L.export"].to_numpy()
    assert ((service >= SERVICE_LOW) & (service <= SERVICE_HIGH)).all()
    # each draw: the closed form within a truck a day (whole trucks over 10 measured days)
    np.testing.assert_allclose(capacity, 1440 * SERVERS / service, rtol=0.01)
    flow = result.summary["flows"]["L.export"]
    assert flow["capacity"]["answered"] == draws
    assert flow["stations"] == [{"station": "s1", "binds_share": 1.0, "busiest_share": 1.0}]

    def closed_form_quantile(q: float) -> float:
        q = min(max(q, 0.0), 1.0)
        return 1440 * SERVERS / (SERVICE_LOW + (1 - q) * (SERVICE_HIGH - SERVICE_LOW))

    stat = flow["capacity"]
    for q, value in ((0.5, stat["median"]), (0.05, stat["interval90"][0]),
                     (0.95, stat["interval90"][1])):  # fmt: skip
        low, high = closed_form_quantile(q - 1 / draws), closed_form_quantile(q + 1 / draws)
        assert low * 0.99 <= value <= high * 1.01, (q, value, low, high)
    assert stat["median"] == pytest.approx(float(np.median(capacity)))


def test_executors_give_identical_draws(deterministic: Path) -> None:
    serial = _capacity(deterministic, 4)
    pool = _capacity(deterministic, 4, jobs=2)
    dask = _capacity(deterministic, 4, dask="local")
    pd.testing.assert_frame_equal(serial.table, pool.table, check_exact=True)
    pd.testing.assert_frame_equal(serial.table, dask.table, check_exact=True)
    assert serial.summary == pool.summary == dask.summary
    assert dask.document["execution"]["executor"] == "dask"


# --------------------------------------------------------------------------- plan
def _years_by_hand(servers: int, first: int = 2025, threshold: float = 0.8) -> int:
    """The first year whose utilisation 0.5 · 2^(year - 2025) / c exceeds the threshold."""
    year = first
    while 0.5 * 2 ** (year - 2025) / servers <= threshold:
        year += 1
    return year


def test_plan_first_missed_year_is_the_hand_computed_one(growing: Path) -> None:
    result = gatesim.plan(growing, [f"{UTILISATION}<=0.8"], [], draws=8, years=(2025, 2030))
    assert isinstance(result, DrawsResult)
    table = result.to_frame()
    expected = [_years_by_hand(int(c)) for c in table["stations.s1.servers"]]
    assert list(table["first_missed_year"]) == expected
    assert sorted(set(table["stations.s1.servers"])) == [1, 2, 3, 4]  # LHS spans the range
    counted = {e["value"]: e["draws"] for e in result.summary["first_missed_year"]}
    assert counted == {y: expected.count(y) for y in set(expected)}
    for entry in result.document["draws"]:  # the scan stops at the first missed year
        scanned = [y["year"] for y in entry["years"]]
        assert scanned == list(range(2025, entry["first_missed_year"] + 1))


def test_plan_years_not_missed_by_the_last_year(growing: Path) -> None:
    result = gatesim.plan(growing, [f"{UTILISATION}<=0.8"], [], draws=4, years=(2025, 2026))
    assert isinstance(result, DrawsResult)
    hand = [_years_by_hand(int(c)) for c in result.table["stations.s1.servers"]]
    shown = [None if y > 2026 else y for y in hand]
    assert [None if pd.isna(y) else y for y in result.table["first_missed_year"]] == shown


def test_plan_sizes_over_draws(deterministic: Path) -> None:
    """The fewest servers keeping utilisation at most 0.6: ceil(ρ₁ / 0.6) with ρ₁ = 100 s /
    1440 for one server (either neighbour within 5 % of a boundary, where the verdict is
    noise's)."""
    result = gatesim.plan(
        deterministic, [f"{UTILISATION}<=0.6"], ["stations.s1.servers=1:6"], draws=8
    )
    assert isinstance(result, DrawsResult)
    for _, row in result.table.iterrows():
        load = 100 * row["stations.s1.service.value"] / 1440 / 0.6
        allowed = {math.ceil(load)} | ({round(load), round(load) + 1}
                                       if abs(load - round(load)) < 0.05 else set())  # fmt: skip
        assert row["chosen.stations.s1.servers"] in allowed, (load, row)
    stat = result.summary["dimensions"]["stations.s1.servers"]
    assert stat["answered"] == 8 and result.summary["found_share"] == 1.0
    assert stat["median"] in set(result.table["chosen.stations.s1.servers"])


def test_plan_draws_with_nothing_in_range_say_how_far_they_miss(deterministic: Path) -> None:
    """Utilisation 100 s / (1440 c) with c <= 2 and s >= 10 is at least 0.35: never <= 0.2."""
    result = gatesim.plan(
        deterministic, [f"{UTILISATION}<=0.2"], ["stations.s1.servers=1:2"], draws=3
    )
    assert isinstance(result, DrawsResult)
    assert result.summary["found_share"] == 0.0 and not result.table["found"].any()
    for entry in result.document["draws"]:
        load = 100 * entry["values"]["stations.s1.service.value"] / 1440 / 2
        assert entry["reported"]["values"] == {"stations.s1.servers": 2}
        assert entry["reported"]["targets"][0]["mean"] == pytest.approx(load, rel=0.1)
    lines = draws_lines(result.document)
    assert "no answer in any draw (found in 0 of 3 draws)" in lines[1]
    assert lines[2].startswith(f"  none in range in 3 draws; {UTILISATION} at the largest")


def test_plan_draws_resume_from_the_store(growing: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = gatesim.plan(growing, [f"{UTILISATION}<=0.8"], [], draws=3, years=(2025, 2027),
                         store=store)  # fmt: skip
    again = gatesim.plan(growing, [f"{UTILISATION}<=0.8"], [], draws=3, years=(2025, 2027),
                         store=store, jobs=2)  # fmt: skip
    assert isinstance(first, DrawsResult) and isinstance(again, DrawsResult)
    assert first.resumed == 0 and again.resumed > 0
    pd.testing.assert_frame_equal(first.table, again.table, check_exact=True)


def test_plan_draws_identical_on_every_executor(growing: Path) -> None:
    def scan(**kw: object) -> DrawsResult:
        result = gatesim.plan(growing, [f"{UTILISATION}<=0.8"], [], draws=4,
                              years=(2025, 2028), **kw)  # type: ignore[arg-type]  # fmt: skip
        assert isinstance(result, DrawsResult)
        return result

    serial, pool, dask = scan(), scan(jobs=2), scan(dask="local")
    pd.testing.assert_frame_equal(serial.table, pool.table, check_exact=True)
    pd.testing.assert_frame_equal(serial.table, dask.table, check_exact=True)
    assert serial.document["draws"] == pool.document["draws"] == dask.document["draws"]


def test_cli_capacity_draws_resume_reuses_the_store(
    deterministic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Replications an interrupted run left in DIR.partial are reused with --resume (here put
    there by the same measurement from Python), and the store goes once the results are in."""
    out = tmp_path / "cap"
    first = _capacity(deterministic, 3, store=tmp_path / "cap.partial")
    assert first.resumed == 0
    code = main(["capacity", str(deterministic), "--draws", "3", "--method", "saturated",
                 "--out", str(out), "--resume", "-q"])  # fmt: skip
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["resumed_replications"] > 0
    resumed = pd.read_csv(out / "draws.csv")
    pd.testing.assert_frame_equal(resumed, pd.read_csv(_saved(first, tmp_path)), check_exact=True)
    assert not (tmp_path / "cap.partial").exists()


def _saved(result: DrawsResult, tmp_path: Path) -> Path:
    return result.save(tmp_path / "python") / "draws.csv"


# --------------------------------------------------------------------------- the CLI
def test_cli_writes_draws_files_console_and_report(
    growing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "years"
    code = main(["plan", str(growing), "--target", f"{UTILISATION}<=0.8", "--years", "2025:2030",
                 "--draws", "4", "--report", "--out", str(out)])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert f"{UTILISATION} <= 0.8 first missed: 20" in printed and "% of draws" in printed
    assert {p.name for p in out.iterdir()} == {
        "draws.json", "draws.csv", "manifest.json", "report.html"
    }  # fmt: skip
    document = json.loads((out / "draws.json").read_text())
    assert document["kind"] == "plan_draws" and len(document["draws"]) == 4
    assert document["design"]["sampler"] == "lhs" and document["common_random_numbers"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "plan_draws" and manifest["resolved_scenario"]["name"] == "grow"
    assert len(pd.read_csv(out / "draws.csv")) == 4
    assert not (tmp_path / "years.partial").exists()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'data-report-kind="draws"' in page and "first missed" in page
    assert page.count("data:image/png;base64") == 1


def test_cli_capacity_draws(
    deterministic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cap"
    code = main(["capacity", str(deterministic), "--draws", "3", "--method", "saturated",
                 "--sampler", "sobol", "--out", str(out)])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "L.export: capacity median" in printed and "binds (share of draws): s1 100 %" in printed
    document = json.loads((out / "draws.json").read_text())
    assert document["kind"] == "capacity_draws" and document["design"]["sampler"] == "sobol"


NO_RANGES = DETERMINISTIC.split("uncertain:")[0]
BAD = {
    "draws 0": (["capacity", "{det}", "--draws", "0"], "--draws: must be a positive integer"),
    "draws negative": (
        ["plan", "{det}", "--target", "x<=1", "--vary", "stations.s1.servers=1:3", "--draws", "-2"],
        "--draws: must be a positive integer",
    ),
    "no uncertain values": (["capacity", "{plain}", "--draws", "3"], "no uncertain values"),
    "plan without uncertain values": (
        [
            "plan",
            "{plain}",
            "--target",
            f"{UTILISATION}<=1",
            "--vary",
            "stations.s1.servers=1:3",
            "--draws",
            "3",
        ],
        "no uncertain values",
    ),
    "years without draws": (
        ["plan", "{grow}", "--target", "x<=1", "--years", "2025:2027"],
        "--years: needs --draws N",
    ),
    "years backwards": (
        ["plan", "{grow}", "--target", "x<=1", "--years", "2027:2025", "--draws", "2"],
        "needs FIRST:LAST",
    ),
    "resume without draws": (["capacity", "{det}", "--resume"], "--resume: needs --draws N"),
    "a drawn field searched": (
        ["plan", "{grow}", "--target", "x<=1", "--vary", "stations.s1.servers=1:3", "--draws", "2"],
        "--vary: is an uncertain value of the scenario",
    ),
    "unknown KPI (found by the first run)": (
        ["plan", "{grow}", "--target", "nosuch<=1", "--years", "2025:2026", "--draws", "2"],
        "--target: unknown KPI",
    ),
    "neither vary nor years": (
        ["plan", "{grow}", "--target", "x<=1", "--draws", "2"],
        "plan needs at least one --vary",
    ),
}
ARGPARSE = ("draws 0", "draws negative", "years backwards")


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_input_gets_one_line_exit_2_and_nothing_written(
    case: str, deterministic: Path, growing: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    plain = tmp_path / "plain.yaml"
    plain.write_text(NO_RANGES, encoding="utf-8")
    arguments, expected = BAD[case]
    files = {"det": deterministic, "grow": growing, "plain": plain}
    argv = [a.format(**files) for a in arguments]
    out = tmp_path / "out"
    with pytest.raises(SystemExit) if case in ARGPARSE else nullcontext():
        code = main([*argv, "--out", str(out)])
        assert code == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err, err
    if "uncertain values" in case:
        assert f"{plain}: uncertain:" in err  # names the file and the field
    assert not out.exists() and not (tmp_path / "out.partial").exists()


def test_bad_draw_options_in_python(deterministic: Path) -> None:
    with pytest.raises(ScenarioError, match="--draws: must be a positive integer"):
        gatesim.capacity(deterministic, draws=0)
    with pytest.raises(ScenarioError, match="--sampler: must be one of lhs, sobol"):
        gatesim.capacity(deterministic, draws=2, sampler="grid")  # type: ignore[arg-type]
    with pytest.raises(gatesim.UsageError, match="draws its values from a scenario file"):
        gatesim.capacity(gatesim.load_scenario(deterministic), draws=2)
