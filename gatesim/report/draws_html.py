"""The HTML report page of an answer over draws (``plan``/``capacity --draws N --report``).

Built from ``draws.json`` and ``manifest.json`` with the page parts of
:mod:`gatesim.report.html`: the answer's distribution (the console's lines, a table and a
figure), every draw with its values and answer, the uncertain values' ranges, the manifest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from gatesim.report import html
from gatesim.report.draws_console import draws_lines, spread
from gatesim.report.plots import OKABE_ITO, STYLE
from gatesim.report.sensitivity_html import ranges_section

DRAWS_SHOWN = 200  # rows of the per-draw table on the page; every draw is in draws.csv


def draws_page(results: html.Results) -> str:
    document = results.draws or {}
    design = document.get("design") or {}
    what = "capacity" if document.get("kind") == "capacity_draws" else "plan"
    subtitle = (
        f"{what} over {design.get('draws', '?')} draws ({design.get('sampler', '?')}, draw seed "
        f"{design.get('draw_seed', '?')}) in {results.path.name} · simulation seed "
        f"{document.get('seed', '?')} in every draw · {html._written()}"
    )
    sections = [
        ("answer", "The answer over the draws", _answer_section(document)),
        ("draws", "Every draw", _draws_section(document)),
        ("ranges", "Uncertain values and their ranges", ranges_section(document)),
        ("manifest", "Reproducibility (manifest)", html._manifest_section(results)),
    ]
    title = f"gatesim report: {what} over draws of {document.get('scenario', results.path.name)}"
    return html._page(results, title, subtitle, sections)


def _answer_section(document: Mapping[str, Any]) -> str:
    lines = "".join(f"<li>{html._esc(line)}</li>" for line in draws_lines(document)[1:])
    body = [f"<ul>{lines}</ul>"]
    if document.get("kind") == "capacity_draws":
        rows = [
            [html._esc(group), spread(flow["capacity"], "/day"),
             html._esc(", ".join(f"{s['station']} {100 * s['binds_share']:.0f} %"
                                 for s in flow["stations"] if s["binds_share"] > 0) or "–")]
            for group, flow in document["summary"]["flows"].items()
        ]  # fmt: skip
        body.append(html._table(["lane.direction", "capacity over the draws", "binds"], rows))
    spec = html.FigureSpec(
        "fig-draws", "The answer in each draw", "One bar per answer: the share of draws "
        "giving it (capacities are grouped in bins).", lambda: answer_figure(document),
    )  # fmt: skip
    body.append(html._render_figure(spec))
    return "\n".join(body)


def _draws_section(document: Mapping[str, Any]) -> str:
    draws = document.get("draws") or []
    names = [f["name"] for f in document.get("factors") or []]
    rows = []
    for entry in draws[:DRAWS_SHOWN]:
        values = [html._num(entry["values"][n], 3) for n in names]
        rows.append([str(entry["draw"]), *values, html._esc(_answer_text(entry))])
    more = len(draws) > DRAWS_SHOWN
    caption = f"first {DRAWS_SHOWN} of {len(draws)}; all in draws.csv" if more else ""
    header = ["draw", *(f"<code>{html._esc(n)}</code>" for n in names), "answer"]
    return html._table(header, rows, "draws", caption)


def _answer_text(entry: Mapping[str, Any]) -> str:
    parts = []
    for group, flow in (entry.get("flows") or {}).items():
        capacity = flow["capacity"]
        parts.append(f"{group} {'–' if capacity is None else f'{capacity:,.0f}'}/day")
    if "found" in entry:
        chosen = entry["chosen"]
        sizes = ", ".join(f"{k}={v}" for k, v in chosen.items()) if chosen else "none in range"
        parts.append(sizes)
    if "first_missed_year" in entry:
        parts.append(f"first missed {entry['first_missed_year'] or 'never'}")
    return "; ".join(parts)


def answer_figure(document: Mapping[str, Any]) -> Figure:
    """Capacity: a histogram per lane and direction; plan: the shares of the first year missed
    and of each searched field's chosen value."""
    panels = _panels(document)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(8.0, 0.4 + 2.4 * len(panels)), layout="constrained")
        axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
        for ax, (title, values) in zip(axes, panels, strict=True):
            if all(isinstance(v, float) for v in values):
                bins = min(20, max(5, len(values) // 3))
                ax.hist(values, bins=bins, color=OKABE_ITO[2], edgecolor="white")
                low, median, high = np.quantile(values, (0.05, 0.5, 0.95))
                ax.axvline(median, color=OKABE_ITO[5], label=f"median {median:,.0f}")
                ax.axvspan(low, high, color=OKABE_ITO[5], alpha=0.12,
                           label=f"90 % interval {low:,.0f}-{high:,.0f}")  # fmt: skip
                ax.legend(loc="upper right", frameon=False)
                ax.set_ylabel("draws")
            else:  # whole answers (years, server counts) and words ("none in range")
                counts = Counter(values)
                labels = sorted(counts, key=lambda v: (isinstance(v, str), str(v).zfill(12)))
                shares = [counts[v] / len(values) for v in labels]
                ax.bar([str(v) for v in labels], shares, color=OKABE_ITO[2])
                ax.set_ylabel("share of draws")
            ax.set_title(title, loc="left")
    return fig


def _panels(document: Mapping[str, Any]) -> list[tuple[str, list[Any]]]:
    draws = document.get("draws") or []
    if document.get("kind") == "capacity_draws":
        groups = list((document.get("summary") or {}).get("flows") or {})
        return [
            (f"{g}: capacity (trucks/day)", [float(d["flows"][g]["capacity"]) for d in draws
                                            if d["flows"][g]["capacity"] is not None])
            for g in groups
        ]  # fmt: skip
    panels: list[tuple[str, list[Any]]] = []
    if draws and "first_missed_year" in draws[0]:
        last = document["design"]["years"][1]
        panels.append(("first year the targets are missed",
                       [d["first_missed_year"] or f"not by {last}" for d in draws]))  # fmt: skip
    for path in (document.get("summary") or {}).get("dimensions") or {}:
        chosen = [d["chosen"][path] if d["chosen"] else "none in range" for d in draws]
        panels.append((f"{path} needed", chosen))
    return panels
