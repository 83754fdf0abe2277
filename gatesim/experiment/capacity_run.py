"""``gatesim.capacity`` / ``run_sim.py capacity`` and ``compare --capacity``: the capacity
measurement (:mod:`gatesim.experiment.capacity`) bound to executors and output folders.

``capacity.json`` holds, per lane and direction, today's offered trucks per day, the capacity
by saturated entry and by demand ramp (mean and 95 % interval), whether the two agree (and
why not), the load ratio (offered / capacity) and the binding stations; the gate-wide
capacity is the sum over lanes and directions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gatesim.experiment.capacity import (
    CapacityOptions,
    FlowCapacity,
    agreement,
    capacity_scenario,
    headline,
    headline_method,
    headline_values,
    measure_capacity,
    replication_rows,
)
from gatesim.experiment.compare import interval_document
from gatesim.experiment.options import API_COMMAND, StudyOptions, study_runner
from gatesim.experiment.output import (
    environment,
    json_safe,
    scenario_document,
    scenario_hash,
    staged_folder,
    write_json,
)
from gatesim.experiment.runner import ExperimentResult
from gatesim.experiment.study import ReplicationRunner
from gatesim.model.routes import group_key
from gatesim.scenario.schema import Scenario
from gatesim.stats.intervals import paired_difference, t_interval

Stat = dict[str, Any]


def stat(interval: tuple[float, float, float] | None) -> Stat | None:
    """``{"mean", "ci95"}`` as every result document writes an interval; None for no answer."""
    return None if interval is None else interval_document(interval)


# --------------------------------------------------------------------------- the document
def flow_document(flow: FlowCapacity) -> dict[str, Any]:
    agree, why = agreement(flow)
    capacity = capacity_estimate(flow)
    g = flow.saturated_growth
    return {
        "lane": flow.lane,
        "direction": flow.direction,
        "offered_per_day": flow.offered_per_day,
        "saturated": stat(flow.saturated),
        "saturated_backlog_growth_per_day": None if g is None else stat((g.mean, g.lo, g.hi)),
        "saturated_note": flow.saturated_note,
        "ramp": stat(flow.ramp),
        "ramp_factors": list(flow.ramp_bracket) if flow.ramp_bracket else None,
        "ramp_growing_offered": stat(flow.ramp_growing_offered),
        "ramp_note": flow.ramp_note,
        "agree": agree,
        "agreement": why,
        "capacity": capacity,
        "capacity_method": headline_method(flow),
        "behind_under_saturation": [
            {"station": name, "started_share": share} for name, share in flow.behind
        ],
        "load_ratio": flow.offered_per_day / capacity if capacity else None,
        "binding": flow.binding,
    }


def capacity_estimate(flow: FlowCapacity) -> float | None:
    """The headline capacity (:func:`gatesim.experiment.capacity.headline`)."""
    chosen = headline(flow)
    return chosen[0] if chosen else None


def gate_document(flows: Sequence[FlowCapacity]) -> dict[str, Any]:
    """Gate-wide: the saturated capacity summed per replication (one batch, so its interval is
    exact); the ramp's sums the flows' bounds (conservative: flows stop in different batches)."""
    gate: dict[str, Any] = {"offered_per_day": math.fsum(f.offered_per_day for f in flows)}
    rows = next((f.saturated_rows for f in flows if f.saturated_rows), [])
    if rows:
        totals = [math.fsum(row[f"throughput_per_day.{f.group}"] for f in flows) for row in rows]
        gate["saturated"] = stat(t_interval(totals))
    ramps = [f.ramp for f in flows if f.ramp is not None]
    if flows and len(ramps) == len(flows):
        mean, lo, hi = (math.fsum(r[i] for r in ramps) for i in range(3))
        gate["ramp"] = stat((mean, lo, hi))
    return gate


def capacity_document(
    scenario: Scenario,
    flows: Sequence[FlowCapacity],
    options: CapacityOptions,
    scenario_file: Path | str,
    execution: Mapping[str, Any],
) -> dict[str, Any]:
    """The ``capacity.json`` document."""
    document = {
        "kind": "capacity",
        "scenario": scenario.name,
        "scenario_file": str(scenario_file),
        "days": scenario.days,
        "warmup_days": scenario.warmup_days,
        "replications": options.replications,
        "seed": scenario.seed,
        "methods": list(options.methods),
        "resolution": options.resolution,
        "scale_range": list(options.scale_range),
        "lane": options.lane,
        "execution": dict(execution),
        "flows": [flow_document(f) for f in flows],
        "gate": gate_document(flows),
    }
    safe: dict[str, Any] = json_safe(document)
    return safe


# --------------------------------------------------------------------------- the command
def measure(
    scenario: Scenario, scenario_file: Path | None, options: CapacityOptions, study: StudyOptions
) -> CapacityResult:
    """Measure every lane and direction with ``study``'s executor (no store: a capacity run
    is short and keeps nothing between batches); an unusable Dask scheduler is a UsageError."""
    started = time.perf_counter()
    measured = capacity_scenario(scenario)
    execution = study.execution()
    with study_runner(study, store=False) as runner:
        evaluate = replication_rows(runner, options.replications)
        flows = measure_capacity(measured, evaluate, options)
    file = "" if scenario_file is None else str(scenario_file)
    document = capacity_document(measured, flows, options, file, execution.describe())
    return CapacityResult(measured, flows, document, time.perf_counter() - started)


@dataclass(frozen=True)
class CapacityResult:
    """What each lane and direction can carry (``gatesim.capacity``)."""

    scenario: Scenario = field(repr=False)
    flows: list[FlowCapacity] = field(repr=False)
    document: dict[str, Any] = field(repr=False)
    wall_seconds: float

    def to_frame(self) -> pd.DataFrame:
        """``capacity.csv``: one row per lane and direction with the offered trucks per day,
        each method's capacity (mean and 95 % CI), the load ratio and the binding stations."""
        return capacity_frame([self.document])

    def save(
        self, out: str | Path, command: Sequence[str] = API_COMMAND, force: bool = False
    ) -> Path:
        """capacity.json, capacity.csv and manifest.json in ``out``, atomically."""
        with staged_folder(Path(out), force) as folder:
            write_json(folder / "capacity.json", self.document)
            self.to_frame().to_csv(folder / "capacity.csv", index=False)
            write_json(
                folder / "manifest.json",
                {
                    "kind": "capacity",
                    **environment(),
                    **self.document["execution"],
                    "wall_seconds": round(self.wall_seconds, 3),
                    "command": list(command),
                    "scenario_hash": scenario_hash(self.scenario),
                    "resolved_scenario": scenario_document(self.scenario),
                },
            )
        return Path(out)


def capacity_frame(documents: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """``capacity.csv``: one row per scenario, lane and direction."""
    rows = []
    for document in documents:
        for flow in document["flows"]:
            row = {
                "scenario": document["scenario"],
                "lane": flow["lane"],
                "direction": flow["direction"],
                "offered_per_day": flow["offered_per_day"],
            }
            for method in ("saturated", "ramp"):
                s = flow[method] or {"mean": None, "ci95": [None, None]}
                row[f"{method}_mean"], (row[f"{method}_lo"], row[f"{method}_hi"]) = (
                    s["mean"],
                    s["ci95"],
                )
            row.update(
                {
                    "agree": flow["agree"],
                    "capacity": flow["capacity"],
                    "capacity_method": flow["capacity_method"],
                    "load_ratio": flow["load_ratio"],
                    "binding": ";".join(b["station"] for b in flow["binding"]),
                }
            )
            rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- compare --capacity
def compared_capacities(
    scenarios: Sequence[Scenario], runner: ReplicationRunner
) -> list[list[FlowCapacity]]:
    """Capacity of every scenario by both methods (replication r of each shares its seed, so
    differences of the quoted figures are paired)."""
    options = CapacityOptions(replications=scenarios[0].replications)
    evaluate = replication_rows(runner, options.replications)
    return [measure_capacity(capacity_scenario(s), evaluate, options) for s in scenarios]


def capacity_entries(
    flows_by_scenario: Sequence[Sequence[FlowCapacity]],
    offered: Sequence[Mapping[str, float]],
) -> list[dict[str, Any]]:
    """Per scenario: ``capacity`` by lane and direction (with the load ratio of the offered
    trucks its run measured) and, after the first, paired ``capacity_diff_vs_first``."""
    first = {f.group: f for f in flows_by_scenario[0]}
    entries = []
    for i, flows in enumerate(flows_by_scenario):
        entry: dict[str, Any] = {"capacity": {}, "capacity_diff_vs_first": {}}
        for flow in flows:
            capacity = capacity_estimate(flow)
            came = offered[i].get(flow.group, flow.offered_per_day)
            entry["capacity"][flow.group] = {
                **(stat(headline(flow)) or {}),
                "method": headline_method(flow),
                "saturated": stat(flow.saturated),
                "ramp": stat(flow.ramp),
                "agreement": agreement(flow)[1],
                "offered_per_day": came,
                "load_ratio": came / capacity if capacity else None,
                "binding": [b["station"] for b in flow.binding],
            }
            base = first.get(flow.group)
            ours, theirs = headline_values(flow), headline_values(base) if base else []
            if i > 0 and ours and len(ours) == len(theirs):
                diff = paired_difference(theirs, ours)
                entry["capacity_diff_vs_first"][flow.group] = stat(diff)
        entries.append(entry)
    safe: list[dict[str, Any]] = json_safe(entries)
    return safe


def offered_by_flow(result: ExperimentResult) -> dict[str, float]:
    """Mean offered trucks per day of each lane and direction in a finished run."""
    groups = {group_key(a.lane, a.direction) for a in result.scenario.arrivals.values()}
    summary = result.kpi_summary([f"offered_per_day.{g}" for g in groups])
    return {
        key.partition(".")[2]: mean for key, s in summary.items() if (mean := s["mean"]) is not None
    }


def write_compared_capacity_csv(path: Path, document: Sequence[Mapping[str, Any]]) -> None:
    """``compare --capacity``'s capacity.csv: one row per scenario, lane and direction."""
    rows = []
    for entry in document:
        for group, cap in entry["capacity"].items():
            lane, _, direction = group.rpartition(".")
            diff = entry["capacity_diff_vs_first"].get(group) or {
                "mean": None,
                "ci95": [None, None],
            }
            rows.append(
                {
                    "scenario": entry["scenario"],
                    "lane": lane,
                    "direction": direction,
                    "offered_per_day": cap["offered_per_day"],
                    "capacity_method": cap.get("method"),
                    "capacity_mean": cap.get("mean"),
                    "capacity_lo": (cap.get("ci95") or [None, None])[0],
                    "capacity_hi": (cap.get("ci95") or [None, None])[1],
                    "load_ratio": cap["load_ratio"],
                    "diff_vs_first_mean": diff["mean"],
                    "diff_vs_first_lo": diff["ci95"][0],
                    "diff_vs_first_hi": diff["ci95"][1],
                    "binding": ";".join(cap["binding"]),
                }
            )
    pd.DataFrame(rows).to_csv(path, index=False)
