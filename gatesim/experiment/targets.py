"""Inputs of ``run_sim.py plan``: service targets, capacity ranges and the cost file.

Every parser raises :class:`ScenarioError` naming the argument and the bad value (one line), so
the CLI turns bad input into exit code 2 before anything is simulated.
"""

from __future__ import annotations

import difflib
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatesim.core.errors import ScenarioError
from gatesim.scenario.loader import read_yaml_file
from gatesim.stats.intervals import t_quantile

#: One-sided confidence of the verdicts ("holds with 95 % confidence").
CONFIDENCE = 0.95
MAX_VALUES_PER_RANGE = 10_000
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}
_TARGET = re.compile(r"^\s*(?P<kpi>[^<>=\s]+)\s*(?P<op><=|>=|<|>)\s*(?P<value>\S+)\s*$")

HOLDS, FAILS, UNDECIDED = "holds", "fails", "undecided"


@dataclass(frozen=True)
class Target:
    """``KPI OP VALUE``: the mean of KPI over replications must satisfy OP VALUE."""

    kpi: str
    op: str
    value: float

    def __str__(self) -> str:
        return f"{self.kpi} {self.op} {self.value:g}"

    @property
    def upper(self) -> bool:
        """True for ``<=``/``<`` (the KPI must stay below the value)."""
        return self.op in ("<=", "<")

    def verdict(self, values: Sequence[float]) -> tuple[str, dict[str, float | None]]:
        """``holds`` when the one-sided 95 % t-bound of the mean is on the right side of the
        value, ``fails`` when the opposite one-sided bound is on the wrong side, else
        ``undecided``. A non-finite value (an undefined KPI, such as a p95 with no trucks) fails.
        Also returns the mean and both one-sided bounds (None if undefined)."""
        mean, low, high = one_sided_bounds(values)
        stats = {"mean": _finite(mean), "low": _finite(low), "high": _finite(high)}
        if any(not math.isfinite(v) for v in values):
            return FAILS, stats  # undefined (e.g. no trucks in a breakdown): more runs won't help
        if not (math.isfinite(low) and math.isfinite(high)):
            return UNDECIDED, stats
        check = OPERATORS[self.op]
        safe, unsafe = (high, low) if self.upper else (low, high)
        if check(safe, self.value):
            return HOLDS, stats
        if not check(unsafe, self.value):
            return FAILS, stats
        return UNDECIDED, stats


def one_sided_bounds(values: Sequence[float]) -> tuple[float, float, float]:
    """(mean, lower, upper): each bound a one-sided 95 % Student-t bound of the mean.

    NaN bounds with fewer than two values or a NaN among them; equal to the mean when every
    value is the same (the estimate is exact).
    """
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = math.fsum(values) / n
    if n < 2 or not all(math.isfinite(v) for v in values):
        return mean, math.nan, math.nan
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    if var == 0.0:
        return mean, mean, mean
    # t_quantile(c, df) is two-sided: c = 2·0.95 − 1 gives the one-sided 95 % quantile.
    half = t_quantile(2.0 * CONFIDENCE - 1.0, n - 1) * math.sqrt(var / n)
    return mean, mean - half, mean + half


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def parse_target(text: str) -> Target:
    """``time_in_system_p95_h<=6`` (spaces allowed); OP is one of ``<= < >= >``."""
    match = _TARGET.match(text)
    if match is None:
        raise ScenarioError(None, "--target", "expected KPI<=VALUE (or <, >=, >)", text)
    try:
        value = float(match["value"])
    except ValueError:
        raise ScenarioError(None, "--target", "the value is not a number", text) from None
    if not math.isfinite(value):
        raise ScenarioError(None, "--target", "the value must be finite", text)
    return Target(match["kpi"], match["op"], value)


def check_kpis(targets: Sequence[Target], known: Sequence[str]) -> None:
    """Refuse a target whose KPI the simulation does not report (with a suggestion)."""
    for target in targets:
        if target.kpi not in known:
            close = difflib.get_close_matches(target.kpi, list(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ScenarioError(None, "--target", f"unknown KPI{hint}", target.kpi)


# --------------------------------------------------------------------------- ranges
@dataclass(frozen=True)
class Dimension:
    """One varied capacity: a scenario field and its candidate values, increasing."""

    path: str
    values: tuple[int | float, ...]

    @property
    def low(self) -> int | float:
        return self.values[0]


def parse_vary(text: str) -> Dimension:
    """``PATH=LO:HI`` or ``PATH=LO:HI:STEP``; integers, or floats with an explicit step."""
    path, sep, raw = text.partition("=")
    path = path.strip()
    if not sep or not path:
        raise ScenarioError(None, "--vary", "expected FIELD.PATH=LO:HI[:STEP]", text)
    parts = [p.strip() for p in raw.split(":")]
    if len(parts) not in (2, 3):
        raise ScenarioError(None, "--vary", "expected a range LO:HI or LO:HI:STEP", text)
    numbers = [_number(p, text) for p in parts]
    integral = all(isinstance(x, int) for x in numbers)
    if not integral and len(parts) == 2:
        raise ScenarioError(None, "--vary", "a range of decimals needs a step LO:HI:STEP", text)
    lo, hi = numbers[0], numbers[1]
    step = numbers[2] if len(numbers) == 3 else 1
    if step <= 0:
        raise ScenarioError(None, "--vary", "the step must be > 0", text)
    if lo > hi:
        raise ScenarioError(None, "--vary", "LO must not exceed HI", text)
    count = math.floor((hi - lo) / step + 1e-9) + 1
    if count > MAX_VALUES_PER_RANGE:
        raise ScenarioError(None, "--vary", f"more than {MAX_VALUES_PER_RANGE} values", text)
    if integral:
        values: tuple[int | float, ...] = tuple(int(lo + i * step) for i in range(count))
    else:
        values = tuple(round(lo + i * step, 12) for i in range(count))
    return Dimension(path, values)


def _number(piece: str, text: str) -> int | float:
    try:
        return int(piece)
    except ValueError:
        pass
    try:
        value = float(piece)
    except ValueError:
        raise ScenarioError(None, "--vary", f"{piece!r} is not a number", text) from None
    if not math.isfinite(value):
        raise ScenarioError(None, "--vary", "bounds must be finite", text)
    return value


def check_dimensions(dimensions: Sequence[Dimension], fixed: Mapping[str, Any]) -> None:
    if not dimensions:
        raise ScenarioError(None, "--vary", "plan needs at least one --vary FIELD.PATH=LO:HI")
    seen: set[str] = set()
    for dim in dimensions:
        if dim.path in seen:
            raise ScenarioError(None, "--vary", "field given twice", dim.path)
        if dim.path in fixed:
            raise ScenarioError(None, "--vary", "field is also given with --set", dim.path)
        seen.add(dim.path)


# --------------------------------------------------------------------------- costs
@dataclass(frozen=True)
class Cost:
    """``per_unit`` × value, plus ``fixed`` once the value is raised above its range's LO."""

    per_unit: float = 1.0
    fixed: float = 0.0

    def of(self, value: float, low: float) -> float:
        return self.per_unit * value + (self.fixed if value > low else 0.0)


def load_costs(path: Path | None, dimensions: Sequence[Dimension]) -> dict[str, Cost]:
    """The cost of every varied path (default 1 per unit, no fixed cost).

    The file maps a varied path to a cost per unit (``agv.fleet: 2.5``) or to
    ``{per_unit: X, fixed: Y}``; paths that are not varied are refused (a typo would otherwise
    silently cost 1 per unit).
    """
    costs = {dim.path: Cost() for dim in dimensions}
    if path is None:
        return costs
    try:  # the scenario files' reader: size and alias limits, duplicate keys refused
        tree = read_yaml_file(path)
    except ScenarioError as exc:
        raise ScenarioError(path, "--cost", exc.message) from None
    for key, entry in tree.items():
        if key not in costs:
            hint = difflib.get_close_matches(str(key), list(costs), n=1)
            more = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ScenarioError(path, str(key), f"not a --vary path{more}")
        costs[key] = _cost_entry(path, key, entry)
    return costs


def _cost_entry(path: Path, key: str, entry: Any) -> Cost:
    if isinstance(entry, dict):
        unknown = set(entry) - {"per_unit", "fixed"}
        if unknown:
            raise ScenarioError(path, key, "expected keys per_unit and fixed", sorted(unknown))
        per_unit, fixed = entry.get("per_unit", 1.0), entry.get("fixed", 0.0)
    else:
        per_unit, fixed = entry, 0.0
    for name, value in (("per_unit", per_unit), ("fixed", fixed)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(path, f"{key}.{name}", "must be a number", value)
        if not math.isfinite(value) or value < 0:
            raise ScenarioError(path, f"{key}.{name}", "must be a finite number >= 0", value)
    return Cost(float(per_unit), float(fixed))
