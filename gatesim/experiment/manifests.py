"""Manifest documents for multi-scenario experiments (compare, sweep) and run-level extras."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gatesim.experiment.output import environment, scenario_document, scenario_hash
from gatesim.experiment.runner import ExperimentResult
from gatesim.experiment.study import Design, ReplicationRunner


def run_extra(
    runner: ReplicationRunner, result: ExperimentResult, design: Design
) -> dict[str, Any]:
    """What a scenario's own manifest adds: executor details, resumed replications, design."""
    return {
        **runner.execution.describe(),
        "replications": len(result.outcomes),
        "resumed_replications": runner.resumed_count(result.scenario, len(result.outcomes)),
        "warmup": result.warmup_report(),
        "replication_control": result.replication_control,
        "design": design_document(design),
    }


def design_document(design: Design) -> dict[str, Any]:
    return {
        "replications": "auto" if design.auto_replications else "fixed",
        "warmup": "auto (mser5)" if design.auto_warmup else "fixed",
        **(
            {
                "target_kpi": design.target_kpi,
                "target_rel": design.target_rel,
                "max_replications": design.max_replications,
            }
            if design.auto_replications
            else {}
        ),
    }


def group_manifest(
    kind: str,
    results: Sequence[ExperimentResult],
    folders: Sequence[str],
    wall_seconds: float,
    command: list[str],
    runner: ReplicationRunner,
    design: Design,
    per_scenario: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The top-level ``manifest.json`` of a compare or sweep: every resolved scenario."""
    extras = per_scenario or [{} for _ in results]
    return {
        "kind": kind,
        **environment(),
        **runner.execution.describe(),
        "design": design_document(design),
        "wall_seconds": round(wall_seconds, 3),
        "command": command,
        "scenarios": [
            {
                "folder": folder,
                **extra,
                "scenario": r.scenario.name,
                "scenario_hash": scenario_hash(r.scenario),
                "seed": r.scenario.seed,
                "replications": len(r.outcomes),
                "resumed_replications": runner.resumed_count(r.scenario, len(r.outcomes)),
                "warmup": r.warmup_report(),
                "replication_seconds": [round(o.wall_seconds, 3) for o in r.outcomes],
                "resolved_scenario": scenario_document(r.scenario),
            }
            for r, folder, extra in zip(results, folders, extras, strict=True)
        ],
    }
