"""Saturated lanes as the console and the HTML report show them, read from the ``warnings``
of a ``summary.json`` document (:func:`gatesim.stats.saturation.lane_warnings` decides them).

Above capacity a queue has no steady state, so every time-in-system figure that counts trucks
of a saturated lane and direction grows with the run length: the lane and direction itself,
its lane, its direction, the whole gate and the seasons (which pool every stream). Cargo
breakdowns are not marked: the warnings do not say which cargo classes a lane carries.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

__all__ = ["GROWS_NOTE", "grows_with_run_length", "saturated_groups", "warning_messages"]

GROWS_NOTE = "grows with run length"


def saturated_groups(summary: Mapping[str, Any]) -> list[str]:
    """The ``<lane>.<direction>`` groups a summary warns about (none for older summaries)."""
    return [f"{w['lane']}.{w['direction']}" for w in summary.get("warnings") or []]


def warning_messages(summary: Mapping[str, Any]) -> list[str]:
    """One sentence per saturated lane and direction."""
    return [str(w["message"]) for w in summary.get("warnings") or []]


def grows_with_run_length(key: str, groups: Collection[str]) -> bool:
    """Whether the KPI ``key`` is a time in system that counts trucks of one of the saturated
    ``groups`` (``<lane>.<direction>``), so that its value depends on the run length."""
    base, _, suffix = key.partition(".")
    if not groups or not base.startswith("time_in_system"):
        return False
    if not suffix or suffix.startswith("season."):
        return True
    kind, _, value = suffix.partition(".")
    if kind == "cargo":
        return False
    if kind == "direction":
        return any(g.rpartition(".")[2] == value for g in groups)
    return suffix in groups or any(g.rpartition(".")[0] == suffix for g in groups)
