"""Writing a sensitivity analysis: sensitivity.json, sensitivity.csv, manifest.json (atomic).

The folder appears only once every file is written (``output.staged_folder``); figures are
drawn by a callback from the report layer, into the same staging folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gatesim.experiment.output import (
    environment,
    json_safe,
    scenario_document,
    scenario_hash,
    staged_folder,
    write_json,
)
from gatesim.experiment.sensitivity_result import SensitivityResult
from gatesim.scenario.schema import Scenario

KIND = "sensitivity"


def sensitivity_document(result: SensitivityResult) -> dict[str, Any]:
    """The ``sensitivity.json`` document (NaN written as null)."""
    return json_safe({"kind": KIND, "scenario": _scenario(result).name, **result.document()})


def _scenario(result: SensitivityResult) -> Scenario:
    if result.scenario is None:
        raise ValueError("only the sensitivity of a scenario file can be written")
    return result.scenario


def sensitivity_manifest(result: SensitivityResult, command: list[str]) -> dict[str, Any]:
    """What reproduces the analysis: the nominal scenario, seeds, design, versions, command."""
    scenario = _scenario(result)
    return {
        "kind": KIND,
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "seed": scenario.seed,
        **environment(),
        "executor": result.design.get("executor"),
        "wall_seconds": result.design.get("wall_seconds"),
        "design": result.design,
        "command": command,
        "resolved_scenario": scenario_document(scenario),
    }


def write_sensitivity(
    out: Path,
    result: SensitivityResult,
    command: list[str],
    force: bool = False,
    figures: Callable[[Path, dict[str, Any]], object] | None = None,
) -> Path:
    """Write the analysis into ``out`` (replacing it only with ``force``), atomically."""
    document = sensitivity_document(result)
    manifest = json_safe(sensitivity_manifest(result, command))
    with staged_folder(out, force) as folder:
        write_json(folder / "sensitivity.json", document)
        result.table().to_csv(folder / "sensitivity.csv", index=False)
        write_json(folder / "manifest.json", manifest)
        if figures is not None:
            figures(folder, document)
    return out
