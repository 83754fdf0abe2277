"""Saturated lanes: the growth test on hand-made KPI rows, and the warnings end to end.

The unit tests feed ``gatesim.stats.saturation`` rows written by hand, so each rule (the
interval above 0, materiality against the offered trucks, the one-replication threshold,
Little's law at a lane's station) is seen deciding on its own. The end-to-end tests run a
two-lane scenario through the command line: one lane offered 200 trucks a day against a single
10-minute server (144 a day), the other 60 a day against the same server; only the first may
be flagged, in summary.json, on the console and in the HTML report.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
from builders import det, scenario

from gatesim.cli import main as cli_main
from gatesim.experiment.runner import run_experiment
from gatesim.report import plots
from gatesim.report.saturation import grows_with_run_length
from gatesim.stats.saturation import (
    MATERIAL_SHARE,
    SINGLE_RUN_SHARE,
    Growth,
    backlog_growth,
    lane_groups,
    lane_warnings,
)

GROWTH = "backlog_growth_per_day"
T_975_2DF = 4.302652729749462  # Student t, 97.5 % quantile, 2 degrees of freedom


def rows(group: str, slopes: list[float], offered: float) -> list[dict[str, float]]:
    """One KPI row per replication with this backlog slope and offered trucks per day."""
    return [{f"{GROWTH}.{group}": slope, f"offered_per_day.{group}": offered} for slope in slopes]


# --------------------------------------------------------------------------- lane_groups
def test_lane_groups_keep_lane_and_direction_trends_only() -> None:
    names = [
        "throughput_per_day.1119-1120.export",  # another KPI
        GROWTH,  # the whole gate
        f"{GROWTH}.1119-1120",  # a lane, both directions
        f"{GROWTH}.1119-1120.export",
        f"{GROWTH}.direction.export",
        f"{GROWTH}.cargo.fruit",
        f"{GROWTH}.1088/2-1089.import",
        f"{GROWTH}.1088/2-1089.transit",  # not a direction
    ]
    assert lane_groups(names) == ["1119-1120.export", "1088/2-1089.import"]


# --------------------------------------------------------------------------- growth test
def test_backlog_growth_is_the_t_interval_of_the_slopes() -> None:
    growth = backlog_growth(rows("L.export", [10.0, 12.0, 11.0], 200.0), "L.export")
    half = T_975_2DF * 1.0 / math.sqrt(3)  # sample sd 1
    assert growth.mean == pytest.approx(11.0)
    assert (growth.lo, growth.hi) == pytest.approx((11.0 - half, 11.0 + half))
    assert growth.offered_per_day == 200.0 and growth.replications == 3
    assert growth.grows


def test_an_interval_that_reaches_zero_does_not_grow() -> None:
    growth = backlog_growth(rows("L.export", [10.0, -5.0, 16.0], 200.0), "L.export")
    assert growth.mean == pytest.approx(7.0) and growth.lo < 0
    assert growth.mean >= MATERIAL_SHARE * 200.0  # material, but not shown to be above 0
    assert not growth.grows


def test_materiality_is_judged_against_the_offered_trucks() -> None:
    slopes = [1.0, 1.1, 0.9]  # clearly above 0, about 1 truck a day
    busy = backlog_growth(rows("L.export", slopes, 200.0), "L.export")
    quiet = backlog_growth(rows("L.export", slopes, 50.0), "L.export")
    assert busy.lo > 0 and quiet.lo > 0
    assert not busy.grows  # 1 a day is 0.5 % of 200: a queue still settling
    assert quiet.grows  # 2 % of 50


def test_one_replication_must_reach_the_single_run_share() -> None:
    offered = 200.0
    threshold = SINGLE_RUN_SHARE * offered
    below = backlog_growth(rows("L.export", [threshold - 1.0], offered), "L.export")
    at = backlog_growth(rows("L.export", [threshold], offered), "L.export")
    assert below.replications == 1 and math.isnan(below.lo)
    assert below.mean >= MATERIAL_SHARE * offered  # material, yet one run proves less
    assert not below.grows
    assert at.grows


def test_undefined_slopes_are_left_out() -> None:
    mixed = rows("L.export", [math.nan, 30.0], 200.0)
    growth = backlog_growth(mixed, "L.export")
    assert growth.replications == 1 and growth.mean == 30.0 and growth.grows
    none = backlog_growth(rows("L.export", [math.nan, math.nan], 200.0), "L.export")
    assert none.replications == 0 and not none.grows
    assert not Growth(50.0, 40.0, 60.0, 0.0, 3).grows  # nothing offered: nothing to judge


# --------------------------------------------------------------------------- lane_warnings
def test_lane_warnings_from_growth_or_littles_law() -> None:
    table = [
        {**a, **b, **c}
        for a, b, c in zip(
            rows("A.export", [40.0, 42.0, 41.0], 200.0),  # grows
            rows("B.import", [0.1, -0.2, 0.0], 100.0),  # stable, but its gate fails L = λW
            rows("C.import", [0.2, -0.1, 0.1], 100.0),  # stable and consistent
            strict=True,
        )
    ]
    by_group = {
        "A.export": ("a_gate",),
        "B.import": ("b_yard", "b_gate"),
        "C.import": ("c_gate",),
    }
    warnings = lane_warnings(table, ["b_gate", "elsewhere"], by_group)
    assert [w.group for w in warnings] == ["A.export", "B.import"]
    a, b = (w.document() for w in warnings)
    assert a["lane"] == "A" and a["direction"] == "export"
    assert a["backlog_grows"] is True and a["littles_law_stations"] == []
    assert a["growth_per_day"] == pytest.approx(41.0)
    assert "backlog grows +41.0 trucks/day" in str(a["message"])
    assert b["backlog_grows"] is False and b["littles_law_stations"] == ["b_gate"]
    assert "Little's law fails at b_gate" in str(b["message"])
    assert "backlog grows" not in str(b["message"])
    assert lane_warnings([], ["b_gate"], by_group) == []


def test_time_in_system_keys_that_count_a_saturated_lane() -> None:
    saturated = ["1119-1120.export"]
    marked = [
        "time_in_system_mean_h",
        "time_in_system_p95_h.1119-1120.export",
        "time_in_system_mean_h.1119-1120",
        "time_in_system_p95_h.direction.export",
        "time_in_system_mean_h.season.tet",
    ]
    unmarked = [
        "time_in_system_mean_h.1119-1120.import",
        "time_in_system_mean_h.1088/2-1089.export",
        "time_in_system_mean_h.direction.import",
        "throughput_per_day.1119-1120.export",
    ]
    assert all(grows_with_run_length(k, saturated) for k in marked)
    assert not any(grows_with_run_length(k, saturated) for k in unmarked)
    assert not grows_with_run_length("time_in_system_mean_h", [])


# --------------------------------------------------------------------------- throughput plot
def _stat(mean: float) -> dict[str, Any]:
    return {"mean": mean, "ci95": [mean - 1.0, mean + 1.0]}


def _offered_segments(fig: Any) -> list[tuple[float, float]]:
    """(centre x, y) of every offered dash drawn in the figure."""
    found = []
    for ax in fig.axes:
        for artist in ax.collections:
            if artist.get_label() == plots.OFFERED_LABEL:
                for (x0, y0), (x1, _) in artist.get_segments():
                    found.append(((x0 + x1) / 2, y0))
    return found


def test_throughput_figure_marks_the_offered_trucks() -> None:
    kpis = {
        "run": {
            "throughput_per_day": _stat(204.0),
            "offered_per_day": _stat(260.0),
            "throughput_per_day.A.export": _stat(144.0),
            "offered_per_day.A.export": _stat(200.0),
            "throughput_per_day.B.import": _stat(60.0),
            "offered_per_day.B.import": _stat(60.0),
        }
    }
    ys = sorted(y for _, y in _offered_segments(plots.throughput_figure(kpis)))
    assert ys == [60.0, 200.0, 260.0]
    older = {"run": {k: v for k, v in kpis["run"].items() if not k.startswith("offered")}}
    assert _offered_segments(plots.throughput_figure(older)) == []


# --------------------------------------------------------------------------- end to end
TWO_LANES = """\
name: {name}
days: 8
warmup_days: 1
seed: 3
nodes: {{src: {{kind: source}}, out: {{kind: sink}}}}
stations:
  busy: {{servers: {busy_servers}, service: {{dist: deterministic, value: 10}}}}
  calm: {{servers: 1, service: {{dist: deterministic, value: 10}}}}
routes:
  rb: {{origin: src, steps: [busy], destination: out}}
  rc: {{origin: src, steps: [calm], destination: out}}
arrivals:
  b: {{lane: busy-lane, direction: export, cargo: c, route: rb, per_day: 200}}
  c: {{lane: calm-lane, direction: import, cargo: c, route: rc, per_day: 60}}
"""


def cli(*args: Any) -> str:
    """Run the command line in-process; its stdout."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli_main([str(a) for a in args])
    assert code == 0, args
    return out.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("saturation")
    over = root / "over.yaml"
    over.write_text(TWO_LANES.format(name="over", busy_servers=1), encoding="utf-8")
    enough = root / "enough.yaml"
    enough.write_text(TWO_LANES.format(name="enough", busy_servers=2), encoding="utf-8")
    return {"root": root, "over": over, "enough": enough}


@pytest.fixture(scope="module")
def saturated_run(files: dict[str, Path]) -> tuple[Path, str]:
    """``run over.yaml -r 3 --report``: (output folder, console output)."""
    out = files["root"] / "run"
    return out, cli("run", files["over"], "-r", "3", "--report", "--out", out)


def test_summary_warns_about_the_saturated_lane_only(saturated_run: tuple[Path, str]) -> None:
    out, _ = saturated_run
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    [warning] = summary["warnings"]
    assert (warning["lane"], warning["direction"]) == ("busy-lane", "export")
    assert warning["backlog_grows"] is True
    lo, hi = warning["growth_ci95"]
    assert 0 < lo <= warning["growth_per_day"] <= hi
    # about 200 offered against 144 cleared a day: the backlog grows by about 56 a day
    assert 30 < warning["growth_per_day"] < 80
    assert warning["littles_law_stations"] == ["busy"]
    assert any(w.startswith("busy:") for w in summary["checks"]["warnings"])  # kept as it was
    kpis = summary["kpis"]
    assert kpis["throughput_per_day.busy-lane.export"]["mean"] == pytest.approx(144.0, abs=1)
    assert kpis["cleared_share.busy-lane.export"]["mean"] < 0.8
    assert kpis["cleared_share.calm-lane.import"]["mean"] == pytest.approx(1.0, abs=0.02)


def test_console_prints_one_warning_line_and_marks_the_lane(
    saturated_run: tuple[Path, str],
) -> None:
    _, console = saturated_run
    lines = console.splitlines()
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "busy-lane export is saturated" in warnings[0]
    assert lines.index(warnings[0]) > max(i for i, ln in enumerate(lines) if "calm-lane" in ln)
    assert "offered/day" in console and "cleared share (%)" in console
    assert any("busy-lane" in line and "†" in line for line in lines)
    assert not any("calm-lane" in line and "†" in line for line in lines)
    assert "† grows with run length" in console


def test_run_report_shows_the_banner(saturated_run: tuple[Path, str]) -> None:
    out, _ = saturated_run
    page = (out / "report.html").read_text(encoding="utf-8")
    banner = page[page.index('<div class="warning-banner"') : page.index("<nav>")]
    assert "busy-lane export is saturated" in banner
    assert "calm-lane" not in banner
    assert "Offered against cleared" in page
    assert 'title="grows with run length">†</sup>' in page


def test_compare_report_lists_warnings_per_scenario(files: dict[str, Path]) -> None:
    out = files["root"] / "cmp"
    cli("compare", files["over"], files["enough"], "-r", "2", "--report", "-q", "--out", out)
    enough = json.loads((out / "enough" / "summary.json").read_text(encoding="utf-8"))
    assert enough["warnings"] == []  # two servers clear 288 a day
    page = (out / "report.html").read_text(encoding="utf-8")
    banner = page[page.index('<div class="warning-banner"') : page.index("<nav>")]
    assert "<b>over</b>" in banner and "busy-lane export is saturated" in banner
    assert "<b>enough</b>" not in banner


def test_a_run_below_capacity_has_no_warnings() -> None:
    stable = scenario(
        {"gate": {"servers": 1, "service": det(10.0)}},
        {"r": {"origin": "src", "steps": ["gate"], "destination": "out"}},
        {"a": {"lane": "L", "direction": "export", "cargo": "c", "route": "r", "per_day": 100}},
        days=8,
        warmup_days=1,
        records=False,
    )
    summary = run_experiment(stable, replications=3).summary()
    assert summary["warnings"] == []
    assert summary["kpis"]["offered_per_day.L.export"]["mean"] == pytest.approx(100, rel=0.15)
