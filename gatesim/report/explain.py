"""What the report explains besides its numbers: a KPI glossary (the KPI registry's families
and the names the report's tables use) and what differs between the resolved scenarios of a
compare or sweep (every field path whose value is not the first scenario's).

Pure data (rows of text); :mod:`gatesim.report.html` lays them out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gatesim.report import plots
from gatesim.report.language import tr

#: Fields every member differs in without it being a difference of the scenario.
NOT_A_DIFFERENCE = frozenset({"name", "description"})
#: At most this many differing fields listed per scenario (the rest counted).
MAX_DIFFERENCES = 60


def family_rows() -> list[tuple[str, str, str]]:
    """(family, unit, what it holds) of every registered KPI family, in registration order."""
    import gatesim.stats.kpis  # noqa: F401  (registers the built-in families)
    from gatesim.stats.registry import registered_kpis

    return [(name, kpi.unit, kpi.doc) for name, kpi in registered_kpis().items()]


def glossary_rows(keys: Iterable[str]) -> list[tuple[str, str, str]]:
    """(KPI key, its name in the report's language, its unit) of each base KPI in ``keys``,
    once, sorted by key."""
    bases = sorted({key.split(".", 1)[0] for key in keys if not key.startswith("station.")})
    return [(base, plots.kpi_label(base), tr(_unit(base))) for base in bases]


def _unit(base: str) -> str:
    """The unit when the report knows it ('' otherwise: the family table says it)."""
    if base.endswith("_h"):
        return "hours"
    if base.endswith("_min"):
        return "minutes"
    return plots.KPI_UNITS.get(base, "share" if base.endswith("_share") else "")


def sections_differing(paths: Iterable[str]) -> str:
    """'stations 12, arrivals 3': how many differing fields each top-level section holds."""
    counts: dict[str, int] = {}
    for path in paths:
        section = path.split(".", 1)[0]
        counts[section] = counts.get(section, 0) + 1
    return ", ".join(f"{section} {count}" for section, count in sorted(counts.items()))


def flatten(document: Any, prefix: str = "") -> dict[str, Any]:
    """A nested mapping as ``{"stations.hn_vn_xray.servers": 2, ...}`` (lists are leaves)."""
    if not isinstance(document, Mapping):
        return {prefix: document}
    flat: dict[str, Any] = {}
    for key, value in document.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, path))
        else:
            flat[path] = value
    return flat


def scenario_differences(
    first: Mapping[str, Any], other: Mapping[str, Any]
) -> tuple[list[tuple[str, str, str]], str]:
    """(field path, first scenario's value, this one's) of every field that differs, sorted by
    path (at most :data:`MAX_DIFFERENCES`), and how many differ in each top-level section."""
    a, b = flatten(first), flatten(other)
    paths = sorted(
        p
        for p in set(a) | set(b)
        if p.split(".", 1)[0] not in NOT_A_DIFFERENCE and a.get(p, _MISSING) != b.get(p, _MISSING)
    )
    rows = [(p, _shown(a.get(p, _MISSING)), _shown(b.get(p, _MISSING))) for p in paths]
    return rows[:MAX_DIFFERENCES], sections_differing(paths)


class _Missing:
    def __repr__(self) -> str:
        return "(not set)"


_MISSING = _Missing()


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, _Missing) else str(value)
    return text if len(text) <= 120 else text[:117] + "..."
