"""What ``gatesim.compare`` and ``gatesim.sweep`` return: the per-scenario results, tables as
DataFrames, paired differences with 95 % t-intervals, and ``save(folder)`` writing the same
files as ``run_sim.py compare`` / ``sweep`` (atomically: the folder appears complete or not at
all).

Every member of a study runs replications 0 … n−1 under the first member's seed, so replication
r of each sees the same random numbers and differences are taken pair by pair.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gatesim.experiment.compare import comparison_table, differences, write_comparison_files
from gatesim.experiment.manifests import group_manifest, run_extra
from gatesim.experiment.options import API_COMMAND, StudyRun
from gatesim.experiment.output import write_group
from gatesim.experiment.runner import ExperimentResult
from gatesim.experiment.sweep import SweepPoint, write_sweep_files

DIFFERENCE_COLUMNS = ["scenario", "kpi", "mean", "lo", "hi", "replications"]


def paired_frame(names: Sequence[str], results: Sequence[ExperimentResult]) -> pd.DataFrame:
    """Paired differences of every KPI against the first result: mean and 95 % t-interval of
    (member − first) over replications (``gatesim.stats.intervals.paired_difference``)."""
    rows = []
    for name, result in zip(names[1:], results[1:], strict=True):
        diffs = differences(results[0], result)["diff_vs_first"]
        for kpi, stat in diffs.items():
            lo, hi = stat["ci95"]
            rows.append([name, kpi, stat["mean"], lo, hi, len(result.outcomes)])
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)


def write_members(
    out: Path,
    folders: Sequence[str],
    run: StudyRun,
    command: Sequence[str],
    write_files: Callable[[Path], None],
    force: bool,
) -> Path:
    """One run folder per member plus the group files (``write_files``), all atomically."""
    members = [
        (folder, result, run_extra(run.runner, result, run.design))
        for folder, result in zip(folders, run.results, strict=True)
    ]
    return write_group(out, members, run.wall_seconds, list(command), write_files, force=force)


@dataclass(frozen=True)
class ComparisonResult:
    """Scenarios compared under common random numbers (``gatesim.compare``)."""

    run: StudyRun = field(repr=False)
    folders: list[str]
    document: list[dict[str, Any]] = field(repr=False)

    @property
    def results(self) -> list[ExperimentResult]:
        return self.run.results

    @property
    def names(self) -> list[str]:
        return list(self.folders)

    @property
    def capacity(self) -> bool:
        return "capacity" in self.document[0]

    def to_frame(self) -> pd.DataFrame:
        """``comparison.csv``: per scenario and headline KPI, the mean and 95 % CI, the paired
        difference against the first scenario and the unpaired (Welch) interval."""
        return comparison_table(self.document)

    def differences(self) -> pd.DataFrame:
        """Every KPI's paired difference against the first scenario (one row per scenario
        after the first and KPI): ``mean``, ``lo``, ``hi`` (95 % t-interval), replications."""
        return paired_frame(self.folders, self.results)

    def save(
        self,
        folder: str | Path,
        command: Sequence[str] = API_COMMAND,
        force: bool = False,
        extra: Callable[[Path], None] | None = None,
    ) -> Path:
        """Write the ``run_sim.py compare`` files into ``folder`` (new, or replaced with
        ``force``): one run folder per scenario, comparison.json/.csv, manifest.json and, with
        capacity, capacity.csv; then ``extra(staging folder)`` (e.g. the --excel workbook)."""
        manifest = group_manifest(
            "compare",
            self.results,
            self.folders,
            self.run.wall_seconds,
            list(command),
            self.run.runner,
            self.run.design,
        )

        def write_files(staging: Path) -> None:
            write_comparison_files(staging, self.document, manifest)
            if self.capacity:
                from gatesim.experiment.capacity_run import write_compared_capacity_csv

                write_compared_capacity_csv(staging / "capacity.csv", self.document)
            if extra is not None:
                extra(staging)

        return write_members(Path(folder), self.folders, self.run, command, write_files, force)


@dataclass(frozen=True)
class SweepResult:
    """A full-factorial sweep (``gatesim.sweep``): one result per point."""

    run: StudyRun = field(repr=False)
    points: list[SweepPoint] = field(repr=False)
    parameters: list[str]
    table: pd.DataFrame = field(repr=False)

    @property
    def results(self) -> list[ExperimentResult]:
        return self.run.results

    @property
    def folders(self) -> list[str]:
        return [f"points/{p.folder}" for p in self.points]

    def to_frame(self) -> pd.DataFrame:
        """``sweep.csv``: one row per point, its values and every headline KPI's mean, lo, hi."""
        return self.table.copy()

    def differences(self) -> pd.DataFrame:
        """Every KPI's paired difference against point 0 (all points share the seed)."""
        return paired_frame([p.folder for p in self.points], self.results)

    def save(
        self,
        folder: str | Path,
        command: Sequence[str] = API_COMMAND,
        force: bool = False,
        extra: Callable[[Path], None] | None = None,
    ) -> Path:
        """Write the ``run_sim.py sweep`` files into ``folder``: ``points/<point>/`` run folders,
        sweep.csv and manifest.json; then ``extra(staging folder)`` (e.g. the --excel
        workbook)."""
        per_point = [{"point": p.index, "values": p.values} for p in self.points]
        manifest = group_manifest(
            "sweep",
            self.results,
            self.folders,
            self.run.wall_seconds,
            list(command),
            self.run.runner,
            self.run.design,
            per_scenario=per_point,
        )

        def write_files(staging: Path) -> None:
            write_sweep_files(staging, self.table, manifest)
            if extra is not None:
                extra(staging)

        return write_members(
            Path(folder),
            self.folders,
            self.run,
            command,
            write_files,
            force,
        )
