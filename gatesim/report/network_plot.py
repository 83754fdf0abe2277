"""The lane-network figure, one function per layer: lane bands and the border, roads, station
nodes, yard spill-back rings, labels, the utilisation bar and the legend.

Drawn from a run's network-and-flows tables and ``stations.csv`` only
(:mod:`gatesim.report.network_layout` places the nodes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from gatesim.report.network_layout import (
    NetworkLayout,
    NetworkTables,
    lay_out_network,
    station_means,
)
from gatesim.report.plots import SPILLBACK_COLOUR, UTILISATION_CMAP, figure_canvas

__all__ = ["LANE_CROSSINGS", "network_figure", "road_peak"]

ROAD_COLOUR = "#7A8B99"
IDLE_COLOUR = "#E6E6E6"
BORDER_COLOUR = "#B22222"
NODE_SIZE = 420
#: Road width in points: a floor so unused roads stay visible, plus a share of the widest.
ROAD_MIN_WIDTH, ROAD_WIDTH_SPAN = 0.6, 7.0
#: The crossing each shipped lane serves, written on its band (the country labels above the
#: bands name the sides only: the top band is not always the Huu Nghi lane).
LANE_CROSSINGS = {
    "1119-1120": "Hữu Nghị – Youyiguan",
    "1088/2-1089": "Tân Thanh – Po Chai",
}


def road_peak(tables: NetworkTables, stations: pd.DataFrame, measured_days: float) -> float:
    """The busiest road's trucks/day in a run: pass the largest over several runs as
    ``network_figure(peak=...)`` so their road widths share one scale."""
    means = station_means(stations) if "station" in stations.columns else stations
    flows = lay_out_network(tables, means, measured_days).edge_flow.values()
    return max((f for f in flows if np.isfinite(f)), default=0.0)


def network_figure(
    tables: NetworkTables,
    stations: pd.DataFrame,
    measured_days: float,
    title: str | None = None,
    peak: float | None = None,
) -> Figure:
    """The lane network of a run, VN side left and CN side right, one band per lane.

    ``tables`` are the run's ``network_nodes.csv`` and ``network_edges.csv``; ``stations`` is
    ``stations.csv`` (per replication, or already averaged by ``station_means``). Station
    nodes are coloured by utilisation, roads are drawn with a width proportional to the trucks
    per day using them, and yards show their spill-back onto the approach road (km, mean of
    the per-replication maxima) as a ring. ``peak`` (trucks/day) is the flow drawn at full
    width: give several figures the same one (:func:`road_peak`) to compare their roads;
    by default this run's busiest road.
    """
    means = station_means(stations) if "station" in stations.columns else stations
    layout = lay_out_network(tables, means, measured_days)
    xs = [p[0] for p in layout.pos.values()] or [0.0]
    ys = [p[1] for p in layout.pos.values()] or [0.0]
    width = min(18.0, max(10.0, 1.05 * (max(xs) - min(xs) + 2)))
    height = min(14.0, max(6.0, 0.62 * (max(ys) - min(ys) + 2) + 2.5))
    fig, ax = figure_canvas(width, height)
    ax.grid(False)
    ax.set_axis_off()

    norm, cmap = Normalize(0.0, 1.0), matplotlib.colormaps[UTILISATION_CMAP]
    top = _draw_lanes_and_border(ax, layout.bands, xs, ys)
    peak = _draw_roads(ax, layout, peak)
    _draw_network_nodes(ax, layout, norm, cmap)
    _draw_spillback_rings(ax, layout)
    _draw_node_labels(ax, layout)
    _draw_utilisation_bar(fig, ax, norm, cmap)
    _draw_legend(ax, peak, width)
    ax.set_title(
        title
        or f"Lane network: road width = trucks/day, colour = utilisation "
        f"({measured_days:g} measured days)"
    )
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 1.0, top + 0.8)
    return fig


def _draw_lanes_and_border(
    ax: Any, bands: Mapping[str, tuple[float, float]], xs: Sequence[float], ys: Sequence[float]
) -> float:
    """Draw the lane bands, the border line and the country labels; return the label height."""
    for lane, (y0, y1) in bands.items():
        ax.axhspan(y0, y1, color="#F3F3F3", zorder=0)
        crossing = LANE_CROSSINGS.get(lane)
        header = f"lane {lane}" + (f" · {crossing}" if crossing else "")
        ax.text(min(xs) - 0.9, y1 - 0.25, header, fontsize=11, weight="bold", va="top")
    ax.axvline(0.0, color=BORDER_COLOUR, linestyle=(0, (6, 4)), linewidth=1.3, zorder=0.5)
    top = max(ys) + 1.2
    ax.text(
        0.0, top, "border (zero line)", ha="center", va="bottom", color=BORDER_COLOUR, fontsize=10
    )
    ax.text(min(xs) - 0.9, top, "← Việt Nam (Lạng Sơn)", ha="left", va="bottom", fontsize=11)
    ax.text(max(xs) + 0.9, top, "China (Guangxi) →", ha="right", va="bottom", fontsize=11)
    return top


def _road_width(share: float) -> float:
    """Line width of a road carrying ``share`` of the busiest road's trucks."""
    return ROAD_MIN_WIDTH + ROAD_WIDTH_SPAN * share


def _draw_roads(ax: Any, layout: NetworkLayout, peak: float | None = None) -> float:
    """Draw the roads, width proportional to trucks/day over ``peak`` (default: this run's
    busiest road); return the peak used (1 if none)."""
    flows = layout.edge_flow
    busiest = max((f for f in flows.values() if np.isfinite(f)), default=0.0)
    peak = max(peak or 0.0, busiest) or 1.0
    segments = list(flows)
    widths = [_road_width(flows[e] / peak if np.isfinite(flows[e]) else 0.0) for e in segments]
    nx.draw_networkx_edges(
        layout.graph.to_undirected(as_view=True),
        layout.pos,
        edgelist=segments,
        width=widths,
        edge_color=ROAD_COLOUR,
        alpha=0.75,
        ax=ax,
        node_size=NODE_SIZE,
    )
    return peak


def _draw_network_nodes(ax: Any, layout: NetworkLayout, norm: Normalize, cmap: Any) -> None:
    """Draw stations coloured by utilisation (grey when idle), then sources, sinks, junctions."""
    graph, pos = layout.graph, layout.pos
    station_nodes = [n for n in graph.nodes if graph.nodes[n].get("kind") == "station"]
    util = [layout.utilisation.get(n, math.nan) for n in station_nodes]
    idle = [not (layout.node_flow.get(n, 0.0) > 0) for n in station_nodes]
    face = [
        IDLE_COLOUR if i or not np.isfinite(u) else cmap(norm(u))
        for u, i in zip(util, idle, strict=True)
    ]
    nx.draw_networkx_nodes(
        graph,
        pos,
        nodelist=station_nodes,
        node_color=face,
        node_size=NODE_SIZE,
        edgecolors="#333333",
        linewidths=0.8,
        ax=ax,
    )
    shapes = {"source": ">", "sink": "s", "junction": "D"}
    for kind, marker in shapes.items():
        nodes = [n for n in graph.nodes if graph.nodes[n].get("kind") == kind]
        if nodes:
            nx.draw_networkx_nodes(
                graph,
                pos,
                nodelist=nodes,
                node_color="#FFFFFF",
                node_shape=marker,
                node_size=260 if kind != "junction" else 200,
                edgecolors="#555555",
                linewidths=1.0,
                ax=ax,
            )


def _draw_spillback_rings(ax: Any, layout: NetworkLayout) -> None:
    """Ring every yard, sized by its spill-back (km, capped at 5) and labelled when positive."""
    for name, km in layout.spillback_km.items():
        x, y = layout.pos[name]
        ring = 600 + 2500 * min(km, 5.0) / 5.0
        ax.scatter(
            [x],
            [y],
            s=ring,
            facecolors="none",
            edgecolors=SPILLBACK_COLOUR,
            linewidths=2.2,
            linestyle="--" if km <= 0 else "-",
            zorder=3,
        )
        if km <= 0:
            continue
        ax.annotate(
            f"spill-back {km:.1f} km",
            (x, y),
            xytext=(0, math.sqrt(ring) / 2 + 2),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            color=SPILLBACK_COLOUR,
            weight="bold",
        )


def _draw_node_labels(ax: Any, layout: NetworkLayout) -> None:
    """Write each node's short label just below it."""
    for node, (x, y) in layout.pos.items():
        ax.annotate(
            layout.labels[node],
            (x, y),
            xytext=(0, -13),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=7.5,
            color="#222222",
        )


def _draw_utilisation_bar(fig: Figure, ax: Any, norm: Normalize, cmap: Any) -> None:
    """The colour bar of station utilisation, right of the network."""
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.025, pad=0.01)
    bar.set_label("station utilisation (opening hours)")
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))


def _draw_legend(ax: Any, peak: float, width: float) -> None:
    """Road widths at 25 % and 100 % of ``peak`` and the node markers, below the network."""
    ax.legend(
        handles=_legend_handles(peak),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.01),
        ncols=7 if width >= 15 else 4,
        frameon=False,
        fontsize=9,
    )


def _marker(marker: str, size: float, label: str) -> Line2D:
    return Line2D(
        [0], [0], marker=marker, color="w", markeredgecolor="#555", markersize=size, label=label
    )


def _legend_handles(peak: float) -> list[Any]:
    """Legend entries of the network figure: road widths, node markers, idle and yard keys."""
    return [
        Line2D(
            [0], [0], color=ROAD_COLOUR, linewidth=_road_width(0.25), label=f"{0.25 * peak:,.0f}"
        ),
        Line2D(
            [0], [0], color=ROAD_COLOUR, linewidth=_road_width(1.0), label=f"{peak:,.0f} trucks/day"
        ),
        _marker(">", 9, "source (arrivals)"),
        _marker("s", 8, "sink (released)"),
        _marker("D", 7, "junction / control area"),
        Patch(facecolor=IDLE_COLOUR, edgecolor="#333333", label="station without trucks"),
        Patch(
            facecolor="none",
            edgecolor=SPILLBACK_COLOUR,
            linewidth=2,
            label="yard (dashed: no spill-back)",
        ),
    ]
