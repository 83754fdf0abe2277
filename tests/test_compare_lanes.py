"""compare for analysts (issue 21): the console per lane and direction with paired differences,
``--format table|md|csv`` never cut when not a terminal, ``comparison.csv`` long with every KPI
(checked against comparison.json), and members that would be paired unfairly refused."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gatesim.cli import main
from gatesim.experiment.compare import breakdown, lanes_of
from gatesim.report.console import format_ci
from gatesim.report.intervals import bounded_kpis
from gatesim.report.studies import _ci, capacity_cell, signed_ci

#: Two lanes, one direction each; a long name shows that piped output never cuts it.
LONG_NAME = "s9_a_scenario_name_far_longer_than_any_column_would_hold_in_eighty_characters"
SCENARIO = f"""\
name: {LONG_NAME}
days: 4
warmup_days: 1
replications: 2
seed: 3
nodes:
  src: {{kind: source}}
  out: {{kind: sink}}
stations:
  xray:
    servers: 1
    service: {{dist: exponential, mean: 10}}
routes:
  r: {{origin: src, steps: [xray], destination: out}}
arrivals:
  a: {{lane: hn_main, direction: export, cargo: goods, route: r, per_day: 40}}
  b: {{lane: tt_side, direction: import, cargo: goods, route: r, per_day: 20}}
"""
FASTER = SCENARIO.replace(f"name: {LONG_NAME}", "name: faster").replace("mean: 10", "mean: 6")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {"base": tmp_path / "base.yaml", "faster": tmp_path / "faster.yaml"}
    paths["base"].write_text(SCENARIO, encoding="utf-8")
    paths["faster"].write_text(FASTER, encoding="utf-8")
    return paths


def compare(*args: Any) -> int:
    return main(["compare", *(str(a) for a in args)])


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- breakdown names
def test_lane_and_direction_come_from_the_breakdown_suffix() -> None:
    keys = ["throughput_per_day.hn_main.export", "throughput_per_day.direction.import"]
    lanes = lanes_of(keys)
    assert lanes == {"hn_main"}  # 'direction' is a breakdown, not a lane
    assert breakdown("time_in_system_p95_h.hn_main.export", lanes) == ("hn_main", "export")
    assert breakdown("backlog_at_report_mean.hn_main", lanes) == ("hn_main", "")
    assert breakdown("throughput_per_day.direction.import", lanes) == ("", "import")
    assert breakdown("throughput_per_day", lanes) == ("", "")
    assert breakdown("throughput_per_day.cargo.goods", lanes) == ("", "")
    assert breakdown("station.hn_main.wait_mean_min", lanes) == ("", "")  # a station, not a lane
    assert breakdown("throughput_per_day.unknown_lane.export", lanes) == ("", "")


# --------------------------------------------------------------------------- console
def test_console_has_every_lane_with_paired_differences_and_cuts_nothing(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cmp"
    assert compare(files["base"], files["faster"], "--out", out) == 0
    printed = capsys.readouterr().out  # captured: not a terminal
    document = read(out / "comparison.json")
    assert LONG_NAME in printed  # whole, on one line, in every table
    assert all("…" not in line for line in printed.splitlines())
    lines = {}
    for line in printed.splitlines():
        cells = [c.strip() for c in line.strip()[1:-1].split("│")]
        if len(cells) == 9 and cells[0] in ("hn_main", "tt_side"):
            lines[(cells[0], cells[1], cells[2])] = cells[3:]
    assert set(lines) == {
        (lane, direction, name)
        for lane, direction in (("hn_main", "export"), ("tt_side", "import"))
        for name in (LONG_NAME, "faster")
    }
    faster = document[1]
    shown = bounded_kpis(faster["kpis"])  # levels as the console shows them (never below 0)
    cells = lines[("tt_side", "import", "faster")]
    suffix = "tt_side.import"
    assert cells == [
        format_ci(shown[f"throughput_per_day.{suffix}"]),
        signed_ci(faster["diff_vs_first"][f"throughput_per_day.{suffix}"]),
        format_ci(shown[f"time_in_system_mean_h.{suffix}"], 2),
        signed_ci(faster["diff_vs_first"][f"time_in_system_mean_h.{suffix}"], 2),
        format_ci(shown[f"time_in_system_p95_h.{suffix}"], 2),
        signed_ci(faster["diff_vs_first"][f"time_in_system_p95_h.{suffix}"], 2),
    ]
    assert lines[("tt_side", "import", LONG_NAME)][1] == ""  # no difference for the first
    # a faster x-ray: every replication's mean time in system is shorter on both lanes
    for lane in ("hn_main.export", "tt_side.import"):
        assert faster["diff_vs_first"][f"time_in_system_mean_h.{lane}"]["ci95"][1] < 0


def test_capacity_per_lane_beside_its_paired_difference(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cap"
    flags = ("--capacity", "--days", 6, "--format", "md", "--out", out)
    assert compare(files["base"], files["faster"], *flags) == 0
    rows = markdown_rows(capsys.readouterr().out, "**By lane and direction")
    assert rows[0][3:7] == ["cleared/day", "Δ cleared/day", "capacity/day", "Δ capacity/day"]
    document = read(out / "comparison.json")
    assert [row[2] for row in rows[1:]] == [LONG_NAME, "faster"] * 2
    for row in rows[1:]:
        entry = document[1] if row[2] == "faster" else document[0]
        suffix = f"{row[0]}.{row[1]}"
        assert row[5] == capacity_cell(entry["capacity"][suffix])
        assert "[" in row[5]  # measured with an interval
        expected = (
            _ci(entry["capacity_diff_vs_first"][suffix], signed=True)
            if entry is document[1]
            else ""
        )
        assert row[6] == expected


def markdown_rows(printed: str, title: str) -> list[list[str]]:
    """The header and rows of the Markdown table after ``title``."""
    lines = printed.split(title, 1)[1].split("\n\n", 2)[1].splitlines()
    table = [line for line in lines if line.startswith("| ") and "| --- |" not in line]
    return [[cell.strip() for cell in line[2:-2].split(" | ")] for line in table]


def test_signed_ci_shows_signs_and_undefined_bounds() -> None:
    assert signed_ci({"mean": -0.146, "ci95": [-0.25, 0.04]}, 2) == "-0.15 [-0.25, +0.04]"
    assert signed_ci({"mean": 3.0, "ci95": [None, None]}) == "+3.0"
    assert signed_ci(None) == "-"


def test_csv_and_markdown_formats_hold_the_same_lane_rows(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert compare(files["base"], files["faster"], "--out", tmp_path / "c", "--format", "csv") == 0
    blocks = capsys.readouterr().out.split("\n\n")
    lane_block = next(b for b in blocks if b.startswith("# By lane and direction"))
    rows = list(csv.reader(io.StringIO(lane_block.split("\n", 1)[1])))
    assert rows[0][:4] == ["lane", "direction", "scenario", "cleared/day"]
    assert [row[:3] for row in rows[1:] if row] == [
        ["hn_main", "export", LONG_NAME],
        ["hn_main", "export", "faster"],
        ["tt_side", "import", LONG_NAME],
        ["tt_side", "import", "faster"],
    ]
    headline = next(b for b in blocks if b.startswith("# Headline KPIs"))
    labels = [row[0] for row in csv.reader(io.StringIO(headline.split("\n", 1)[1])) if row]
    assert "" not in labels  # every row names its KPI
    out = tmp_path / "m"
    assert compare(files["base"], files["faster"], "--out", out, "--format", "md") == 0
    printed = capsys.readouterr().out
    assert f"| hn_main | export | {LONG_NAME} |" in printed
    assert "| lane | direction | scenario | cleared/day | Δ cleared/day |" in printed


def test_unknown_format_is_one_line_and_writes_nothing(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never"
    with pytest.raises(SystemExit) as exit_info:
        compare(files["base"], files["faster"], "--out", out, "--format", "xlsx")
    assert exit_info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not out.exists()


# --------------------------------------------------------------------------- comparison.csv
def test_comparison_csv_is_long_with_every_kpi_of_comparison_json(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "cmp"
    assert compare(files["base"], files["faster"], "--out", out, "-q") == 0
    document = read(out / "comparison.json")
    table = pd.read_csv(out / "comparison.csv", keep_default_na=False, na_values=[""])
    assert list(table.columns) == [
        "scenario", "kpi", "lane", "direction", "mean", "lo", "hi", "diff", "diff_lo", "diff_hi",
    ]  # fmt: skip
    expected = [(e["folder"], kpi) for e in document for kpi in e["kpis"]]
    assert list(zip(table["scenario"], table["kpi"], strict=True)) == expected
    rows = table.set_index(["scenario", "kpi"])
    for entry in document:
        for kpi, stat in entry["kpis"].items():
            row = rows.loc[(entry["folder"], kpi)]
            assert_same(row["mean"], stat["mean"])
            assert_same(row["lo"], stat["ci95"][0]) and assert_same(row["hi"], stat["ci95"][1])
            diff = entry.get("diff_vs_first", {}).get(kpi, {"mean": None, "ci95": [None, None]})
            assert_same(row["diff"], diff["mean"])
            assert_same(row["diff_lo"], diff["ci95"][0])
            assert_same(row["diff_hi"], diff["ci95"][1])
    lanes = rows.xs("faster")
    assert lanes.loc["time_in_system_p95_h.tt_side.import", ["lane", "direction"]].tolist() == [
        "tt_side", "import",
    ]  # fmt: skip
    assert lanes.loc["backlog_at_report_mean.hn_main", ["lane", "direction"]].fillna("").tolist() \
        == ["hn_main", ""]  # fmt: skip
    gate_wide = lanes.loc["throughput_per_day", ["lane", "direction"]]
    assert gate_wide.isna().all()  # empty cells


def assert_same(cell: Any, value: float | None) -> bool:
    if value is None:
        assert isinstance(cell, float) and math.isnan(cell)
    else:
        assert cell == pytest.approx(value, rel=1e-12, abs=1e-12)
    return True


# --------------------------------------------------------------------------- pairing
@pytest.mark.parametrize(
    ("edit", "line"),
    [
        (("days: 4", "days: 5"), "days differs: {a} 4, {b} 5"),
        (
            ("warmup_days: 1", "warmup_days: 1\nstart_date: 2030-05-01"),
            "year (start_date) differs: {a} 2025, {b} 2030",
        ),
        (("warmup_days: 1", "warmup_days: 2"), "warmup_days differs: {a} 1.0, {b} 2.0"),
        (("seed: 3", "seed: 9"), "seed differs: {a} 3, {b} 9"),
    ],
)
def test_members_that_differ_are_refused_in_one_line_and_nothing_is_written(
    files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: tuple[str, str],
    line: str,
) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(FASTER.replace(*edit), encoding="utf-8")
    out = tmp_path / "never"
    assert compare(files["base"], other, "--out", out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: compare: {line.format(a=files['base'], b=other)}: ")
    assert "--allow-unpaired" in err
    assert not out.exists() and not (tmp_path / "never.partial").exists()


def test_allow_unpaired_warns_and_records_the_difference(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "longer.yaml"
    other.write_text(FASTER.replace("days: 4", "days: 5"), encoding="utf-8")
    out = tmp_path / "cmp"
    assert compare(files["base"], other, "--out", out, "--allow-unpaired", "-q") == 0
    difference = f"days differs: {files['base']} 4, {other} 5"
    assert capsys.readouterr().err == f"warning: unpaired: {difference}\n"
    document = read(out / "comparison.json")
    assert "unpaired" not in document[0] and document[1]["unpaired"] == [difference]
    assert [entry["kpis"]["arrived"]["mean"] > 0 for entry in document] == [True, True]


def test_a_shared_override_makes_members_agree(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "longer.yaml"
    other.write_text(FASTER.replace("days: 4", "days: 5"), encoding="utf-8")
    assert compare(files["base"], other, "--days", 4, "--out", tmp_path / "c", "-q") == 0
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- variants
def test_a_variant_runs_as_the_same_edit_made_in_a_file(
    files: dict[str, Path], tmp_path: Path
) -> None:
    by_file, by_variant = tmp_path / "file", tmp_path / "variant"
    assert compare(files["base"], files["faster"], "--out", by_file, "-q") == 0
    variant = "faster:stations.xray.service={dist: exponential, mean: 6}"
    assert compare(files["base"], "--variant", variant, "--out", by_variant, "-q") == 0
    expected, document = read(by_file / "comparison.json"), read(by_variant / "comparison.json")
    assert [entry["folder"] for entry in document] == [LONG_NAME, "faster"]
    assert document[1]["file"] == str(files["base"])  # a variant of the first file
    for key in ("kpis", "diff_vs_first"):
        assert document[1][key] == expected[1][key], key


def test_variants_take_several_fields_and_the_api_takes_them_too(files: dict[str, Path]) -> None:
    import gatesim

    changes = {"stations.xray.servers": 2, "stations.xray.service.mean": 6}
    result = gatesim.compare([files["base"]], variants={"two": changes, "one": {"seed": 3}})
    assert result.names == [LONG_NAME, "two", "one"]
    assert [r.scenario.stations["xray"].servers for r in result.results] == [1, 2, 1]
    assert result.results[1].scenario.seed == 3  # the first one's seed
    # 'one' changes nothing: every paired difference is exactly 0
    defined = result.differences().query("scenario == 'one'").dropna()
    assert len(defined) > 0 and (defined[["mean", "lo", "hi"]] == 0).all().all()


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ("stations.xray.servers=2", "argument --variant: expected NAME:FIELD.PATH=VALUE"),
        ("fast:", "argument --variant: expected NAME:FIELD.PATH=VALUE"),
        ("fast:stations..servers=2", "argument --variant: FIELD.PATH must be field names"),
        ("fast:stations.nope.servers=2", "base.yaml: stations.nope: no such field 'nope'"),
        ("fast:stations.xray.servers=two", "base.yaml: stations.xray.servers:"),
        ("long:days=9", "compare: days differs: {base} 4, variant long 9: "),
    ],
)
def test_bad_variants_are_one_line_exit_2_and_nothing_written(
    files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    variant: str,
    message: str,
) -> None:
    out = tmp_path / "never"
    try:
        code = compare(files["base"], "--variant", variant, "--out", out)
    except SystemExit as exit_info:  # argparse's own one-line errors
        code = int(exit_info.code or 0)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert message.format(base=files["base"]) in err
    assert not out.exists()


def test_repeated_variant_names_are_refused(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    twice = ("--variant", "a:seed=3", "--variant", "a:days=4")
    assert compare(files["base"], *twice, "--out", tmp_path / "never") == 2
    assert capsys.readouterr().err == (
        "error: --variant: each variant needs its own name (got 'a')\n"
    )
