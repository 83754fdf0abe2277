"""Which of a summary's KPIs describe the digital border-gate platform, for the console and
HTML tables (present only when a scenario declares ``platform:``)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["PLATFORM_BY_GROUP", "platform_keys"]

#: Per lane and direction (and overall), in display order.
PLATFORM_BY_GROUP = (
    "deferred_per_day",
    "deferral_added_delay_mean_h",
    "deferred_owed_at_report_mean",
    "diverted_per_day",
    "value_diverted_musd_per_day",
    "platform_held_at_report_mean",
    "vn_side_backlog_at_report_registered_mean",
    "vn_side_backlog_at_report_unregistered_mean",
)
_YARDS = ("staging_occupancy_mean.", "staging_occupancy_max.", "staging_spillback_km_max.")


def platform_keys(kpis: Iterable[str]) -> list[str]:
    """The platform's KPI keys among ``kpis``: the families overall and by lane and direction
    (``<lane>.<direction>`` suffixes), diversions by destination, then the yards; hourly
    occupancy and cargo breakdowns stay in the tables of files."""
    present = list(kpis)
    if "deferred_per_day" not in present:
        return []
    groups = [""]
    for key in present:
        base, _, suffix = key.partition(".")
        by_lane = suffix.count(".") == 1 and not suffix.startswith(("direction.", "cargo."))
        if base == "deferred_per_day" and by_lane:
            groups.append("." + suffix)
    keys = [f"{base}{group}" for group in groups for base in PLATFORM_BY_GROUP]
    keys += [k for k in present if k.startswith("diverted_per_day.to.") and k.count(".") == 2]
    keys += [k for k in present if k.startswith(_YARDS)]
    return [k for k in keys if k in set(present)]
