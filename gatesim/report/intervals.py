"""Intervals that respect a KPI's bounds, for display.

``summary.json`` carries each KPI's 95 % Student-t interval over the replications,
mean ± h. For a quantity that cannot be negative (trucks, hours, km, money) that interval can
reach below 0 when the replications are few or skewed ("trucks in system at the end
[−19.9, 335.9]"); for a share it can pass 0 or 1. Cutting it at the bound would claim a
precision the data do not have, so where (and only where) the t-interval crosses a bound, the
report and the console show the delta-method interval on a scale where the bound is
unreachable, built from the same mean and standard error (se = h / t):

* non-negative KPIs, **log scale**: mean · exp(± h / mean), always above 0, wider above
  the mean than below (as the skew of such quantities usually is);
* shares in [0, 1], **logit scale**: logit⁻¹(logit(p) ± h / (p (1 − p))), always inside (0, 1).

Such an interval is marked (:data:`BOUNDED_MARK`) so a reader knows it is not the symmetric
t-interval. Intervals that stay inside their bounds, and every paired difference (which may be
negative), are shown as computed. A mean on the bound itself (all replications 0, or all 1)
has h = 0 and needs no change.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: KPIs (by base name, or a station figure) that can be negative: left as computed.
MAY_BE_NEGATIVE = frozenset({"backlog_growth_per_day", "littles_law_gap"})
#: KPIs that are shares in [0, 1] (by base name or station figure; ``*_share`` too).
SHARES = frozenset({"cleared_share", "utilization", "slot_utilization"})
BOUNDED_MARK = "‡"
BOUNDED_NOTE = (
    "‡ the t-interval would cross 0 (or 100 %): shown on the log (logit for shares) scale, "
    "same mean and standard error"
)


def _figure(key: str) -> str:
    """The KPI's kind: its base name, or the figure of a ``station.<name>.<figure>`` KPI."""
    base = key.split(".", 1)[0]
    return key.rsplit(".", 1)[-1] if base == "station" else base


def is_share(key: str) -> bool:
    figure = _figure(key)
    return figure in SHARES or figure.endswith("_share")


def is_non_negative(key: str) -> bool:
    return _figure(key) not in MAY_BE_NEGATIVE


def bounded(key: str, stat: Mapping[str, Any]) -> dict[str, Any]:
    """``stat`` ({"mean", "ci95": [lo, hi]}) with a bound-respecting interval where its
    t-interval crosses the bound of ``key``; ``"interval": "log"|"logit"`` says which."""
    result = dict(stat)
    mean = stat.get("mean")
    lo, hi = (stat.get("ci95") or [None, None])[:2]
    if mean is None or lo is None or hi is None or not is_non_negative(key):
        return result
    half = (hi - lo) / 2.0
    if is_share(key) and 0.0 < mean < 1.0 and (lo < 0.0 or hi > 1.0):
        centre = math.log(mean / (1.0 - mean))
        spread = half / (mean * (1.0 - mean))
        result["ci95"] = [_expit(centre - spread), _expit(centre + spread)]
        result["interval"] = "logit"
    elif mean > 0.0 and lo < 0.0:
        factor = math.exp(min(half / mean, 700.0))
        result["ci95"] = [mean / factor, mean * factor]
        result["interval"] = "log"
    return result


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def bounded_kpis(kpis: Mapping[str, Any]) -> dict[str, Any]:
    """Every KPI of a summary with :func:`bounded` intervals (non-stat entries unchanged)."""
    return {k: bounded(k, v) if isinstance(v, Mapping) else v for k, v in kpis.items()}


def was_bounded(stat: Mapping[str, Any] | None) -> bool:
    """True when :func:`bounded` replaced the t-interval of ``stat``."""
    return stat is not None and stat.get("interval") in ("log", "logit")
