"""An answer over draws of the uncertain values (``plan``/``capacity`` with ``--draws``):
draws.json, draws.csv and manifest.json, written atomically.

``draws.json`` holds the design (sampler, seeds, factors and their ranges), one entry per draw
(its drawn values and its answer) and the summary (the answer's distribution); ``draws.csv``
has one row per draw, the drawn values and the answer in columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gatesim.experiment.options import API_COMMAND
from gatesim.experiment.output import (
    environment,
    json_safe,
    scenario_document,
    scenario_hash,
    staged_folder,
    write_json,
)
from gatesim.scenario.schema import Scenario

KINDS = ("plan_draws", "capacity_draws")


@dataclass(frozen=True)
class DrawsResult:
    """An answer's distribution over draws (``gatesim.plan``/``gatesim.capacity`` with
    ``draws=``): ``document`` is draws.json, ``table`` draws.csv."""

    document: dict[str, Any] = field(repr=False)
    table: pd.DataFrame = field(repr=False)
    scenario: Scenario = field(repr=False)  # the nominal scenario (every value at its own)
    wall_seconds: float
    resumed: int = 0

    @property
    def summary(self) -> dict[str, Any]:
        """The answer's distribution (what the console prints)."""
        found: dict[str, Any] = self.document["summary"]
        return found

    def to_frame(self) -> pd.DataFrame:
        """``draws.csv``: one row per draw, its drawn values and its answer."""
        return self.table.copy()

    def save(
        self, out: str | Path, command: Sequence[str] = API_COMMAND, force: bool = False
    ) -> Path:
        """draws.json, draws.csv and manifest.json in ``out``, atomically."""
        with staged_folder(Path(out), force) as folder:
            write_json(folder / "draws.json", self.document)
            self.table.to_csv(folder / "draws.csv", index=False)
            write_json(
                folder / "manifest.json",
                {
                    "kind": self.document["kind"],
                    **environment(),
                    **self.document["execution"],
                    "wall_seconds": round(self.wall_seconds, 3),
                    "command": list(command),
                    "design": self.document["design"],
                    "resumed_replications": self.resumed,
                    "scenario_hash": scenario_hash(self.scenario),
                    "resolved_scenario": scenario_document(self.scenario),
                },
            )
        return Path(out)


def draws_document(
    kind: str,
    scenario: Scenario,
    scenario_file: Path,
    design: dict[str, Any],
    factors: list[dict[str, Any]],
    draws: list[dict[str, Any]],
    summary: dict[str, Any],
    execution: dict[str, Any],
) -> dict[str, Any]:
    """The ``draws.json`` document (NaN written as null)."""
    document = {
        "kind": kind,
        "scenario": scenario.name,
        "scenario_file": str(scenario_file),
        "seed": scenario.seed,
        "days": scenario.days,
        "warmup_days": scenario.warmup_days,
        "common_random_numbers": True,
        "design": design,
        "factors": factors,
        "summary": summary,
        "draws": draws,
        "execution": execution,
    }
    safe: dict[str, Any] = json_safe(document)
    return safe
