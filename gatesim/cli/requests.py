"""Parsed arguments as frozen requests: one dataclass per command, built once from the argparse
namespace (which is read here and nowhere else) and handed to :mod:`gatesim.cli.commands`.

Study options become the API's own :class:`StudyOptions`, so the command line and
``gatesim.compare`` & co. check them with the same code; :data:`FLAGS` names an API argument
the command line's way in the one-line errors.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gatesim.cli.naming import run_suffix
from gatesim.core.errors import UsageError
from gatesim.experiment.options import StudyOptions

#: API argument -> the command-line flag that sets it (for one-line errors).
FLAGS = {
    "set": "--set",
    "replications": "--replications",
    "warmup": "--warmup",
    "target_kpi": "--target-kpi",
    "target_rel": "--target-rel",
    "max_replications": "--max-replications",
    "jobs": "--jobs",
    "dask": "--dask",
    "days": "--days",
    "scenarios": "compare",
    "allow_unpaired": "--allow-unpaired",
    "variants": "--variant",
    "axes": "--set",
    "targets": "--target",
    "method": "--method",
    "lane": "--lane",
    "scale_range": "--scale-range",
    "resolution": "--resolution",
    "vary": "--vary",
    "side": "--side",
    "draws": "--draws",
    "years": "--years",
}


@dataclass(frozen=True)
class Inputs:
    """``--plugin`` modules to load and ``--allow-path`` folders scenarios may read."""

    plugins: tuple[str, ...] = ()
    allow_paths: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Output:
    """Where and how results are written, and what is printed."""

    out: Path | None = None
    force: bool = False
    report: bool = False
    quiet: bool = False
    resume: bool = False
    #: ``--excel``: also write DIR/results.xlsx (run, compare, sweep).
    excel: bool = False
    #: ``--format``: console tables as ``table``, ``md`` or ``csv``.
    table_format: str = "table"
    #: What ``--year`` and ``--set`` add to the run's title and default folder name
    #: (gatesim.cli.naming), e.g. ``-y2028-hn_vn_xray.servers_3``.
    suffix: str = ""


@dataclass(frozen=True)
class Draws:
    """``--draws N`` (None: a single answer), its sampler and seed, and plan's ``--years``."""

    draws: int | None = None
    sampler: str = "lhs"
    seed: int = 0
    years: tuple[int, int] | None = None


@dataclass(frozen=True)
class TypesRequest:
    """``types``: list the station types."""


@dataclass(frozen=True)
class ValidateRequest:
    """``validate SCENARIO``: load and check a file without running it."""

    scenario: Path


@dataclass(frozen=True)
class StationsRequest:
    """``stations SCENARIO``: list a scenario's stations."""

    scenario: Path
    table_format: str = "table"


@dataclass(frozen=True)
class KpisRequest:
    """``kpis``: list the KPIs."""

    table_format: str = "table"


@dataclass(frozen=True)
class RunRequest:
    scenario: Path
    options: StudyOptions
    output: Output


@dataclass(frozen=True)
class CompareRequest:
    scenarios: tuple[Path, ...]
    options: StudyOptions
    output: Output
    capacity: bool = False
    allow_unpaired: bool = False
    table_format: str = "table"
    #: ``--variant NAME:...``: variants of the first scenario file, name -> overrides.
    variants: tuple[tuple[str, dict[str, Any]], ...] = ()


@dataclass(frozen=True)
class SweepRequest:
    scenario: Path
    axes: tuple[Any, ...]
    options: StudyOptions
    output: Output


@dataclass(frozen=True)
class PlanRequest:
    scenario: Path
    targets: tuple[str, ...]
    varies: tuple[str, ...]
    cost: Path | None
    side: str | None
    max_replications: int | None
    options: StudyOptions
    output: Output
    draws: Draws = field(default_factory=Draws)


@dataclass(frozen=True)
class CapacityRequest:
    scenario: Path
    lane: str | None
    method: str
    resolution: float
    scale_range: tuple[float, float]
    options: StudyOptions
    output: Output
    draws: Draws = field(default_factory=Draws)


@dataclass(frozen=True)
class SensitivityRequest:
    scenario: Path
    kpis: tuple[str, ...]
    method: Literal["morris", "sobol"]
    budget: int | None
    sobol_budget: int | None
    top: int
    replications: int | None
    options: StudyOptions
    output: Output


Request = (
    TypesRequest
    | StationsRequest
    | KpisRequest
    | ValidateRequest
    | RunRequest
    | CompareRequest
    | SweepRequest
    | PlanRequest
    | CapacityRequest
    | SensitivityRequest
)


@dataclass(frozen=True)
class Invocation:
    """A parsed command line: the request, its inputs and the argv recorded in manifests."""

    request: Request
    inputs: Inputs = field(default_factory=Inputs)
    argv: tuple[str, ...] = ()


def invocation(args: argparse.Namespace, argv: list[str]) -> Invocation:
    """The request for ``args`` (bad combinations of flags are a one-line UsageError)."""
    inputs = Inputs(tuple(args.plugins), tuple(getattr(args, "allow_paths", [])))
    return Invocation(request(args), inputs, ("run_sim.py", *argv))


def request(args: argparse.Namespace) -> Request:
    command = args.command
    if command == "types":
        return TypesRequest()
    if command in ("validate", "stations", "kpis"):
        return _listing(args)
    options, output = study_options(args), _output(args)
    if command == "compare":
        return CompareRequest(
            tuple(args.scenarios),
            options,
            output,
            args.capacity,
            args.allow_unpaired,
            args.table_format,
            _variants(args.variants),
        )
    if command == "sweep":
        return SweepRequest(args.scenario, tuple(args.axes), options, output)
    if command == "plan":
        return _plan(args, options, output)
    if command == "capacity":
        return CapacityRequest(
            args.scenario,
            args.lane,
            args.method,
            args.resolution,
            args.scale_range,
            options,
            output,
            _draws(args),
        )
    if command == "sensitivity":
        return SensitivityRequest(
            args.scenario,
            tuple(args.kpi),
            args.method,
            args.budget,
            args.sobol_budget,
            args.top,
            args.replications,
            options,
            output,
        )
    return RunRequest(args.scenario, options, output)


def _listing(args: argparse.Namespace) -> ValidateRequest | StationsRequest | KpisRequest:
    if args.command == "validate":
        return ValidateRequest(args.scenario)
    if args.command == "stations":
        return StationsRequest(args.scenario, args.table_format)
    return KpisRequest(args.table_format)


def _variants(
    variants: list[tuple[str, dict[str, Any]]],
) -> tuple[tuple[str, dict[str, Any]], ...]:
    names = [name for name, _ in variants]
    repeated = next((name for name in names if names.count(name) > 1), None)
    if repeated is not None:
        raise UsageError("--variant", "each variant needs its own name", repeated)
    return tuple(variants)


def _plan(args: argparse.Namespace, options: StudyOptions, output: Output) -> PlanRequest:
    if args.records:
        raise UsageError("--records", "not available with plan")
    if args.replay_day is not None:
        raise UsageError("--replay-day", "not available with plan")
    return PlanRequest(
        args.scenario,
        tuple(args.targets),
        tuple(args.varies),
        args.cost,
        args.side,
        args.max_replications,
        options,
        output,
        _draws(args),
    )


def _draws(args: argparse.Namespace) -> Draws:
    years = getattr(args, "years", None)
    if args.draws is None:
        for flag, given in (("--years", years is not None), ("--resume", _resumed(args))):
            if given:
                raise UsageError(flag, "needs --draws N")
    return Draws(args.draws, args.sampler, args.draw_seed, years)


def _resumed(args: argparse.Namespace) -> bool:
    return args.command == "capacity" and bool(getattr(args, "resume", False))


def _output(args: argparse.Namespace) -> Output:
    resume = getattr(args, "resume", False)
    if resume and args.out is None:
        raise UsageError("--resume", "needs the --out folder of the interrupted run")
    return Output(
        args.out,
        args.force,
        args.report,
        args.quiet,
        resume,
        getattr(args, "excel", False),
        getattr(args, "table_format", "table"),
        run_suffix(getattr(args, "assignments", []), getattr(args, "year", None)),
    )


def study_options(args: argparse.Namespace) -> StudyOptions:
    """The study options of any command (flags a command lacks stay at their defaults)."""

    def flag(name: str) -> Any:
        return getattr(args, name, None)

    per_point = args.command == "sensitivity"  # there -r counts runs per design point
    return StudyOptions(
        set=scenario_overrides(args),
        replications=None if per_point else flag("replications"),
        warmup=_warmup(args),
        target_kpi=flag("target_kpi"),
        target_rel=flag("target_rel"),
        max_replications=None if args.command == "plan" else flag("max_replications"),
        jobs=flag("jobs") or 1,
        dask=flag("dask"),
        max_memory=flag("max_memory"),
        progress=not flag("quiet"),
        cache=flag("cache"),
    )


def scenario_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Field overrides from --set, --days, --seed, --records and --year (in that order)."""
    overrides: dict[str, Any] = dict(getattr(args, "assignments", []))
    for name in ("days", "seed"):
        if getattr(args, name, None) is not None:
            overrides[name] = getattr(args, name)
    if getattr(args, "records", False):
        overrides["records"] = {"trucks": True, "visits": True}
    if getattr(args, "replay_day", None) is not None:
        overrides["records"] = {"trucks": True, "visits": True, "visits_day": args.replay_day}
    if getattr(args, "year", None) is not None:
        overrides["demand.year"] = args.year  # the loader also moves start_date into the year
    return overrides


def _warmup(args: argparse.Namespace) -> float | str | None:
    legacy = getattr(args, "warmup_days", None)
    warmup: float | str | None = getattr(args, "warmup", None)
    if legacy is not None and warmup is not None:
        raise UsageError("--warmup-days", "give either --warmup or --warmup-days")
    return float(legacy) if legacy is not None else warmup


def run_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Every scenario override the flags of ``args`` make (those of ``--replications R`` and
    a fixed warm-up included)."""
    return study_options(args).overrides()
