"""Queues over time: where and when trucks pile up, from a run's ``queues_over_time.csv``.

Two figures: a station × hour-of-the-run heat map of the trucks waiting in each queue, and the
spill-back of the staging yards onto their approach roads (km) over the run. Both read the
table only (the top-of-hour snapshots averaged over replications; docs/outputs.md).
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gatesim.report.plots import SPILLBACK_COLOUR, figure_canvas

__all__ = ["QUEUES_TABLE", "queue_heatmap", "queue_matrix", "spillback_figure", "yards_of"]

#: The table both figures read (written by every ``run``).
QUEUES_TABLE = "queues_over_time.csv"
_HEAT_CMAP = "magma_r"  # white for an empty queue, dark for a long one
_MAX_ROWS = 40  # stations shown: those with the longest queues


def queue_matrix(table: pd.DataFrame, column: str = "waiting_mean") -> pd.DataFrame:
    """``column`` as a station × hour-of-the-run matrix (stations in table order), keeping the
    stations whose queue is ever non-empty, at most the ``_MAX_ROWS`` with the largest peaks."""
    matrix = table.pivot(index="station", columns="hour_of_run", values=column)
    matrix = matrix.reindex(list(dict.fromkeys(table["station"])))
    peaks = matrix.max(axis=1)
    kept = peaks[peaks > 0].nlargest(_MAX_ROWS).index
    return matrix.loc[[name for name in matrix.index if name in kept]]


def queue_heatmap(table: pd.DataFrame, title: str) -> Figure:
    """Trucks waiting at each station (rows) at the top of each hour of the run (columns),
    mean over replications; a dashed line marks the end of the warm-up."""
    matrix = queue_matrix(table)
    hours = int(table["hour_of_run"].max()) + 1 if len(table) else 24
    rows = max(len(matrix), 1)
    fig, ax = figure_canvas(min(16.0, 6.0 + hours / 60.0), max(2.6, 0.24 * rows + 1.6))
    values = matrix.to_numpy(dtype=float) if len(matrix) else np.zeros((1, hours))
    top = float(np.nanpercentile(values, 99)) if np.isfinite(values).any() else 1.0
    image = ax.imshow(
        np.ma.masked_invalid(values),
        aspect="auto",
        cmap=matplotlib.colormaps[_HEAT_CMAP],
        vmin=0.0,
        vmax=max(top, 1.0),
        interpolation="none",
        extent=(0, hours, rows - 0.5, -0.5),
    )
    ax.set_yticks(range(len(matrix)), [str(name) for name in matrix.index], fontsize=8)
    _day_axis(ax, hours)
    _mark_warmup(ax, table)
    ax.grid(False)
    ax.set_title(title if len(matrix) else f"{title} (no queue at any hour)")
    fig.colorbar(image, ax=ax, label="trucks waiting (mean of replications)", shrink=0.9)
    return fig


def yards_of(table: pd.DataFrame) -> list[str]:
    """The stations with a spill-back series (staging yards), in table order."""
    yards = table.loc[table["spillback_km_mean"].notna(), "station"]
    return list(dict.fromkeys(yards))


def spillback_figure(table: pd.DataFrame, title: str) -> Figure:
    """Queue on each staging yard's approach road (km) at the top of each hour of the run,
    mean over replications with its 95 % interval shaded."""
    hours = int(table["hour_of_run"].max()) + 1 if len(table) else 24
    fig, ax = figure_canvas(min(14.0, 6.0 + hours / 80.0), 3.6)
    colours = matplotlib.colormaps["tab10"]
    for k, yard in enumerate(yards_of(table)):
        rows = table[table["station"] == yard]
        colour = SPILLBACK_COLOUR if k == 0 else colours(k % 10)
        x = rows["hour_of_run"].to_numpy()
        ax.step(x, rows["spillback_km_mean"], where="post", color=colour, label=yard, lw=1.4)
        lo, hi = rows["spillback_km_lo"].to_numpy(), rows["spillback_km_hi"].to_numpy()
        if np.isfinite(lo).any():
            ax.fill_between(x, lo, hi, step="post", color=colour, alpha=0.18, lw=0)
    ax.set_ylim(bottom=0.0)
    ax.set_xlim(0, hours)
    ax.set_ylabel("spill-back (km)")
    _day_axis(ax, hours)
    _mark_warmup(ax, table)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8, frameon=False, ncols=2)
    return fig


def _day_axis(ax: object, hours: int) -> None:
    """Ticks at the start of each day (at most about 15 labels)."""
    days = max(hours // 24, 1)
    step = max(1, int(np.ceil(days / 15)))
    ticks = list(range(0, days * 24 + 1, 24 * step))
    ax.set_xticks(ticks, [str(t // 24) for t in ticks])  # type: ignore[attr-defined]
    ax.set_xlabel("day of the run (ticks at midnight, Vietnamese time)")  # type: ignore[attr-defined]


def _mark_warmup(ax: object, table: pd.DataFrame) -> None:
    """A dashed line where the measured period starts (none without a warm-up)."""
    measured = table.loc[table["measured"].astype(bool), "hour_of_run"]
    if len(measured) and int(measured.min()) > 0:
        ax.axvline(int(measured.min()), color="#555555", ls="--", lw=1.0)  # type: ignore[attr-defined]
