"""``capacity --draws N``: the capacity of every lane and direction over draws of the
scenario's uncertain values (:mod:`gatesim.experiment.draws`).

Each draw is measured exactly as ``capacity`` measures one scenario (both methods, the same
replications, the scenario's seed: common random numbers across draws), one draw after the
other, its replications on the chosen executor, so serial, ``--jobs`` and Dask give identical
tables. The answer per lane and direction is the headline capacity
(:func:`gatesim.experiment.capacity.headline`) with its binding stations; the summary gives
the median and 90 % interval of capacity over the draws and how often each station binds.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from gatesim.experiment.capacity import (
    BINDING_UTILIZATION,
    CapacityOptions,
    Evaluate,
    FlowCapacity,
    Row,
    capacity_scenario,
    check_measurable,
    headline_method,
    measure_capacity,
    replication_rows,
)
from gatesim.experiment.capacity_run import capacity_estimate
from gatesim.experiment.draws import Draw, DrawOptions, draws_of, summary
from gatesim.experiment.draws_output import DrawsResult, draws_document
from gatesim.experiment.options import StudyOptions, study_runner
from gatesim.experiment.uncertainty import DesignSpace
from gatesim.scenario.schema import Scenario

KIND = "capacity_draws"


def capacity_over_draws(
    scenario_file: Path, draws: DrawOptions, options: CapacityOptions, study: StudyOptions
) -> DrawsResult:
    """Measure every draw (all validated and checked before the first is simulated)."""
    started = time.perf_counter()
    space = DesignSpace(scenario_file, study.overrides())
    drawn = draws_of(space, draws)
    scenarios = [capacity_scenario(space.scenario_at(list(d.values.values()))) for d in drawn]
    for scenario in scenarios:
        check_measurable(scenario, options)
    execution = study.execution()
    measured: list[list[FlowCapacity]] = []
    with study_runner(study) as runner:
        evaluate = replication_rows(runner, options.replications)
        for d, scenario in zip(drawn, scenarios, strict=True):
            label = f"draw {d.index + 1}/{len(drawn)}: "
            measured.append(measure_capacity(scenario, _labelled(evaluate, label), options))
    entries = [draw_entry(d, flows) for d, flows in zip(drawn, measured, strict=True)]
    nominal = capacity_scenario(space.scenario)
    design = {
        **draws.document(),
        "replications_per_load": options.replications,
        "methods": list(options.methods),
        "resolution": options.resolution,
        "lane": options.lane,
    }
    document = draws_document(
        KIND, nominal, scenario_file, design, [f.document() for f in space.factors],
        entries, capacity_summary(entries), execution.describe(),
    )  # fmt: skip
    table = draws_table(entries)
    resumed = len(runner.resumed)
    return DrawsResult(document, table, nominal, time.perf_counter() - started, resumed)


def _labelled(evaluate: Evaluate, prefix: str) -> Evaluate:
    """The same evaluation, its progress label prefixed with the draw."""

    def labelled(scenarios: Sequence[Scenario], label: str) -> list[list[Row]]:
        return evaluate(scenarios, prefix + label)

    return labelled


def draw_entry(draw: Draw, flows: Sequence[FlowCapacity]) -> dict[str, Any]:
    """One draw: its values and, per lane and direction, the headline capacity, the method
    that gave it, the busiest station and the stations that bind."""
    answers = {}
    for flow in flows:
        binding = [
            b["station"]
            for b in flow.binding
            if b["utilization"] >= BINDING_UTILIZATION or b["capped_days"] > 0
        ]
        answers[flow.group] = {
            "capacity": capacity_estimate(flow),
            "method": headline_method(flow),
            "offered_per_day": flow.offered_per_day,
            "busiest": flow.binding[0]["station"] if flow.binding else None,
            "binding": binding,
        }
    return {"draw": draw.index, "values": draw.values, "flows": answers}


def capacity_summary(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per lane and direction: capacity over the draws (median, 90 % interval) and the share
    of draws in which each station binds (and is the busiest); the gate-wide sum likewise."""
    groups = list(entries[0]["flows"]) if entries else []
    flows = {}
    for group in groups:
        answers = [e["flows"][group] for e in entries]
        binds = Counter(s for a in answers for s in a["binding"])
        busiest = Counter(a["busiest"] for a in answers if a["busiest"] is not None)
        stations = sorted(set(binds) | set(busiest), key=lambda s: (-binds[s], -busiest[s], s))
        flows[group] = {
            "capacity": summary([a["capacity"] for a in answers]),
            "offered_per_day": summary([a["offered_per_day"] for a in answers]),
            "stations": [
                {
                    "station": s,
                    "binds_share": binds[s] / len(answers),
                    "busiest_share": busiest[s] / len(answers),
                }
                for s in stations
            ],
        }
    totals = [_total([e["flows"][g]["capacity"] for g in groups]) for e in entries]
    return {"flows": flows, "gate": summary(totals)}


def _total(values: Sequence[float | None]) -> float | None:
    if any(v is None or not math.isfinite(v) for v in values):
        return None
    return math.fsum(v for v in values if v is not None)


def draws_table(entries: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """draws.csv: the draw, its values, then per lane and direction capacity, method and the
    binding stations (``;``-separated)."""
    rows = []
    for entry in entries:
        row: dict[str, Any] = {"draw": entry["draw"], **entry["values"]}
        for group, answer in entry["flows"].items():
            row[f"capacity.{group}"] = answer["capacity"]
            row[f"method.{group}"] = answer["method"]
            row[f"binding.{group}"] = ";".join(answer["binding"])
        rows.append(row)
    return pd.DataFrame(rows)
