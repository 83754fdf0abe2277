"""Checking the names a scenario's ``kpis:`` lists, through a hook.

The KPI registry (:mod:`gatesim.stats.registry`) sits above the scenario layer, which may not
import it; the registry installs its check here when it is imported (``import gatesim`` does),
so the schema refuses an unknown name with the loader's one-line error naming the file. Without
an installed check (the scenario layer used on its own) names are only checked for repeats;
running the KPIs then refuses an unknown one.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["check_kpi_names", "set_kpi_check"]

#: Returns why a name is not a KPI (None when it is one).
_check: Callable[[str], str | None] | None = None


def set_kpi_check(check: Callable[[str], str | None]) -> None:
    """Install the registry's check (called once, by gatesim.stats.registry on import)."""
    global _check
    _check = check


def check_kpi_names(names: list[str]) -> list[str]:
    """``names`` when each is a known KPI and none is repeated; else ValueError (one line)."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"KPI {name!r} is listed twice")
        seen.add(name)
        problem = _check(name) if _check is not None else None
        if problem:
            raise ValueError(problem)
    return names
