"""The KPI registry: named functions of one replication's ``RunResult`` (cf. Mesa's reporters).

A KPI function takes the :class:`~gatesim.core.results.RunResult` of one replication and returns
either one number (the KPI named as registered) or a mapping of named numbers (a family, e.g.
``throughput_per_day`` and ``throughput_per_day.<lane>.<direction>``)::

    register_kpi("share_under_12h", share_under_12h, unit="share", doc="cleared within 12 h")

The built-in families register here too, with ``always=True`` (:mod:`gatesim.stats.kpis`):
every run computes them, in registration order. Any other KPI is computed when a scenario lists
it (``kpis: [share_under_12h]``), after the built-ins, in the listed order; its keys must be its
name or start with ``<name>.``, so outputs can tell which KPI a column belongs to.

Where registrations come from: a module that calls ``register_kpi`` (loaded with ``--plugin``
or ``gatesim.load_plugin``, so worker processes load it again), or an installed package's entry
point in the group ``gatesim.kpis`` (``share_under_12h = "mykpis:share_under_12h"``), imported
the first time a scenario names it. A name is registered once; registering the same function
again (a re-imported module) replaces the entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from gatesim.core.errors import ScenarioError
from gatesim.core.results import RunResult
from gatesim.scenario.kpi_names import set_kpi_check
from gatesim.scenario.schema import _suggest

__all__ = [
    "ENTRY_POINT_GROUP",
    "Kpi",
    "KpiFunction",
    "compute_kpis",
    "extra_kpi_document",
    "kpi_names",
    "register_kpi",
    "registered_kpis",
    "resolve_kpi",
]

ENTRY_POINT_GROUP = "gatesim.kpis"
KpiFunction = Callable[[RunResult], float | Mapping[str, float]]
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")


@dataclass(frozen=True)
class Kpi:
    """One registered KPI (or family of KPIs)."""

    name: str
    fn: KpiFunction
    unit: str
    doc: str
    always: bool

    def evaluate(self, result: RunResult) -> dict[str, float]:
        """The KPI's named values for ``result``."""
        value = self.fn(result)
        if not isinstance(value, Mapping):
            return {self.name: float(value)}
        row = {str(key): float(v) for key, v in value.items()}
        if not self.always:
            stray = [k for k in row if k != self.name and not k.startswith(self.name + ".")]
            if stray:
                raise ValueError(
                    f"KPI '{self.name}' returned {stray[:3]}: its keys must be '{self.name}' "
                    f"or start with '{self.name}.'"
                )
        return row


_REGISTRY: dict[str, Kpi] = {}


def register_kpi(
    name: str, fn: KpiFunction, unit: str = "", doc: str = "", *, always: bool = False
) -> KpiFunction:
    """Register ``fn(result) -> float | {key: float}`` as the KPI ``name``; returns ``fn``.

    ``doc`` defaults to the first line of ``fn``'s docstring. ``always=True`` computes it in
    every run (gatesim's built-ins); otherwise a scenario lists it in ``kpis:``. A name taken by
    a different function raises ``ValueError``; the same function again replaces the entry.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"KPI name {name!r} must be a letter then letters, digits or '_'")
    if not callable(fn):
        raise TypeError(f"KPI '{name}': {fn!r} is not callable")
    existing = _REGISTRY.get(name)
    if existing is not None and _qualified(existing.fn) != _qualified(fn):
        raise ValueError(
            f"KPI '{name}' is already registered to {_qualified(existing.fn)}, not {_qualified(fn)}"
        )
    if not doc and fn.__doc__:
        doc = fn.__doc__.strip().splitlines()[0]
    _REGISTRY[name] = Kpi(name, fn, unit, " ".join(doc.split()), always)
    return fn


def _qualified(fn: object) -> str:
    """Same module and name: a re-imported module (or notebook cell) may register again."""
    module = getattr(fn, "__module__", None) or type(fn).__module__
    return f"{module}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"


def registered_kpis() -> dict[str, Kpi]:
    """The registered KPIs by name, in registration order (installed ones not yet loaded are
    left out: see :func:`kpi_names`)."""
    return dict(_REGISTRY)


def kpi_names() -> list[str]:
    """Every name a scenario may list: registered, and installed entry points (not imported)."""
    installed = [p.name for p in entry_points(group=ENTRY_POINT_GROUP) if p.name not in _REGISTRY]
    return [*_REGISTRY, *sorted(set(installed))]


def resolve_kpi(name: str) -> Kpi:
    """The KPI registered as ``name``, importing an installed entry point of that name."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    point = next((p for p in entry_points(group=ENTRY_POINT_GROUP) if p.name == name), None)
    if point is None:
        raise ScenarioError(None, "kpis", _unknown(name))
    try:
        loaded = point.load()
    except Exception as exc:  # a broken installed package: one line, never a traceback
        raise ScenarioError(
            None, "kpis", f"installed KPI '{point.value}' cannot be imported: {exc}"
        ) from None
    if name not in _REGISTRY and callable(loaded):  # a plain function: register it as named
        register_kpi(name, loaded)
    if name not in _REGISTRY:
        raise ScenarioError(None, "kpis", f"installed KPI '{point.value}' registers no '{name}'")
    return _REGISTRY[name]


def _unknown(name: str) -> str:
    known = [n for n in kpi_names() if n not in _REGISTRY or not _REGISTRY[n].always]
    listing = ", ".join(known) if known else "none registered"
    return (
        f"unknown KPI {name[:80]!r}{_suggest(name, known)}; known: {listing} "
        "(KPIs come from register_kpi in a --plugin module or an installed package)"
    )


def _check_name(name: str) -> str | None:
    """The scenario schema's check of a ``kpis:`` entry (installed in gatesim.scenario)."""
    if name in _REGISTRY:
        always = _REGISTRY[name].always
        return f"KPI '{name}' is built in: every run computes it" if always else None
    if any(p.name == name for p in entry_points(group=ENTRY_POINT_GROUP)):
        return None
    return _unknown(name)


def compute_kpis(result: RunResult, extra: Sequence[str] = ()) -> dict[str, float]:
    """Every ``always`` KPI, then those named in ``extra``, as one flat row. Two KPIs yielding
    the same key is an error (one would silently hide the other), so is naming a built-in."""
    row: dict[str, float] = {}
    chosen = [k for k in _REGISTRY.values() if k.always]
    chosen += [resolve_kpi(name) for name in extra]
    for kpi in chosen:
        values = kpi.evaluate(result)
        clash = [key for key in values if key in row]
        if clash:
            raise ValueError(f"KPI '{kpi.name}' yields {clash[:3]}, already yielded by another")
        row.update(values)
    return row


def extra_kpi_document(names: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``summary.json["extra_kpis"]``: each KPI a scenario listed, with its unit, doc and the
    keys it yielded among ``keys`` (the KPI table's columns, whose intervals are in ``kpis``)."""
    document: dict[str, dict[str, Any]] = {}
    for name in names:
        kpi = resolve_kpi(name)
        yielded = [k for k in keys if k == name or k.startswith(name + ".")]
        document[name] = {"unit": kpi.unit, "doc": kpi.doc, "keys": yielded}
    return document


set_kpi_check(_check_name)
