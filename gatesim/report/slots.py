"""The booked-slot KPIs in the report: which keys a summary has, and the console table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.table import Table

__all__ = ["SLOT_COLUMNS", "slot_keys", "slot_table"]

#: Console columns: heading and KPI base name (each ``<base><suffix>``).
SLOT_COLUMNS = (
    ("slots used (%)", "slot_utilization"),
    ("booked/day", "slot_booked_per_day"),
    ("early/day", "slot_early_per_day"),
    ("late/day", "slot_late_per_day"),
    ("no-show/day", "slot_no_show_per_day"),
    ("rolled/day", "slot_rolled_per_day"),
    ("booking delay mean (h)", "slot_booking_delay_mean_h"),
    ("p95 (h)", "slot_booking_delay_p95_h"),
    ("booked past the end", "slot_pending_end"),
)


def _suffixes(keys: Iterable[str]) -> list[str]:
    """'' (every booked flow) and each '.<lane>.<direction>' with slots, first-seen."""
    found: dict[str, None] = {}
    for key in keys:
        if key == "slot_utilization" or key.startswith("slot_utilization."):
            found[key[len("slot_utilization") :]] = None
    return list(found)


def slot_keys(keys: Iterable[str]) -> list[str]:
    """Every slot KPI key of a summary, by flow and then column (empty without slots)."""
    keys = list(keys)
    present = set(keys)
    return [
        base + suffix
        for suffix in _suffixes(keys)
        for _, base in SLOT_COLUMNS
        if base + suffix in present
    ]


def slot_table(kpis: Mapping[str, Any], format_ci: Any, format_percent: Any) -> Table | None:
    """Booked arrival slots by lane and direction (None without slots)."""
    suffixes = _suffixes(kpis)
    if not suffixes:
        return None
    table = Table(title="Booked arrival slots (mean [95% CI])")
    table.add_column("lane, direction")
    for heading, _ in SLOT_COLUMNS:
        table.add_column(heading, justify="right")
    for suffix in suffixes:
        cells = [
            format_percent(kpis.get(base + suffix))
            if base == "slot_utilization"
            else format_ci(kpis.get(base + suffix), 2 if base.endswith("_h") else 1)
            for _, base in SLOT_COLUMNS
        ]
        table.add_row(suffix.lstrip(".").replace(".", " ") or "all booked", *cells)
    return table
