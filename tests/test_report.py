"""Analyst outputs: figures, the HTML report and the event log, from small result folders.

The folders are written by the real command line (``gatesim.cli.main`` in-process, to save the
interpreter start-ups) for a tiny two-lane scenario with roads, a yard that spills back and a
border crossing, so every figure type is exercised on the same code path as real scenarios.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from matplotlib.figure import Figure

from gatesim.cli import main as cli_main
from gatesim.report import events, html, plots
from gatesim.report.intervals import bounded_kpis
from gatesim.report.network_layout import (
    NETWORK_TABLES,
    NetworkTables,
    lay_out_network,
    read_network_tables,
    station_means,
)
from gatesim.report.network_plot import network_figure

TINY = """\
name: tiny
description: Two lanes, a yard that overflows onto the road, a gate and a scanner across the line.
days: 3
warmup_days: 1
seed: 11
nodes:
  a_src: {kind: source, side: VN}
  a_vn: {kind: junction, side: VN}
  a_cn: {kind: junction, side: CN}
  a_out: {kind: sink, side: CN}
  b_src: {kind: source, side: CN}
  b_out: {kind: sink, side: VN}
stations:
  a_yard:
    type: staging_yard
    side: VN
    servers: 1
    service: {dist: deterministic, value: 5.5}   # [a] slower than arrivals: the yard fills
    params: {areas: [{name: lot, capacity: 20}], truck_spacing_m: 20}
  a_gate: {side: VN, servers: 2, service: {dist: exponential, mean: 4.0}}
  a_scan: {type: xray_scanner, side: CN, servers: 1, service: {dist: uniform, low: 1, high: 3}}
  b_gate: {side: CN, servers: 1, service: {dist: exponential, mean: 3.0}}
  b_check: {side: VN, servers: 1, service: {dist: exponential, mean: 2.0}}
roads:
  a_in: {from: a_src, to: a_yard, length_km: 0.2, speed_kmh: 20}
  a_yard_out: {from: a_yard, to: a_vn, length_km: 0.2, speed_kmh: 20}
  a_gate_link: {from: a_vn, to: a_gate, length_km: 0.05, speed_kmh: 10, two_way: true}
  a_zero: {from: a_vn, to: a_cn, length_km: 0.5, speed_kmh: 10, two_way: true}
  a_scan_link: {from: a_cn, to: a_scan, length_km: 0.05, speed_kmh: 10, two_way: true}
  a_rel: {from: a_scan, to: a_out, length_km: 0.1, speed_kmh: 20}
  b_in: {from: b_src, to: b_gate, length_km: 0.1, speed_kmh: 20}
  b_cross: {from: b_gate, to: b_check, length_km: 0.5, speed_kmh: 10}
  b_rel: {from: b_check, to: b_out, length_km: 0.1, speed_kmh: 20}
routes:
  ra: {origin: a_src, steps: [a_yard, a_gate, a_scan], destination: a_out}
  rb: {origin: b_src, steps: [b_gate, b_check], destination: b_out}
arrivals:
  ea: {lane: L1, direction: export, cargo: fruit, route: ra, per_day: 320}
  ib: {lane: L2, direction: import, cargo: goods, route: rb, per_day: 150}
"""
FAST = """\
extends: tiny.yaml
name: tiny_fast
description: The tiny scenario with a faster yard dispatch.
stations:
  a_yard: {service: {dist: deterministic, value: 3.0}}
"""
ROOT = Path(__file__).resolve().parents[1]
COMMON = ["--days", "3", "-r", "2", "--seed", "5", "-q"]
SECTIONS = ("scenarios", "kpis", "figures", "stations", "manifest")


def cli(*args: Any) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli_main([str(a) for a in args])
    assert code == 0, args


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("report")
    (root / "tiny.yaml").write_text(TINY, encoding="utf-8")
    (root / "tiny_fast.yaml").write_text(FAST, encoding="utf-8")
    out = {"run": root / "run", "compare": root / "cmp", "sweep": root / "sweep"}
    cli("run", root / "tiny.yaml", *COMMON, "--records", "--out", out["run"])
    cli("compare", root / "tiny.yaml", root / "tiny_fast.yaml", *COMMON, "--out", out["compare"])
    cli(
        "sweep",
        root / "tiny.yaml",
        "--set",
        "stations.a_gate.servers=1,2,3",
        *COMMON,
        "--out",
        out["sweep"],
    )
    return out


def _summary(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return data


# --------------------------------------------------------------------------- figures
def test_every_figure_builds_from_result_tables(folders: dict[str, Path], tmp_path: Path) -> None:
    cmp = folders["compare"]
    names = ["tiny", "tiny_fast"]
    summaries = {n: _summary(cmp / n) for n in names}
    figures = {
        "throughput": plots.throughput_figure(
            {n: s["kpis"] for n, s in summaries.items()}, target=400
        ),
        "hourly": plots.hourly_figure(
            {n: pd.read_csv(cmp / n / "hourly_summary.csv") for n in names}
        ),
        "tis": plots.time_in_system_figure(
            {
                n: plots.time_in_system_hours(
                    pd.read_parquet(cmp / n / "trucks.parquet"), summaries[n]["warmup_days"]
                )
                for n in names
            }
        ),
        "heat": plots.utilisation_heatmap(
            plots.utilisation_table({n: pd.read_csv(cmp / n / "stations.csv") for n in names})
        ),
        "network": network_figure(
            _network_tables(cmp / "tiny"), pd.read_csv(cmp / "tiny" / "stations.csv"), 2.0
        ),
        "sweep": plots.sweep_figure(
            pd.read_csv(folders["sweep"] / "sweep.csv"), targets={"throughput_per_day": 400}
        ),
    }
    for name, fig in figures.items():
        assert isinstance(fig, Figure)
        for ax in fig.axes:  # every visible data axis is labelled
            if ax.get_visible() and ax.axison and ax.has_data() and ax.get_label() != "<colorbar>":
                assert ax.get_xlabel() or ax.get_xticklabels(), name
                assert ax.get_ylabel(), name
        written = plots.save_figure(fig, tmp_path / name)
        assert [p.suffix for p in written] == [".png", ".svg"]
        assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in written[1].read_bytes()[:2000]


def test_scenario_colours_are_stable_and_distinct() -> None:
    names = [f"s{i}" for i in range(12)]
    colours = plots.scenario_colors(names)
    assert colours["s0"] == "#000000"  # the baseline is black
    assert len(set(colours.values())) == len(names)
    assert plots.scenario_colors(names[:3]) == {n: colours[n] for n in names[:3]}


def _network_tables(folder: Path) -> NetworkTables:
    tables = read_network_tables(folder)
    assert tables is not None, f"{folder} has no network tables"
    return tables


def test_network_layout_puts_vn_left_cn_right_and_spillback_on_the_yard(
    folders: dict[str, Path],
) -> None:
    folder = folders["run"]
    means = station_means(pd.read_csv(folder / "stations.csv"))
    layout = lay_out_network(_network_tables(folder), means, 2.0)
    pos = layout.pos
    for node, attrs in layout.graph.nodes(data=True):
        assert (pos[node][0] < 0) == (attrs["side"] == "VN"), node
    assert pos["a_src"][0] < pos["a_yard"][0] < pos["a_gate"][0] < 0 < pos["a_scan"][0]
    assert pos["b_src"][0] > pos["b_gate"][0] > 0 > pos["b_check"][0] > pos["b_out"][0]
    lo1, hi1 = layout.bands["L1"]
    lo2, hi2 = layout.bands["L2"]
    assert hi2 < lo1 and lo1 <= pos["a_gate"][1] <= hi1 and lo2 <= pos["b_gate"][1] <= hi2
    # the zero line between the junctions carries every lane-1 truck the model expects
    zero = layout.edge_flow.get(("a_vn", "a_cn"), layout.edge_flow.get(("a_cn", "a_vn")))
    assert zero == pytest.approx(320.0)  # ea: 320 a day, flat, one route over the line
    # a road to a station carries that station's measured arrivals per measured day
    arrived = means.at["a_scan", "arrived_measured"] / 2.0
    assert layout.edge_flow[("a_cn", "a_scan")] == pytest.approx(arrived)
    assert layout.spillback_km["a_yard"] > 0  # 320/day into a 5.5-min dispatch: it overflows


# --------------------------------------------------------------------------- report
def _check_self_contained(page: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", page, re.I)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "url(" not in page.lower()
    images = re.findall(r'<img[^>]*src="([^"]+)"', page)
    assert images
    for src in images:
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_report_has_every_section_and_embedded_images(folders: dict[str, Path]) -> None:
    path = html.write_report(folders["run"])
    assert path == folders["run"] / "report.html"
    page = path.read_text(encoding="utf-8")
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in page, anchor
    for figure in ("fig-throughput", "fig-hourly", "fig-tis", "fig-utilisation", "fig-network-0"):
        assert f'<figure id="{figure}"><img' in page, figure
    assert 'class="missing"' not in page
    _check_self_contained(page)
    manifest = json.loads((folders["run"] / "manifest.json").read_text())
    assert manifest["scenario_hash"] in page
    assert "Two lanes, a yard that overflows" in page  # the scenario description
    assert "docs/model.md" in page
    assert "slower than arrivals" in page  # the [a]-tagged line of the scenario file
    assert "Paired differences" not in page


def test_compare_report_contains_paired_differences(folders: dict[str, Path]) -> None:
    page = html.write_report(folders["compare"]).read_text(encoding="utf-8")
    assert '<section id="differences">' in page
    assert "tiny_fast − tiny" in page
    comparison = json.loads((folders["compare"] / "comparison.json").read_text())
    diff = comparison[1]["diff_vs_first"]["time_in_system_mean_h"]
    assert f"{diff['mean']:,.2f}".replace("-", "−") in page
    assert page.count('<figure id="fig-network-') == 2
    _check_self_contained(page)


def test_sweep_report_contains_the_sweep_table_and_curves(folders: dict[str, Path]) -> None:
    out = folders["sweep"] / "elsewhere" / "sweep.html"
    code = html.main(
        [
            "report",
            str(folders["sweep"]),
            "--out",
            str(out),
            "-q",
            "--target",
            "throughput_per_day=400",
        ]
    )
    assert code == 0
    page = out.read_text(encoding="utf-8")
    assert '<section id="sweep">' in page and '<figure id="fig-sweep"><img' in page
    assert "stations.a_gate.servers" in page
    assert page.count('<figure id="fig-network-') == 2  # first and last point only
    _check_self_contained(page)


def _python(*args: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_plugin_run_keeps_its_network_figure_without_the_plugin(tmp_path: Path) -> None:
    out = tmp_path / "cold"
    example = ROOT / "examples" / "coldchain"
    flags = ["--plugin", example / "coldchain_bays.py", "--days", "2", "-r", "1", "-q"]
    done = _python("run_sim.py", "run", example / "scenario.yaml", *flags, "--out", out)
    assert done.returncode == 0, done.stderr
    tables = _network_tables(out)
    types = dict(zip(tables.nodes["node"], tables.nodes["type"], strict=True))
    assert types["cold_bay"] == "cold_chain_bay"  # the plug-in's own type, known at run time
    # a fresh process without --plugin: the type is unknown there, the tables are enough
    done = _python("run_sim.py", "report", out, "-q")
    assert done.returncode == 0, done.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<figure id="fig-network-0"><img' in page
    assert 'class="missing"' not in page


def test_results_without_network_tables_say_so_in_one_line(
    folders: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old"
    shutil.copytree(folders["run"], old)
    for name in NETWORK_TABLES:
        (old / name).unlink()
    assert html.main([str(old), "-q"]) == 0
    assert capsys.readouterr().err == ""
    page = (old / "report.html").read_text(encoding="utf-8")
    assert '<figure id="fig-network-0"' not in page
    notes = re.findall(r'<figure id="fig-network-missing" class="missing">(.*?)</figure>', page)
    assert len(notes) == 1 and "\n" not in notes[0]
    assert "network_nodes.csv" in notes[0] and "run the scenario again" in notes[0]
    assert "Traceback" not in page and page.count('class="missing"') == 1


@pytest.mark.parametrize("make", ["missing", "empty", "wrong"])
def test_not_a_result_folder_is_one_line_and_exit_2(
    make: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "x"
    if make != "missing":
        folder.mkdir()
    if make == "wrong":
        (folder / "summary.json").write_text('{"not": "a summary"}')
    with pytest.raises(ValueError):
        html.write_report(folder)
    assert html.main([str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not (folder / "report.html").exists()


# --------------------------------------------------------------------------- event log
def test_event_log_is_the_visits_in_long_format(folders: dict[str, Path]) -> None:
    folder = folders["run"]
    visits = pd.read_parquet(folder / "visits.parquet")
    path = events.write_event_log(folder)
    assert path == folder / "events.parquet"
    log = pd.read_parquet(path)
    assert list(log.columns) == list(events.EVENT_COLUMNS)
    assert len(log) == 3 * len(visits) - int(
        visits[["arrive_min", "start_min", "end_min"]].isna().to_numpy().sum()
    )
    assert set(log["event"].astype(str)) == {"arrive", "start", "end"}
    for _, rep in log.groupby("replication"):
        assert rep["time_min"].is_monotonic_increasing
    one = visits.iloc[0]
    mine = log[
        (log.replication == one.replication)
        & (log.truck == one.truck)
        & (log.station == one.station)
    ]
    assert list(mine["event"].astype(str)) == ["arrive", "start", "end"]
    assert list(mine["time_min"]) == [one.arrive_min, one.start_min, one.end_min]
    assert events.write_event_log(folders["compare"] / "tiny") is None  # no visit records


@pytest.mark.parametrize("with_replication", [True, False])
def test_the_written_event_log_is_event_log_of_the_visits(
    tmp_path: Path, with_replication: bool
) -> None:
    """write_event_log builds the table replication by replication from typed columns: the
    same rows, order and types as event_log on the whole table, ties in time included, when
    replications are interleaved across small row groups and times are missing."""
    visits = pd.DataFrame(
        {
            "replication": [1, 0, 1, 0, 1, 0, 1],
            "truck": [5, 2, 3, 2, 5, 7, 3],
            "station": ["b", "a", "a", "b", "a", "a", "b"],
            "arrive_min": [1.0, 0.0, 1.0, 2.0, 0.5, 2.0, 4.0],
            "start_min": [2.0, 1.0, 1.0, 2.0, 1.0, float("nan"), 4.0],
            "end_min": [3.0, 2.0, 2.0, float("nan"), 1.0, float("nan"), 5.0],
        }
    )
    if not with_replication:
        visits = visits.drop(columns="replication")
    folder = tmp_path / "run"
    folder.mkdir()
    visits.to_parquet(folder / "visits.parquet", index=False, row_group_size=2)
    written = pd.read_parquet(events.write_event_log(folder))
    expected = events.event_log(visits)
    assert written.dtypes.equals(expected.dtypes)
    assert written.equals(expected)


SEASONAL = """\
extends: tiny.yaml
name: tiny_seasonal
start_date: 2025-05-01
demand:
  seasons: [{name: peak, from: "05-03", to: "05-03", factor: 2.0}]
trade_value: {currency: USD, per_truck: {fruit: 30000, goods: 60000}}
"""


def test_report_shows_seasons_and_value_of_goods(tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    (tmp_path / "tiny_seasonal.yaml").write_text(SEASONAL, encoding="utf-8")
    cli("run", tmp_path / "tiny_seasonal.yaml", *COMMON, "--out", tmp_path / "run")
    page = html.write_report(tmp_path / "run").read_text(encoding="utf-8")
    kpis = bounded_kpis(_summary(tmp_path / "run")["kpis"])  # as the report shows them
    assert "Seasons and value of goods" in page
    for key in (
        "value_cleared_musd_per_day",
        "value_delayed_musd_h_per_day",
        "throughput_per_day.season.peak",
        "time_in_system_p95_h.season.peak",
    ):
        label, cell = html._esc(plots.kpi_label(key)), html._ci(kpis[key], html._digits(key))
        assert f"{label}</td><td>{cell}" in page, key


def test_report_leaves_out_seasons_when_the_scenario_has_none(folders: dict[str, Path]) -> None:
    page = html.render_report(html.load_results(folders["run"]))
    assert "Seasons and value of goods" not in page


def test_daily_cleared_by_date_maps_days_to_dates_after_the_warmup() -> None:
    daily = pd.DataFrame({"day": [0, 1, 2, 3], "rep0": [5, 6, 7, 8], "rep1": [1, 2, 9, 4]})
    table = plots.daily_cleared_by_date(daily, "2025-12-30", warmup_days=1.5)
    assert [d.date().isoformat() for d in table["date"]] == ["2026-01-01", "2026-01-02"]
    assert table["mean"].tolist() == [8.0, 6.0]
    assert table["low"].tolist() == [7, 4] and table["high"].tolist() == [9, 8]
    fig = plots.daily_figure({"a": table, "b": table})
    assert len(fig.legends[0].get_texts()) == 2  # one legend, below the axes


def test_long_run_report_has_the_daily_figure(tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    days = str(html.DAILY_FIGURE_MIN_DAYS)
    cli("run", tmp_path / "tiny.yaml", "--days", days, "-r", "2", "-q", "--out", tmp_path / "r")
    page = html.write_report(tmp_path / "r").read_text(encoding="utf-8")
    assert '<figure id="fig-daily"><img' in page


def test_short_run_report_has_no_daily_figure(folders: dict[str, Path]) -> None:
    page = html.render_report(html.load_results(folders["run"]))
    assert 'id="fig-daily"' not in page and 'id="fig-hourly"' in page


# --------------------------------------------------------------------------- plan
def _plan(root: Path, target: str, out: Path) -> int:
    args = ["plan", root / "tiny.yaml", "--target", target, "--vary", "stations.a_gate.servers=1:3"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return cli_main([str(a) for a in [*args, *COMMON, "--report", "--out", out]])


def test_plan_report_shows_the_search_and_the_chosen_points_run(
    folders: dict[str, Path],
) -> None:
    root = folders["run"].parent
    out = root / "plan"
    assert _plan(root, "station.a_gate.wait_mean_min<=1000", out) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    plan = json.loads((out / "plan.json").read_text())
    assert 'data-report-kind="plan"' in page
    for anchor in ("plan", *SECTIONS):
        assert f'<section id="{anchor}">' in page, anchor
    section = page[page.index('<section id="plan">') : page.index('<section id="scenarios">')]
    chosen = plan["chosen"]["values"]["stations.a_gate.servers"]
    assert f"<b>Chosen: stations.a_gate.servers = {chosen}</b>" in section
    assert section.count("<td>holds</td>") + section.count("<td>fails</td>") == len(plan["points"])
    for part in plan["bottleneck"]["by_part"]:  # the tiny scenario's two lanes
        assert f"<td>lane {part['part']}</td><td>{part['station']}</td>" in section
    assert [p["part"] for p in plan["bottleneck"]["by_part"]] == ["L1", "L2"]
    _check_self_contained(page)


def test_plan_report_when_nothing_fits_shows_the_best_point(folders: dict[str, Path]) -> None:
    root = folders["run"].parent
    out = root / "plan_none"
    assert _plan(root, "station.a_yard.wait_mean_min<=0.001", out) == 1  # the yard always queues
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "no configuration in range meets the target</b>; best point found:" in page
