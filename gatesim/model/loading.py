"""Load a scenario and check it against the station types and the network it builds.

The scenario layer reads and schema-validates files without knowing station types (it sits
beneath the stations). Checking that each station's type exists, that its fields suit that
type, and that the routes form a network needs the station registry and the network builder,
so the whole load lives here, one layer up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gatesim.core.errors import ScenarioError
from gatesim.model.network import build_network
from gatesim.scenario.loader import allowed_folders, apply_overrides, load_raw, validate_schema
from gatesim.scenario.schema import Scenario
from gatesim.stations.registry import station_outcomes, validate_station_specs

__all__ = ["check_network", "load_scenario", "validate_raw"]


def load_scenario(
    path: str | Path,
    overrides: Mapping[str, Any] | None = None,
    *,
    allow_paths: Iterable[str | Path] = (),
) -> Scenario:
    """Read, merge (``extends:``), override, validate and network-check a scenario file.

    ``overrides`` maps dotted paths (``stations.xray.servers``) to values, applied after merging.
    The files that ``extends:`` and ``csv:`` name must lie in the folder tree of ``path``, or in
    one of ``allow_paths`` (symlinks are followed first).
    """
    path = Path(path)
    with allowed_folders(allow_paths):
        raw = load_raw(path)
    if overrides:
        raw = apply_overrides(raw, overrides, path)
    return validate_raw(raw, path)


def validate_raw(raw: dict[str, Any], path: Path) -> Scenario:
    """Validate a merged tree into a Scenario and check its network; errors name ``path``."""
    return check_network(validate_schema(raw, path), path)


def check_network(scenario: Scenario, path: Path | None) -> Scenario:
    """``scenario`` itself, once its station types and routes are known to build a network."""
    try:
        build_network(scenario, station_outcomes(validate_station_specs(scenario)))
    except ScenarioError as exc:
        raise exc.with_file(path) if path is not None else exc from None
    return scenario
