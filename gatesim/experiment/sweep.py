"""Full-factorial parameter sweeps: ``--set PATH=V1,V2,…`` axes, one scenario per point.

Every point is built and validated before any is simulated, so a typo in a path or a value of
the wrong type fails at once with one line and nothing written. All points share the seed, so
neighbouring points are compared under common random numbers.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from gatesim.core.errors import ScenarioError
from gatesim.experiment.output import write_json
from gatesim.experiment.runner import ExperimentResult
from gatesim.model.loading import validate_raw
from gatesim.scenario.loader import apply_overrides, load_raw
from gatesim.scenario.schema import Scenario
from gatesim.stats.kpis import HEADLINE

MAX_POINTS = 10_000
SLUG_CHARS = 60


@dataclass(frozen=True)
class Axis:
    """One swept field and its values, in the order given."""

    path: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class SweepPoint:
    index: int
    values: dict[str, Any]
    scenario: Scenario
    folder: str


def parse_axis(text: str) -> Axis:
    """``stations.x.servers=1,2,3``: each comma-separated value is read as a YAML scalar.

    Raises ValueError with a one-line message on malformed input.
    """
    path, sep, raw = text.partition("=")
    path = path.strip()
    if not sep or not path:
        raise ValueError(f"expected FIELD.PATH=V1,V2,... (got {text!r})")
    values = tuple(_scalar(piece, text) for piece in raw.split(","))
    return Axis(path, values)


def _scalar(piece: str, text: str) -> Any:
    if not piece.strip():
        raise ValueError(f"empty value in {text!r}")
    try:
        value = yaml.safe_load(piece)
    except yaml.YAMLError:
        raise ValueError(f"cannot read the value {piece.strip()!r} in {text!r}") from None
    if isinstance(value, (dict, list)) or value is None:
        raise ValueError(f"values must be YAML scalars (got {piece.strip()!r} in {text!r})")
    return value


def sweep_points(
    path: Path, axes: Sequence[Axis], overrides: Mapping[str, Any] | None = None
) -> list[SweepPoint]:
    """Every combination of the axes (last axis varies fastest), validated."""
    _check_axes(axes)
    raw = load_raw(path)
    combos = list(itertools.product(*(axis.values for axis in axes)))
    width = max(3, len(str(len(combos) - 1)))
    points = []
    for index, combo in enumerate(combos):
        values = {axis.path: value for axis, value in zip(axes, combo, strict=True)}
        tree = apply_overrides(raw, {**(overrides or {}), **values}, path)
        scenario = validate_raw(tree, path)
        points.append(SweepPoint(index, values, scenario, f"{index:0{width}d}-{slug(values)}"))
    return points


def _check_axes(axes: Sequence[Axis]) -> None:
    if not axes:
        raise ScenarioError(None, "--set", "a sweep needs at least one --set FIELD.PATH=V1,V2,...")
    seen: set[str] = set()
    total = 1
    for axis in axes:
        if axis.path in seen:
            raise ScenarioError(None, "--set", "field given twice", axis.path)
        seen.add(axis.path)
        total *= len(axis.values)
    if total > MAX_POINTS:
        raise ScenarioError(None, "--set", f"more than {MAX_POINTS} sweep points", total)


def slug(values: Mapping[str, Any]) -> str:
    """A short, file-system-safe name: the last two path parts and the value of every axis."""
    parts = [f"{'.'.join(path.split('.')[-2:])}-{value}" for path, value in values.items()]
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", "_".join(parts)).strip(".-")
    return text[:SLUG_CHARS] or "point"


def sweep_table(points: Sequence[SweepPoint], results: Sequence[ExperimentResult]) -> pd.DataFrame:
    """One row per point: the swept values, replications and every headline KPI's mean, lo, hi."""
    rows = []
    for point, result in zip(points, results, strict=True):
        row: dict[str, Any] = {"point": point.index, "folder": point.folder, **point.values}
        row["replications"] = len(result.outcomes)
        summary = result.kpi_summary(HEADLINE)
        for kpi in HEADLINE:
            stat = summary.get(kpi, {"mean": None, "ci95": [None, None]})
            row[f"{kpi}_mean"] = stat["mean"]
            row[f"{kpi}_lo"], row[f"{kpi}_hi"] = stat["ci95"]
        rows.append(row)
    return pd.DataFrame(rows)


def write_sweep_files(folder: Path, table: pd.DataFrame, manifest: dict[str, Any]) -> None:
    table.to_csv(folder / "sweep.csv", index=False)
    write_json(folder / "manifest.json", manifest)
