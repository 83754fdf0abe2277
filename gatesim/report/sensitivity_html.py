"""The HTML report page of a sensitivity folder (``run_sim.py sensitivity --report``).

Built from ``sensitivity.json`` and ``manifest.json`` with the page parts of
:mod:`gatesim.report.html`: per KPI the reading, the ranking table and the two figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gatesim.report import html
from gatesim.report.sensitivity_console import ranking_rows
from gatesim.report.sensitivity_plots import file_slug, interaction_figure, tornado_figure

HEADER = ["assumption", "μ*", "μ* CI ±", "σ", "S1", "S1 CI ±", "ST", "ST CI ±"]


def sensitivity_page(results: html.Results) -> str:
    document = results.sensitivity or {}
    design = document.get("design") or {}
    subtitle = (
        f"sensitivity analysis ({document.get('method', '?')}) in {results.path.name} · "
        f"{len(document.get('factors') or [])} uncertain values, "
        f"{design.get('replications_per_point', '?')} replication(s) per design point, "
        f"seed {design.get('simulation_seed', '?')} · {html._written()}"
    )
    sections = [
        (f"kpi-{file_slug(kpi)}", kpi, _kpi_section(document, kpi))
        for kpi in document.get("kpis") or []
    ]
    sections.append(("ranges", "Uncertain values and their ranges", ranges_section(document)))
    sections.append(("manifest", "Reproducibility (manifest)", html._manifest_section(results)))
    title = f"gatesim report: sensitivity of {document.get('scenario', results.path.name)}"
    return html._page(results, title, subtitle, sections)


def _kpi_section(document: Mapping[str, Any], kpi: str) -> str:
    rows = [
        [f"<code>{html._esc(r['factor'])}</code>"]
        + [html._num(r.get(key), 3) for key in ("mu_star", "mu_star_ci", "sigma")]
        + [html._num(r.get(key), 2) for key in ("S1", "S1_ci", "ST", "ST_ci")]
        for r in ranking_rows(document, kpi)
    ]
    figures = [
        html.FigureSpec(
            f"fig-tornado-{file_slug(kpi)}",
            f"What moves {kpi}",
            "Total (wide bars) and first-order (narrow) Sobol indices with their bootstrap CIs "
            "where estimated; else Morris μ*.",
            lambda: tornado_figure(document, kpi),
        ),
        html.FigureSpec(
            f"fig-interaction-{file_slug(kpi)}",
            f"Morris μ* against σ: {kpi}",
            "Right: strong effect; high above the σ/μ* = 1 line: the effect depends on other "
            "assumptions or is strongly non-linear.",
            lambda: interaction_figure(document, kpi),
        ),
    ]
    body = [
        f"<p>{html._esc((document.get('reading') or {}).get(kpi, ''))}</p>",
        html._table(HEADER, rows, "kpi", "Most influential assumptions first"),
        *(html._render_figure(spec) for spec in figures),
    ]
    return html._section(f"kpi-{file_slug(kpi)}", kpi, "\n".join(body))


def ranges_section(document: Mapping[str, Any]) -> str:
    rows = [
        [
            f"<code>{html._esc(f['name'])}</code>"
            + "".join(f"<br><small>= {html._esc(p)}</small>" for p in f["paths"][1:]),
            html._num(f["nominal"], 3),
            f"{html._num(f['low'], 3)} – {html._num(f['high'], 3)}",
            html._esc(f["dist"] + (f" (mode {f['mode']:g})" if f.get("mode") is not None else "")),
            html._esc(f["why"]),
        ]
        for f in document.get("factors") or []
    ]
    header = ["assumption (fields)", "value", "range", "distribution", "why"]
    return html._section("ranges", "Uncertain values and their ranges", html._table(header, rows))
