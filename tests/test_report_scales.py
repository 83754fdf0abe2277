"""A report that scales and does not mislead: no drawn text leaves its figure, legends sit
outside the axes (they cover no curve), the ECDF's p95 values do not overlap, the hour-of-day
chart becomes small multiples beyond five scenarios, and intervals of quantities that cannot be
negative never reach below 0.

Text is checked where matplotlib's renderer drew it (``get_window_extent``), not where it was
asked to go.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text

from gatesim.report import plots
from gatesim.report.intervals import bounded, bounded_kpis

#: Names as long as real titles get (a scenario with --year and --set).
NAMES = [f"s{i}_full_smart_gate-y2030-hn_vn_xray.servers_{i}" for i in range(8)]


def _drawn(fig: Figure) -> tuple[object, list[Text], list[Legend]]:
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    legends = [a for a in fig.findobj(Legend) if a.get_visible()]
    return renderer, texts, legends


def _inside(inner: object, outer: object, tolerance: float = 1.0) -> bool:
    return (
        inner.x0 >= outer.x0 - tolerance  # type: ignore[attr-defined]
        and inner.y0 >= outer.y0 - tolerance  # type: ignore[attr-defined]
        and inner.x1 <= outer.x1 + tolerance  # type: ignore[attr-defined]
        and inner.y1 <= outer.y1 + tolerance  # type: ignore[attr-defined]
    )


def _tick_labels(fig: Figure) -> set[int]:
    """Tick labels exist for ticks outside the view too (not drawn): the axes' tight boxes,
    which hold only what was drawn, check those."""
    return {
        id(label)
        for ax in fig.axes
        for axis in (ax.xaxis, ax.yaxis)
        for label in axis.get_ticklabels(which="both")
    }


def assert_no_text_clipped(fig: Figure) -> None:
    renderer, texts, _ = _drawn(fig)
    ticks = _tick_labels(fig)
    clipped = [
        t.get_text()
        for t in texts
        if id(t) not in ticks and not _inside(t.get_window_extent(renderer), fig.bbox)
    ]
    assert clipped == []
    for ax in fig.axes:
        if ax.get_visible():
            assert _inside(ax.get_tightbbox(renderer), fig.bbox), ax.get_title()


def assert_legends_cover_no_axes(fig: Figure) -> None:
    renderer, _, legends = _drawn(fig)
    assert legends
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), "legend over an axes"


def _hourly(shift: float) -> pd.DataFrame:
    hours = np.arange(24)
    level = 40 + 20 * np.sin(hours / 24 * 2 * math.pi) + shift
    return pd.DataFrame(
        {"hour": hours, "cleared_mean": level, "cleared_lo": level - 3, "cleared_hi": level + 3,
         "in_system_mean": 5 * level, "in_system_lo": 5 * level - 9, "in_system_hi": 5 * level + 9}
    )  # fmt: skip


def test_ecdf_p95_labels_never_overlap_and_legend_covers_no_curve() -> None:
    rng = np.random.default_rng(1)
    samples = {name: rng.gamma(2.0, 3.0 + 0.01 * i, 400) for i, name in enumerate(NAMES)}
    p95 = {name: (12.0 + 0.05 * i, 11.0, 13.0 + 0.05 * i) for i, name in enumerate(NAMES)}
    fig = plots.time_in_system_figure(samples, p95)
    assert_no_text_clipped(fig)
    assert_legends_cover_no_axes(fig)
    renderer, texts, _ = _drawn(fig)
    (ax,) = fig.axes
    ticks = _tick_labels(fig)
    inside = [t.get_window_extent(renderer) for t in texts if t.axes is ax and id(t) not in ticks]
    assert all(not a.overlaps(b) for a, b in combinations(inside, 2))
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[0] == f"{NAMES[0]} (n = 400; p95 12.0 h [11.0, 13.0])"


def test_daily_legend_is_never_clipped() -> None:
    dates = pd.date_range("2025-05-01", periods=60)
    daily = {
        name: pd.DataFrame({"date": dates, "mean": 900.0 + i, "low": 880.0, "high": 950.0})
        for i, name in enumerate(NAMES)
    }
    fig = plots.daily_figure(daily)
    assert_no_text_clipped(fig)
    assert_legends_cover_no_axes(fig)
    _, texts, _ = _drawn(fig)
    assert sum(t.get_text().endswith("(7-day mean)") for t in texts) == len(NAMES)


@pytest.mark.parametrize("count", [2, 5])
def test_hourly_chart_for_few_scenarios_fits(count: int) -> None:
    fig = plots.hourly_figure({name: _hourly(i) for i, name in enumerate(NAMES[:count])})
    assert_no_text_clipped(fig)
    assert_legends_cover_no_axes(fig)


def test_hourly_small_multiples_one_panel_per_scenario() -> None:
    tables = {name: _hourly(i) for i, name in enumerate(NAMES)}
    fig = plots.hourly_small_multiples(tables, "in_system")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().replace("\n", "") for ax in visible] == NAMES
    assert len({ax.get_ylim() for ax in visible}) == 1  # one shared scale
    assert_no_text_clipped(fig)
    reference = visible[1].get_lines()[0].get_ydata()
    assert np.allclose(reference, tables[NAMES[0]]["in_system_mean"])  # the first, in grey


def test_report_switches_to_small_multiples_beyond_five() -> None:
    assert plots.SMALL_MULTIPLES_FROM == 6


# --------------------------------------------------------------------------- intervals
def test_non_negative_interval_uses_the_log_scale() -> None:
    # "trucks in system at the end [-19.9, 335.9]": mean 158, half-width 177.9
    stat = bounded("backlog_end", {"mean": 158.0, "ci95": [-19.9, 335.9]})
    lo, hi = stat["ci95"]
    assert stat["interval"] == "log"
    assert lo == pytest.approx(158.0 / math.exp(177.9 / 158.0))
    assert hi == pytest.approx(158.0 * math.exp(177.9 / 158.0))
    assert 0 < lo < 158.0 < hi


def test_share_interval_uses_the_logit_scale() -> None:
    stat = bounded("cleared_share.1119-1120.export", {"mean": 0.806, "ci95": [0.065, 1.546]})
    lo, hi = stat["ci95"]
    assert stat["interval"] == "logit" and 0 < lo < 0.806 < hi < 1
    centre, spread = math.log(0.806 / 0.194), 0.7405 / (0.806 * 0.194)
    assert lo == pytest.approx(1 / (1 + math.exp(-(centre - spread))))


def test_intervals_inside_their_bounds_and_signed_kpis_are_unchanged() -> None:
    kpis = {
        "throughput_per_day": {"mean": 900.0, "ci95": [880.0, 920.0]},
        "backlog_growth_per_day": {"mean": 3.0, "ci95": [-4.0, 10.0]},
        "station.hn_vn_xray.wait_mean_min": {"mean": 2.46, "ci95": [-0.52, 5.44]},
        "backlog_end": {"mean": 0.0, "ci95": [0.0, 0.0]},
    }
    shown = bounded_kpis(kpis)
    assert shown["throughput_per_day"] == kpis["throughput_per_day"]
    assert shown["backlog_growth_per_day"] == kpis["backlog_growth_per_day"]
    assert shown["backlog_end"] == kpis["backlog_end"]
    assert shown["station.hn_vn_xray.wait_mean_min"]["ci95"][0] > 0


# --------------------------------------------------------------------------- glossary, differences
def test_scenario_differences_lists_each_differing_field() -> None:
    from gatesim.report.explain import scenario_differences

    first = {"name": "a", "days": 30, "stations": {"x": {"servers": 1, "label": "X"}}}
    other = {"name": "b", "days": 30, "stations": {"x": {"servers": 2, "label": "X"},
                                                   "y": {"servers": 1}}}  # fmt: skip
    rows, by_section = scenario_differences(first, other)
    assert rows == [("stations.x.servers", "1", "2"), ("stations.y.servers", "(not set)", "1")]
    assert by_section == "stations 2"


def test_glossary_names_each_base_kpi_once_in_the_language() -> None:
    from gatesim.report.explain import glossary_rows
    from gatesim.report.language import use_language

    keys = ["throughput_per_day.1119-1120.export", "throughput_per_day", "time_in_system_p95_h",
            "station.hn_vn_xray.utilization"]  # fmt: skip
    assert glossary_rows(keys) == [
        ("throughput_per_day", "Trucks cleared per day", "trucks per day"),
        ("time_in_system_p95_h", "Time in system, p95 (h)", "hours"),
    ]
    with use_language("vi"):
        assert [row[1] for row in glossary_rows(keys)] == [
            "Số xe thông quan mỗi ngày",
            "Thời gian trong hệ thống, p95 (giờ)",
        ]
