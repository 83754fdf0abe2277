"""Sensitivity figures from ``sensitivity.json`` (never simulation objects).

- :func:`tornado_figure`: the factors of one KPI, most influential first: total and first-order
  Sobol indices with their CIs where estimated, else Morris μ* with its CI.
- :func:`interaction_figure`: Morris μ* against σ. Far right = strong effect; high above the
  diagonal band = the effect depends on the other factors (interaction) or is non-linear.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from gatesim.report.plots import OKABE_ITO, STYLE, save_figure

TORNADO_ROWS = 15  # factors shown; the rest are listed in sensitivity.csv
LABELLED_POINTS = 8  # factors named in the μ*-σ plot
OTHERS = "other assumptions"


def file_slug(kpi: str) -> str:
    """A KPI name as part of a file name (``p95_h.1088/2-1089`` -> ``p95_h_1088_2-1089``)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", kpi)


def _rows(document: Mapping[str, Any], stage: str, kpi: str) -> list[dict[str, Any]]:
    return [r for r in document.get(stage) or [] if r["kpi"] == kpi]


def tornado_figure(document: Mapping[str, Any], kpi: str) -> Figure:
    """Horizontal bars, largest at the top: ST and S1 (Sobol) or μ* (Morris only)."""
    sobol = _rows(document, "sobol", kpi)
    rows = sorted(sobol or _rows(document, "morris", kpi), key=lambda r: _key(r, bool(sobol)))
    rows = rows[:TORNADO_ROWS][::-1]
    labels = [r["factor"] for r in rows]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(8.0, 1.2 + 0.32 * len(rows)), layout="constrained")
        ax = fig.subplots()
        y = range(len(rows))
        if sobol:
            ax.barh(y, [r["ST"] for r in rows], xerr=[r["ST_ci"] for r in rows], height=0.7,
                    color=OKABE_ITO[2], label="total index ST", capsize=2)  # fmt: skip
            ax.barh(y, [r["S1"] for r in rows], xerr=[r["S1_ci"] for r in rows], height=0.35,
                    color=OKABE_ITO[4], label="first-order index S1", capsize=2)  # fmt: skip
            ax.set_xlabel(f"share of the variance of {kpi}")
            ax.legend(loc="lower right")
        else:
            ax.barh(y, [r["mu_star"] for r in rows], xerr=[r["mu_star_ci"] for r in rows],
                    height=0.7, color=OKABE_ITO[2], capsize=2)  # fmt: skip
            ax.set_xlabel(f"Morris μ*: change of {kpi} across the factor's range")
        ax.set_yticks(list(y), labels)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_title(f"What moves {kpi}", loc="left")
    return fig


def _key(row: Mapping[str, Any], sobol: bool) -> tuple[int, float]:
    if sobol:  # the others' group last, whatever its size
        return (row["factor"] == OTHERS, -(row["ST"] or 0.0))
    return (0, -(row["mu_star"] or 0.0))


def interaction_figure(document: Mapping[str, Any], kpi: str) -> Figure:
    """Morris σ against μ*, with the lines σ/μ* = 0.1, 0.5 and 1 (Garcia Sanchez et al. 2014:
    below 0.1 almost linear, above 1 strongly non-linear or interacting)."""
    rows = _rows(document, "morris", kpi)
    mu = [r["mu_star"] for r in rows]
    sigma = [r["sigma"] for r in rows]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(7.0, 5.0), layout="constrained")
        ax = fig.subplots()
        ax.scatter(mu, sigma, color=OKABE_ITO[5], zorder=3)
        top = max([*mu, *sigma, 1e-12])
        for ratio, style in ((0.1, ":"), (0.5, "--"), (1.0, "-")):
            ax.plot([0, top], [0, ratio * top], style, color="grey", linewidth=0.8,
                    label=f"σ/μ* = {ratio:g}")  # fmt: skip
        for r in sorted(rows, key=lambda r: -r["mu_star"])[:LABELLED_POINTS]:
            ax.annotate(r["factor"], (r["mu_star"], r["sigma"]), fontsize=7,
                        xytext=(4, 2), textcoords="offset points")  # fmt: skip
        ax.set_xlabel(f"μ* (effect on {kpi} across the range)")
        ax.set_ylabel("σ (interaction or non-linearity)")
        ax.set_xlim(0, 1.35 * max([*mu, 1e-12]))  # room for the labels of the rightmost points
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left")
        ax.set_title(f"Morris screening of {len(rows)} assumptions: {kpi}", loc="left")
    return fig


def write_sensitivity_figures(
    folder: Path, document: Mapping[str, Any], formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """``tornado-<kpi>`` and ``interaction-<kpi>`` for every analysed KPI."""
    written: list[Path] = []
    for kpi in document["kpis"]:
        slug = file_slug(kpi)
        written += save_figure(tornado_figure(document, kpi), folder / f"tornado-{slug}", formats)
        written += save_figure(
            interaction_figure(document, kpi), folder / f"interaction-{slug}", formats
        )
    return written
