"""``--excel`` writes one workbook beside the results, its sheets read from the result files;
titles and default folders carry ``--year`` and ``--set`` in a short, safe form; ``--format``
reaches run's console."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from gatesim.cli import main
from gatesim.cli.naming import MAX_SUFFIX, override_part, run_suffix

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
SMALL = ["--days", "2", "--warmup", "0", "-r", "2", "-q"]


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("xlsx") / "cmp"
    variant = "more_xray:stations.hn_vn_xray.servers=2"
    assert (
        main(["compare", BASELINE, "--variant", variant, *SMALL, "--excel", "--out", str(out)]) == 0
    )
    return out


def test_workbook_has_every_sheet_of_every_member(compared: Path) -> None:
    book = pd.read_excel(compared / "results.xlsx", sheet_name=None)
    assert list(book) == ["summary", "lanes", "stations", "days", "hours", "comparison"]
    names = [e["folder"] for e in json.loads((compared / "manifest.json").read_text())["scenarios"]]
    for sheet in ("summary", "lanes", "stations", "days", "hours"):
        assert list(book[sheet]["scenario"].unique()) == names
    assert len(book["hours"]) == 24 * len(names)
    assert len(book["days"]) == 2 * 2 * len(names)  # days x replications


def test_workbook_numbers_are_the_result_files(compared: Path) -> None:
    book = pd.read_excel(compared / "results.xlsx", sheet_name=None)
    first = json.loads((compared / "baseline" / "summary.json").read_text())
    summary = book["summary"].set_index(["scenario", "kpi"])
    for key in ("throughput_per_day", "time_in_system_p95_h"):
        assert summary.loc[("baseline", key), "mean"] == pytest.approx(first["kpis"][key]["mean"])
    lanes = book["lanes"].set_index(["scenario", "kpi", "lane", "direction"])
    stat = first["kpis"]["throughput_per_day.1119-1120.export"]
    row = lanes.loc[("baseline", "throughput_per_day", "1119-1120", "export")]
    assert (row["mean"], row["lo"], row["hi"]) == pytest.approx((stat["mean"], *stat["ci95"]))
    comparison = pd.read_csv(compared / "comparison.csv")
    assert book["comparison"].shape == comparison.shape


def test_no_workbook_without_the_flag(tmp_path: Path) -> None:
    assert main(["run", BASELINE, *SMALL, "--out", str(tmp_path / "run")]) == 0
    assert not (tmp_path / "run" / "results.xlsx").exists()


def test_override_parts_are_short_and_safe() -> None:
    assert override_part("stations.hn_vn_xray.servers", 3) == "hn_vn_xray.servers_3"
    assert override_part("demand.year", 2028) == "demand.year_2028"
    assert override_part("calendars.vn.hours", [[0, 24]]) == "calendars.vn.hours_0_24"
    assert run_suffix([], 2028) == "-y2028"
    assert run_suffix([], None) == ""
    many = [(f"stations.station_number_{i}.servers", i) for i in range(20)]
    long = run_suffix(many, 2030)
    other = run_suffix([*many[:-1], ("stations.station_number_19.servers", 99)], 2030)
    assert len(long) <= MAX_SUFFIX and re.fullmatch(r"[A-Za-z0-9_.\-]+", long)
    assert long != other  # cut suffixes keep a hash of everything


def test_run_title_and_folder_carry_year_and_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["run", str(ROOT / "scenarios" / "plan_2030.yaml"), "--year", "2028"]
    argv += ["--set", "stations.hn_vn_xray.servers=3", "--days", "2", "--warmup", "0", "-r", "1"]
    assert main([*argv, "--format", "md"]) == 0
    (folder,) = (tmp_path / "results").iterdir()
    assert re.fullmatch(r"plan_2030-y2028-hn_vn_xray\.servers_3-\d{8}-\d{6}", folder.name)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["scenario"] == "plan_2030-y2028-hn_vn_xray.servers_3"
    out = capsys.readouterr().out
    assert out.startswith("plan_2030-y2028-hn_vn_xray.servers_3: 2 days")
    assert "| Trucks cleared per day |" in out  # Markdown tables


def test_report_in_vietnamese_with_glossary_and_differences(compared: Path) -> None:
    from gatesim.report.html import write_report

    page = write_report(compared, compared / "vi.html", lang="vi").read_text(encoding="utf-8")
    assert '<html lang="vi">' in page
    for heading in ("Giải thích các KPI", "Khác biệt so với kịch bản đầu tiên", "Biểu đồ"):
        assert f"<h2>{heading}</h2>" in page
    differs = page[
        page.index('id="differs"') : page.index("</section>", page.index('id="differs"'))
    ]
    assert "<code>stations.hn_vn_xray.servers</code></td><td>1</td><td>2</td>" in differs
    assert "stations 1" in differs  # the one field the variant sets


def test_network_figures_share_one_road_scale_and_label_their_lanes(compared: Path) -> None:
    from matplotlib.text import Text

    from gatesim.report.network_layout import lay_out_network, read_network_tables, station_means
    from gatesim.report.network_plot import LANE_CROSSINGS, network_figure, road_peak

    runs = [compared / "baseline", compared / "more_xray"]
    inputs = [(read_network_tables(f), pd.read_csv(f / "stations.csv")) for f in runs]
    peaks = [road_peak(tables, stations, 2.0) for tables, stations in inputs]
    common = max(peaks)
    for tables, stations in inputs:
        fig = network_figure(tables, stations, 2.0, peak=common)
        texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert f"{common:,.0f} trucks/day" in texts  # the same full width in every figure
        bands = lay_out_network(tables, station_means(stations), 2.0).bands
        for lane, (low, high) in bands.items():
            (header,) = [
                t for t in fig.axes[0].findobj(Text) if t.get_text().startswith(f"lane {lane}")
            ]
            assert low < header.get_position()[1] <= high  # on its own band
            assert header.get_text() == f"lane {lane} · {LANE_CROSSINGS[lane]}"


def test_stations_without_trucks_are_greyed_not_zero(compared: Path) -> None:
    from matplotlib.text import Text

    from gatesim.report import plots

    stations = {"baseline": pd.read_csv(compared / "baseline" / "stations.csv")}
    idle = plots.idle_stations(stations)
    unused = stations["baseline"].groupby("station")["arrived_measured"].max() == 0
    assert sorted(idle.index[idle["baseline"]]) == sorted(unused.index[unused])
    assert unused.any()  # the baseline has stations no truck uses in two days
    fig = plots.utilisation_heatmap(plots.utilisation_table(stations), idle=idle)
    texts = [t.get_text() for t in fig.axes[0].findobj(Text)]
    assert texts.count("no trucks") == int(unused.sum())
    assert sum(t.endswith("%") for t in texts) == len(unused) - int(unused.sum())  # no 0 % for them


def test_sweep_and_plan_print_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loud = [arg for arg in SMALL if arg != "-q"]
    sweep = ["sweep", BASELINE, "--set", "stations.hn_vn_xray.servers=1,2", *loud]
    assert main([*sweep, "--format", "csv", "--out", str(tmp_path / "sweep")]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "," in line]
    assert len(lines) == 3  # header and one row per point, nothing cut
    plan = ["plan", BASELINE, "--target", "station.hn_vn_xray.wait_mean_min<=60000"]
    plan += ["--vary", "stations.hn_vn_xray.servers=1:2", *loud, "--max-replications", "2"]
    assert main([*plan, "--format", "md", "--out", str(tmp_path / "plan")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("**Capacity search: station.hn_vn_xray.wait_mean_min <= 60000**")
    assert "each a one-sided 95 % bound of the mean" in out
