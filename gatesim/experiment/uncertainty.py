"""Uncertain values of a scenario: its ``uncertain:`` ranges as factors, and design points.

A factor is one assumption: a numeric field (addressed like ``--set``, by dotted path) and the
fields that share its value (``also``), with a range, a distribution over it and its reasoning.
Sensitivity methods sample the unit hypercube; :meth:`Factor.value` maps a coordinate ``u`` in
[0, 1] to the field's value by the inverse of its distribution function, so every method sees
the factors on one scale and an index means "over the factor's plausible range".

:class:`DesignSpace` turns a row of factor values into a validated scenario, with the same
loader code path as ``--set`` (``apply_overrides`` then ``validate_raw``), so a design point is
exactly the scenario a planner would get by typing those values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatesim.core.errors import ScenarioError
from gatesim.model.loading import validate_raw
from gatesim.scenario.loader import apply_overrides, load_raw
from gatesim.scenario.schema import Scenario, UncertainSpec

#: Fields that define the experiment rather than the gate: varying them is not an assumption
#: (``seed`` would also break the common random numbers the methods rely on).
NOT_UNCERTAIN = ("name", "description", "seed", "replications", "uncertain", "days")


@dataclass(frozen=True)
class Factor:
    """One uncertain assumption: its field paths, range, distribution and reasoning."""

    name: str
    paths: tuple[str, ...]
    low: float
    high: float
    why: str
    nominal: float
    dist: str = "uniform"
    mode: float | None = None
    integer: bool = False

    def value(self, u: float) -> float:
        """The value at quantile ``u`` in [0, 1]. Whole-number fields (server counts) give each
        integer in [low, high] the same share of [0, 1] (for a uniform range)."""
        u = min(max(float(u), 0.0), 1.0)
        if not self.integer:
            return self._quantile(self.low, self.high, self.mode, u)
        x = self._quantile(self.low - 0.5, self.high + 0.5, self.mode, u)
        return float(min(max(math.floor(x + 0.5), self.low), self.high))

    def _quantile(self, low: float, high: float, mode: float | None, u: float) -> float:
        width = high - low
        if self.dist == "uniform" or mode is None:
            return low + u * width
        peak = (mode - low) / width  # inverse of the triangular distribution function
        if u < peak:
            return low + math.sqrt(u * width * (mode - low))
        return high - math.sqrt((1.0 - u) * width * (high - mode))

    def document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "paths": list(self.paths),
            "low": self.low,
            "high": self.high,
            "dist": self.dist,
            "mode": self.mode,
            "nominal": self.nominal,
            "integer": self.integer,
            "why": self.why,
        }


def factor(name: str, low: float, high: float, why: str = "-", **kw: Any) -> Factor:
    """A factor for a plain model function (no scenario): nominal is the middle of the range."""
    return Factor(name, (name,), low, high, why, kw.pop("nominal", (low + high) / 2), **kw)


class DesignSpace:
    """The uncertain factors of one scenario file and the scenarios at their design points."""

    def __init__(self, path: Path, overrides: Mapping[str, Any] | None = None) -> None:
        self.path = Path(path)
        raw = load_raw(self.path)
        self.raw = apply_overrides(raw, overrides, self.path) if overrides else raw
        self.scenario = validate_raw(self.raw, self.path)
        self.document = self.scenario.model_dump(mode="json", by_alias=True)
        self.factors = [
            self._factor(key, spec)
            for key, spec in self.scenario.uncertain.items()
            if spec is not None
        ]
        if not self.factors:
            raise ScenarioError(self.path, "uncertain", "no uncertain values: nothing to analyse")
        for f in self.factors:
            self._check_ends(f)

    def scenario_at(self, values: Sequence[float]) -> Scenario:
        """The validated scenario with every factor at the given value (in factor order)."""
        overrides = {
            path: _typed(value, f.integer)
            for f, value in zip(self.factors, values, strict=True)
            for path in f.paths
        }
        return validate_raw(apply_overrides(self.raw, overrides, self.path), self.path)

    def nominal(self) -> list[float]:
        return [f.nominal for f in self.factors]

    def _factor(self, key: str, spec: UncertainSpec) -> Factor:
        field = f"uncertain.{key}"
        paths = (key, *spec.also)
        values = [self._numeric_value(field, p) for p in paths]
        integer = all(isinstance(v, int) for v in values)
        if integer != any(isinstance(v, int) for v in values):
            raise ScenarioError(
                self.path, field, "the fields of one assumption must all be whole numbers or "
                "all not", list(paths),
            )  # fmt: skip
        if integer and not (float(spec.low).is_integer() and float(spec.high).is_integer()):
            raise ScenarioError(
                self.path,
                field,
                "a whole-number field needs whole-number low and high",
                [spec.low, spec.high],
            )
        return Factor(
            key, paths, spec.low, spec.high, spec.why, float(values[0]),
            spec.dist, spec.mode, integer,
        )  # fmt: skip

    def _numeric_value(self, field: str, dotted: str) -> int | float:
        if dotted.split(".")[0] in NOT_UNCERTAIN:
            raise ScenarioError(self.path, field, "this field is not an assumption", dotted)
        try:
            apply_overrides(self.raw, {dotted: 0}, self.path)  # refuses a path --set refuses
        except ScenarioError as exc:
            raise ScenarioError(self.path, field, exc.message, dotted) from None
        # The validated scenario first: its types are the schema's (``mode: 2`` is a float
        # there) and it holds defaults the file leaves out; then the file, for a field the
        # schema reshapes (``weekdays: {sat: 1.05}`` becomes a list of rules).
        value = _value_at(self.document, dotted)
        if value is _ABSENT:
            value = _value_at(self.raw, dotted)
        if value is _ABSENT:  # a schema field name, but not a field here (a deterministic
            # service has no ``mode``): --set would add it and validation refuse it
            raise ScenarioError(self.path, field, "no such field in this scenario", dotted)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(self.path, field, f"'{dotted}' is not a numeric field", value)
        return value

    def _check_ends(self, f: Factor) -> None:
        """Each end of each range, the others at their nominal values, must be a valid scenario,
        so a range that leaves the schema's bounds is named before anything runs."""
        for end, value in (("low", f.low), ("high", f.high)):
            values = [value if g is f else g.nominal for g in self.factors]
            try:
                self.scenario_at(values)
            except ScenarioError as exc:
                raise ScenarioError(
                    self.path, f"uncertain.{f.name}.{end}", f"gives an invalid scenario: "
                    f"{exc.field}: {exc.message}", value,
                ) from None  # fmt: skip


_ABSENT = object()


def _value_at(tree: Any, dotted: str) -> Any:
    node = tree
    for key in dotted.split("."):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return _ABSENT
    return node


def _typed(value: float, integer: bool) -> int | float:
    return round(value) if integer else float(value)
