"""Capacity in the HTML report and the figures: a ``capacity`` folder's page, the capacity
section of a ``compare --capacity`` report and the capacity markers of the throughput figure.

The folders are written by hand (no simulation) from documents built by the real producers
(:mod:`gatesim.experiment.capacity_run`) out of hand-made measurements, so the report reads
exactly the schema ``run_sim.py capacity`` and ``compare --capacity`` write.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from matplotlib.figure import Figure

from gatesim.experiment.capacity import CapacityOptions, FlowCapacity
from gatesim.experiment.capacity_run import (
    capacity_document,
    capacity_entries,
    flow_document,
)
from gatesim.report import html, plots
from gatesim.stats.intervals import paired_difference, t_interval

A, B = "A.export", "B.import"
ROWS = [  # per replication: what each flow cleared under saturated entry
    {f"throughput_per_day.{A}": 240.0, f"throughput_per_day.{B}": 100.0},
    {f"throughput_per_day.{A}": 250.0, f"throughput_per_day.{B}": 101.0},
    {f"throughput_per_day.{A}": 260.0, f"throughput_per_day.{B}": 102.0},
]
BINDING = [
    {
        "station": "a_gate",
        "utilization": 0.97,
        "blocking_share": 0.0,
        "wait_mean_min": 31.0,
        "capped_days": 0.0,
    },
    {
        "station": "a_check",
        "utilization": 0.93,
        "blocking_share": 0.0,
        "wait_mean_min": 12.0,
        "capped_days": 2.0,
    },
]
BRACKET_NOTE = "bracket still wider than 5% after the batch limit"


def _flows(with_ramp: bool, rows: list[dict[str, float]] = ROWS) -> list[FlowCapacity]:
    """A.export: methods agree (with a ramp note); B.import: the ramp sustains far less than
    saturated entry clears, so they disagree (the ramp's figure is quoted), and today's demand
    is twice the capacity."""
    flows = []
    for group, offered in ((A, 200.0), (B, 150.0)):
        values = [row[f"throughput_per_day.{group}"] for row in rows]
        flows.append(
            FlowCapacity(
                group,
                offered,
                saturated=t_interval(values),
                saturated_rows=rows,
                binding=BINDING if group == A else BINDING[:1],
            )
        )
    if with_ramp:
        flows[0].ramp, flows[0].ramp_bracket = (245.0, 238.0, 252.0), (1.2, 1.26)
        flows[0].ramp_growing_offered, flows[0].ramp_note = (252.0, 248.0, 256.0), BRACKET_NOTE
        flows[1].ramp, flows[1].ramp_bracket = (75.0, 71.0, 79.0), (0.5, 0.52)
        flows[1].ramp_growing_offered = (80.0, 77.0, 83.0)
    return flows


def _capacity_folder(root: Path, with_ramp: bool) -> tuple[Path, dict[str, Any]]:
    methods = ("saturated", "ramp") if with_ramp else ("saturated",)
    scenario: Any = SimpleNamespace(name="toy", days=6, warmup_days=1.0, seed=7)
    document = capacity_document(
        scenario,
        _flows(with_ramp),
        CapacityOptions(replications=3, methods=methods),
        Path("toy.yaml"),
        {"executor": "serial", "jobs": 1, "dask_address": None},
    )
    folder = root / ("cap" if with_ramp else "cap_saturated")
    folder.mkdir()
    (folder / "capacity.json").write_text(json.dumps(document), encoding="utf-8")
    manifest = {"kind": "capacity", "gatesim_version": "test", "scenario_hash": "abc123"}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder, document


def _cell(interval: tuple[float, float, float]) -> str:
    """A mean [95 % CI] cell as the report writes it (one decimal)."""
    mean, lo, hi = interval
    return f"{mean:,.1f} <small>[{lo:,.1f}, {hi:,.1f}]</small>".replace("-", "−")


def _row(page: str, first_cells: str, section: str = "capacity") -> str:
    """The row of the table in ``section`` of ``page`` that starts with these cells."""
    start = page.index(f'<section id="{section}">')
    body = page[start : page.index("</section>", start)]
    match = re.search(r"<tr>" + re.escape(first_cells) + r".*?</tr>", body)
    assert match, first_cells
    return match.group(0)


def _embedded_figures(page: str) -> dict[str, bytes]:
    """Figure anchor -> decoded PNG of every figure drawn (missing ones are left out)."""
    import base64

    found = re.findall(r'<figure id="([^"]+)"><img [^>]*src="data:image/png;base64,([^"]+)"', page)
    return {anchor: base64.b64decode(data) for anchor, data in found}


# --------------------------------------------------------------------------- capacity folder
def test_capacity_folder_report_shows_both_methods_the_gate_and_the_figure(
    tmp_path: Path,
) -> None:
    folder, document = _capacity_folder(tmp_path, with_ramp=True)
    page = html.write_report(folder).read_text(encoding="utf-8")
    assert 'data-report-kind="capacity"' in page
    assert "<h1>gatesim report: capacity of toy</h1>" in page
    a_row = _row(page, "<td>A</td><td>export</td>")
    assert "<td>200.0</td>" in a_row
    assert _cell(t_interval([240.0, 250.0, 260.0])) in a_row
    assert "250.0 <small>[225.2, 274.8]</small>" in a_row  # t(2) interval of 240, 250, 260
    assert "245.0 <small>[238.0, 252.0]</small>" in a_row
    assert "stable at ×1.20, grows at ×1.26" in a_row
    assert "<td>yes</td><td>250.0</td><td>80</td>" in a_row  # agree, quoted, 200 / 250
    assert "<code>a_gate</code> 97 %" in a_row
    assert "<code>a_check</code> 93 %, capped on 2.0 days" in a_row
    assert BRACKET_NOTE in a_row  # a ramp note is shown even when the methods agree
    b_row = _row(page, "<td>B</td><td>import</td>")
    b_flow = document["flows"][1]
    assert b_flow["agree"] is False
    assert b_flow["capacity"] == 75.0  # the ramp sustains less: its figure is quoted
    assert "<td><b>no</b></td><td>75.0" in b_row and "<td><b>200</b></td>" in b_row  # 150 / 75
    if "capacity_method" in b_flow:  # the quoted method, when the document names it
        assert ('<small class="method">ramp</small>' in b_row) == (
            b_flow["capacity_method"] == "ramp"
        )
    assert html._esc(b_flow["agreement"]) in b_row
    gate = _row(page, "<td><b>whole gate</b></td><td>both</td>")
    assert "<td>350.0</td>" in gate
    assert _cell(t_interval([340.0, 351.0, 362.0])) in gate  # per-replication sums
    assert "320.0 <small>[309.0, 331.0]</small>" in gate  # ramp: the flows' bounds summed
    assert "<td>325.0</td><td><b>108</b></td>" in gate  # quoted: 250 + 75; 350 over it
    figures = _embedded_figures(page)
    assert list(figures) == ["fig-capacity"]
    assert figures["fig-capacity"][:8] == b"\x89PNG\r\n\x1a\n"
    assert 'class="missing"' not in page
    assert "<td>scenario hash</td><td>abc123</td>" in page


def test_capacity_folder_with_the_saturated_method_only_renders(tmp_path: Path) -> None:
    folder, document = _capacity_folder(tmp_path, with_ramp=False)
    assert document["flows"][0]["ramp"] is None
    behind = [{"station": "a_check", "started_share": 0.5}]  # a station the entry starved
    document["flows"][0]["behind_under_saturation"] = behind
    (folder / "capacity.json").write_text(json.dumps(document), encoding="utf-8")
    assert html.main([str(folder), "-q"]) == 0
    page = (folder / "report.html").read_text(encoding="utf-8")
    a_row = _row(page, "<td>A</td><td>export</td>")
    assert "share of arrivals started under saturated entry: a_check 50 %" in a_row
    saturated = _cell(t_interval([240.0, 250.0, 260.0]))
    assert f"<td>{saturated}</td><td>–</td><td>–</td><td>250.0</td><td>80</td>" in a_row
    gate = _row(page, "<td><b>whole gate</b></td><td>both</td>")
    assert f"<td>{_cell(t_interval([340.0, 351.0, 362.0]))}</td><td>–</td>" in gate
    assert list(_embedded_figures(page)) == ["fig-capacity"]
    labels = _legend_labels(plots.capacity_figure(document))
    assert "saturated entry" in labels and "demand ramp" not in labels


def test_a_capacity_document_of_another_kind_is_refused(tmp_path: Path) -> None:
    folder, document = _capacity_folder(tmp_path, with_ramp=False)
    (folder / "capacity.json").write_text(json.dumps({**document, "kind": "other"}))
    with pytest.raises(ValueError, match="not a gatesim capacity document"):
        html.write_report(folder)


# --------------------------------------------------------------------------- capacity figure
def _legend_labels(fig: Figure) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def _bar_heights(ax: Any, label: str) -> list[float]:
    return [
        patch.get_height()
        for container in ax.containers
        if container.get_label() == label
        for patch in container.patches
    ]


def test_capacity_figure_draws_each_method_with_whiskers_and_the_offered_dash(
    tmp_path: Path,
) -> None:
    _, document = _capacity_folder(tmp_path, with_ramp=True)
    document["flows"][1]["ramp"] = None  # a flow the ramp found no answer for
    fig = plots.capacity_figure(document)
    assert isinstance(fig, Figure)
    gate_ax, flow_ax = fig.axes
    assert _legend_labels(fig) == [plots.OFFERED_LABEL, "saturated entry", "demand ramp"]
    assert _bar_heights(flow_ax, "saturated entry") == pytest.approx([250.0, 101.0])
    assert _bar_heights(flow_ax, "demand ramp") == pytest.approx([245.0])
    assert _bar_heights(gate_ax, "saturated entry") == pytest.approx([351.0])
    assert _bar_heights(gate_ax, "demand ramp") == pytest.approx([320.0])
    texts = [t.get_text() for t in flow_ax.texts]
    assert "no answer" in texts and "methods disagree" in texts
    dashes = [
        segment[0][1]
        for artist in flow_ax.collections
        if artist.get_label() == plots.OFFERED_LABEL
        for segment in artist.get_segments()
    ]
    assert sorted(dashes) == [150.0, 200.0]
    upper = t_interval([240.0, 250.0, 260.0])[2]
    assert flow_ax.get_ylim()[1] >= upper  # the highest whisker fits


# --------------------------------------------------------------------------- throughput figure
def _stat(mean: float) -> dict[str, Any]:
    return {"mean": mean, "ci95": [mean - 2.0, mean + 2.0]}


KPIS = {
    "base": {
        "throughput_per_day": _stat(300.0),
        "offered_per_day": _stat(350.0),
        f"throughput_per_day.{A}": _stat(200.0),
        f"offered_per_day.{A}": _stat(200.0),
        f"throughput_per_day.{B}": _stat(100.0),
        f"offered_per_day.{B}": _stat(150.0),
    }
}


def test_throughput_figure_marks_capacity_and_reaches_it() -> None:
    capacity = {"base": {A: {"mean": 900.0, "ci95": [880.0, 920.0]}, B: _stat(101.0)}}
    fig = plots.throughput_figure(KPIS, capacity=capacity)
    total_ax, lane_ax = fig.axes[:2]
    assert plots.CAPACITY_LABEL in _legend_labels(fig)
    assert _bar_heights(lane_ax, plots.CAPACITY_LABEL) == pytest.approx([900.0, 101.0])
    assert _bar_heights(total_ax, plots.TOTAL_CAPACITY_LABEL) == pytest.approx([1001.0])
    hollow = next(c for c in lane_ax.containers if c.get_label() == plots.CAPACITY_LABEL)
    assert all(not patch.get_fill() for patch in hollow.patches)
    assert lane_ax.get_ylim()[1] >= 920.0  # the capacity whisker, far above the cleared bars
    assert total_ax.get_ylim()[1] >= 1001.0
    whiskers = [
        seg
        for coll in lane_ax.collections
        if not coll.get_label().startswith("offered")
        for seg in coll.get_segments()
        if np.isclose(seg[0][1], 880.0)
    ]
    assert whiskers and np.isclose(whiskers[0][1][1], 920.0)


def test_throughput_figure_dots_a_capacity_quoted_from_the_ramp() -> None:
    capacity = {"base": {A: _stat(900.0), B: {**_stat(120.0), "method": "ramp"}}}
    fig = plots.throughput_figure(KPIS, capacity=capacity)
    lane_ax = fig.axes[1]
    labels = _legend_labels(fig)
    assert plots.CAPACITY_LABEL in labels and plots.RAMP_CAPACITY_LABEL in labels
    assert _bar_heights(lane_ax, plots.CAPACITY_LABEL) == pytest.approx([900.0])
    assert _bar_heights(lane_ax, plots.RAMP_CAPACITY_LABEL) == pytest.approx([120.0])
    styles = {
        c.get_label(): c.patches[0].get_linestyle()
        for c in lane_ax.containers
        if c.get_label() in (plots.CAPACITY_LABEL, plots.RAMP_CAPACITY_LABEL)
    }
    assert styles[plots.CAPACITY_LABEL] != styles[plots.RAMP_CAPACITY_LABEL]


def test_throughput_figure_without_capacity_is_unchanged() -> None:
    fig = plots.throughput_figure(KPIS)
    assert plots.CAPACITY_LABEL not in _legend_labels(fig)
    assert all(_bar_heights(ax, plots.CAPACITY_LABEL) == [] for ax in fig.axes)
    partial = plots.throughput_figure(KPIS, capacity={"base": {A: _stat(900.0)}})
    total_ax, lane_ax = partial.axes[:2]
    assert _bar_heights(lane_ax, plots.CAPACITY_LABEL) == pytest.approx([900.0])
    assert _bar_heights(total_ax, plots.CAPACITY_LABEL) == []  # the gate sum needs every flow


# --------------------------------------------------------------------------- compare --capacity
def _compare_folder(root: Path, with_capacity: bool) -> Path:
    """Two scenarios; the second's capacity is higher in every replication (paired)."""
    faster = [{k: v + 100.0 + i for k, v in row.items()} for i, row in enumerate(ROWS)]
    flows = [_flows(False), _flows(False, faster)]
    offered = [{A: 260.0, B: 150.0}, {A: 260.0, B: 150.0}]
    entries = capacity_entries(flows, offered)
    entries[1]["capacity"][B].update(method="ramp", agreement="the mix changed")
    folder = root / ("cmp" if with_capacity else "cmp_plain")
    comparison = []
    for i, name in enumerate(("base", "fast")):
        (folder / name).mkdir(parents=True)
        summary = {"scenario": name, "days": 6, "warmup_days": 1, "replications": 3, "seed": 7}
        summary["kpis"] = KPIS["base"]
        (folder / name / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
        entry = {"scenario": name, "folder": name, "replications": 3, "kpis": KPIS["base"]}
        comparison.append({**entry, **(entries[i] if with_capacity else {})})
    (folder / "comparison.json").write_text(json.dumps(comparison), encoding="utf-8")
    return folder


def test_compare_report_has_the_capacity_section_and_markers(tmp_path: Path) -> None:
    page = html.write_report(_compare_folder(tmp_path, True)).read_text(encoding="utf-8")
    assert '<section id="capacity">' in page and '<a href="#capacity">' in page
    assert "What each scenario can carry (capacity)" in page
    base = _row(page, "<td>A</td><td>export</td><td>base</td>")
    assert "<td>260.0</td><td>250.0 <small>[225.2, 274.8]</small></td>" in base
    assert "<td><b>104</b></td><td>–</td>" in base  # 260 / 250 offered over capacity
    assert "<code>a_gate</code>, <code>a_check</code>" in base
    fast = _row(page, "<td>A</td><td>export</td><td>fast</td>")
    diff = paired_difference([240.0, 250.0, 260.0], [340.0, 351.0, 362.0])
    assert f"<b>{_cell(diff)}</b>" in fast  # excludes 0: bold
    assert _cell(t_interval([340.0, 351.0, 362.0])) in fast
    assert "difference vs base (paired)" in page
    b_fast = _row(page, "<td>B</td><td>import</td><td>fast</td>")
    assert '<small class="method" title="the mix changed">ramp</small>' in b_fast
    assert 'class="method"' not in fast  # saturated entry: no mark
    assert "fig-throughput" in _embedded_figures(page)
    assert "capacity by saturated entry" in page  # the throughput caption explains the marks


def test_compare_report_without_capacity_has_no_capacity_section(tmp_path: Path) -> None:
    page = html.write_report(_compare_folder(tmp_path, False)).read_text(encoding="utf-8")
    assert 'id="capacity"' not in page and "What each scenario can carry" not in page
    assert "hollow" not in page
    assert "fig-throughput" in _embedded_figures(page)


def test_flow_document_fields_the_report_reads_exist() -> None:
    """The report reads these keys of a flow; a schema change must show up here."""
    flow = flow_document(_flows(True)[0])
    for key in ("lane", "direction", "offered_per_day", "saturated", "ramp", "ramp_factors"):
        assert key in flow
    for key in ("ramp_note", "agree", "agreement", "load_ratio", "binding"):
        assert key in flow
