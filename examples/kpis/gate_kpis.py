"""Gate-wide KPIs defined outside gatesim (a KPI plug-in).

``share_under_12h``: of the loaded trucks that arrived after the warm-up and cleared before the
end (the time-in-system sample), the share that took at most 12 h from arrival to clearance,
for the whole gate and by lane and direction (``share_under_12h.<lane>.<direction>``).

Load it with ``--plugin examples/kpis/gate_kpis.py`` (or ``gatesim.load_plugin``) and list it in
a scenario: ``kpis: [share_under_12h]``. Worker processes (``--jobs 2``) load it again.
"""

from __future__ import annotations

import numpy as np

from gatesim import RunResult, register_kpi

LIMIT_H = 12.0


def share_under_12h(result: RunResult) -> dict[str, float]:
    """Share of measured trucks through the gate within 12 h of arriving."""
    within = result.time_in_system_min <= LIMIT_H * 60.0
    row = {"share_under_12h": _share(within)}
    groups: dict[str, list[int]] = {}
    for i, stream in enumerate(result.streams):
        groups.setdefault(f"{stream.lane}.{stream.direction}", []).append(i)
    for group, streams in groups.items():
        mine = np.isin(result.time_in_system_stream, streams)
        row[f"share_under_12h.{group}"] = _share(within[mine])
    return row


def _share(flags: np.ndarray) -> float:
    return float(flags.mean()) if flags.size else float("nan")


register_kpi("share_under_12h", share_under_12h, unit="share", doc=share_under_12h.__doc__ or "")
