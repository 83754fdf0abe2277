"""The public experiment API: ``compare``, ``sweep``, ``plan`` and ``capacity``.

Each takes the command line's options as keyword arguments (``set=`` overrides, a fixed or
``"auto"`` replication count and warm-up, the executor, a replication store to resume from)
and returns a result object with DataFrames and paired confidence intervals and a
``save(folder)`` that writes the command's files. The CLI parses its arguments into the same
:class:`~gatesim.experiment.options.StudyOptions` and calls the ``prepare``/``run`` halves
below, so both faces give identical numbers.

Bad arguments raise :class:`UsageError`, bad scenarios :class:`ScenarioError` (one line each),
before anything is simulated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from gatesim.core.errors import ScenarioError, UsageError
from gatesim.experiment.capacity import CapacityOptions, capacity_scenario, check_measurable
from gatesim.experiment.capacity_run import CapacityResult, measure
from gatesim.experiment.compare import comparison_document, unique_folders
from gatesim.experiment.draws import DrawOptions
from gatesim.experiment.draws_output import DrawsResult
from gatesim.experiment.options import (
    AUTO,
    StudyOptions,
    check_counts,
    run_scenarios,
    study_runner,
)
from gatesim.experiment.planning import PlanningResult, plan_inputs, search_plan
from gatesim.experiment.results import ComparisonResult, SweepResult
from gatesim.experiment.runner import ExperimentResult
from gatesim.experiment.sweep import Axis, SweepPoint, sweep_points, sweep_table
from gatesim.model.loading import load_scenario
from gatesim.scenario.schema import Scenario

Source = Scenario | str | Path
#: Top-level fields a ``set=`` override may change on a Scenario object (dotted paths need a
#: scenario file, where the loader validates them).
OBJECT_FIELDS = ("days", "seed", "replications", "warmup_days", "name", "description")


# --------------------------------------------------------------------------- compare
@dataclass(frozen=True)
class Compared:
    """The scenarios of a comparison, resolved (shared seed and replication count)."""

    scenarios: list[Scenario]
    files: list[str | None]
    #: Per member, how it differs from the first in what pairing needs (allowed unpaired).
    unpaired: list[list[str]] = field(default_factory=list)


def compare(
    scenarios: Sequence[Scenario | str | Path],
    *,
    set: Mapping[str, Any] | None = None,
    replications: int | Literal["auto"] | None = None,
    warmup: float | Literal["auto"] | None = None,
    target_kpi: str | None = None,
    target_rel: float | None = None,
    max_replications: int | None = None,
    capacity: bool = False,
    jobs: int = 1,
    dask: str | None = None,
    store: str | Path | None = None,
    max_memory: int | None = None,
    progress: bool = False,
    allow_unpaired: bool = False,
    variants: Mapping[str, Mapping[str, Any]] | None = None,
) -> ComparisonResult:
    """Compare scenarios under common random numbers; see docs/api.md."""
    options = StudyOptions(
        set=dict(set or {}),
        replications=replications,
        warmup=warmup,
        target_kpi=target_kpi,
        target_rel=target_rel,
        max_replications=max_replications,
        jobs=jobs,
        dask=dask,
        store=None if store is None else Path(store),
        max_memory=max_memory,
        progress=progress,
    )
    compared = compared_scenarios(scenarios, options, allow_unpaired, variants)
    return run_comparison(compared, options, capacity)


def compared_scenarios(
    items: Sequence[Source],
    options: StudyOptions,
    allow_unpaired: bool = False,
    variants: Mapping[str, Mapping[str, Any]] | None = None,
) -> Compared:
    """Every scenario with the first one's seed and replication count (common random numbers);
    scenario files get ``options``' overrides through the loader. ``variants`` (name ->
    overrides) add variants of the first scenario after the others, named by their key.
    Members that differ from the first in what pairing assumes (:func:`pairing_differences`)
    are refused unless ``allow_unpaired``; then the differences are kept in
    ``Compared.unpaired``."""
    options.design()  # the options are checked before any file is read
    if isinstance(items, (str, Path)) or not items or len(items) + len(variants or {}) < 2:
        raise UsageError("scenarios", "needs at least two scenario files (or variants)")
    overrides = options.overrides()
    first = _member(items[0], overrides)
    common = {"seed": first.seed, "replications": first.replications}
    label = scenario_label(items[0])
    unpaired: list[list[str]] = [[]]
    members, files = [first], [_file_of(items[0])]
    for item, changes, name in _others(items, variants or {}):
        declared = _member(item, {**overrides, **changes})
        found = pairing_differences((label, first), (name, declared), options)
        if found and not allow_unpaired:
            raise UsageError(
                "scenarios",
                f"{found[0]}: paired differences need members that agree (make them agree, "
                "e.g. with --set or --year, or give {allow_unpaired})",
            )
        unpaired.append(found)
        members.append(_member(item, {**overrides, **changes, **common}))
        files.append(_file_of(item))
    return Compared(members, files, unpaired)


def _others(
    items: Sequence[Source], variants: Mapping[str, Mapping[str, Any]]
) -> list[tuple[Source, dict[str, Any], str]]:
    """The members after the first: (source, its own overrides, its name in messages)."""
    others: list[tuple[Source, dict[str, Any], str]] = [
        (item, {}, scenario_label(item)) for item in items[1:]
    ]
    for name, changes in variants.items():
        if not isinstance(changes, Mapping) or not changes:
            raise UsageError("variants", f"{name}: needs field overrides", changes)
        others.append((items[0], {**changes, "name": name}, f"variant {name}"))
    return others


def _file_of(item: Source) -> str | None:
    return None if isinstance(item, Scenario) else str(item)


def scenario_label(item: Source) -> str:
    return item.name if isinstance(item, Scenario) else str(item)


def pairing_differences(
    first: tuple[str, Scenario], other: tuple[str, Scenario], options: StudyOptions
) -> list[str]:
    """How ``other`` differs from ``first`` in days, year (of the start date), warm-up (unless
    chosen automatically for all) or declared seed: one phrase per field, naming both values."""
    (name_a, a), (name_b, b) = first, other
    fields: dict[str, tuple[object, object]] = {
        "days": (a.days, b.days),
        "year (start_date)": (a.start_date.year, b.start_date.year),
        "seed": (a.seed, b.seed),
    }
    if options.warmup != AUTO:
        fields["warmup_days"] = (a.warmup_days, b.warmup_days)
    return [
        f"{field_name} differs: {name_a} {value_a}, {name_b} {value_b}"
        for field_name, (value_a, value_b) in fields.items()
        if value_a != value_b
    ]


def _member(item: Source, overrides: Mapping[str, Any]) -> Scenario:
    if not isinstance(item, Scenario):
        return load_scenario(item, overrides)
    return edited(item, overrides)


def edited(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """A Scenario object with top-level overrides, validated again by the schema."""
    unknown = [path for path in overrides if path not in OBJECT_FIELDS]
    if unknown:
        raise UsageError(
            "set",
            "a Scenario object takes only top-level fields "
            f"({', '.join(OBJECT_FIELDS)}); give a scenario file for dotted paths",
            unknown[0],
        )
    if not overrides:
        return scenario
    try:
        return Scenario.model_validate({**scenario.model_dump(), **overrides})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise UsageError("set", f"{where}: {error['msg']}") from None


def run_comparison(compared: Compared, options: StudyOptions, capacity: bool) -> ComparisonResult:
    run = run_scenarios(compared.scenarios, options, "scenarios")
    folders = unique_folders([s.name for s in compared.scenarios])
    document = comparison_document(run.results, folders, compared.files)
    for entry, found in zip(document, compared.unpaired, strict=False):
        if found:
            entry["unpaired"] = found
    if capacity:
        extras = compared_capacity(run.results, options)
        for entry, extra in zip(document, extras, strict=True):
            entry.update(extra)
    return ComparisonResult(run, folders, document)


def compared_capacity(
    results: Sequence[ExperimentResult], options: StudyOptions
) -> list[dict[str, Any]]:
    """``compare(capacity=True)``: each scenario's saturated-entry capacity, paired by seed."""
    from gatesim.experiment.capacity_run import (
        capacity_entries,
        compared_capacities,
        offered_by_flow,
    )

    scenarios = [r.scenario.model_copy(update={"replications": len(r.outcomes)}) for r in results]
    with study_runner(options, "capacity", store=False) as runner:
        flows = compared_capacities(scenarios, runner)
    return capacity_entries(flows, [offered_by_flow(r) for r in results])


# --------------------------------------------------------------------------- sweep
def sweep(
    scenario: str | Path,
    axes: Mapping[str, Sequence[Any]] | Sequence[Axis],
    *,
    set: Mapping[str, Any] | None = None,
    replications: int | Literal["auto"] | None = None,
    warmup: float | Literal["auto"] | None = None,
    target_kpi: str | None = None,
    target_rel: float | None = None,
    max_replications: int | None = None,
    jobs: int = 1,
    dask: str | None = None,
    store: str | Path | None = None,
    max_memory: int | None = None,
    progress: bool = False,
) -> SweepResult:
    """Full-factorial sweep of a scenario file over ``axes``; see docs/api.md."""
    options = StudyOptions(
        set=dict(set or {}),
        replications=replications,
        warmup=warmup,
        target_kpi=target_kpi,
        target_rel=target_rel,
        max_replications=max_replications,
        jobs=jobs,
        dask=dask,
        store=None if store is None else Path(store),
        max_memory=max_memory,
        progress=progress,
    )
    return run_sweep(swept_points(Path(scenario), as_axes(axes), options), options)


def as_axes(axes: Mapping[str, Sequence[Any]] | Sequence[Axis]) -> list[Axis]:
    """``{"stations.x.servers": [1, 2]}`` (or Axis objects) as a list of axes."""
    if not isinstance(axes, Mapping):
        return list(axes)
    parsed = []
    for path, values in axes.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise UsageError("axes", f"{path}: needs a non-empty list of values", values)
        parsed.append(Axis(str(path), tuple(values)))
    return parsed


def swept_points(path: Path, axes: Sequence[Axis], options: StudyOptions) -> list[SweepPoint]:
    """Every point, built and validated (options first, then the file)."""
    options.design()
    return sweep_points(path, axes, options.overrides())


def run_sweep(points: list[SweepPoint], options: StudyOptions) -> SweepResult:
    run = run_scenarios([p.scenario for p in points], options, "sweep points")
    parameters = list(points[0].values)
    return SweepResult(run, points, parameters, sweep_table(points, run.results))


# --------------------------------------------------------------------------- plan
def plan(
    scenario: str | Path,
    targets: Sequence[str],
    vary: Sequence[str],
    *,
    cost: str | Path | None = None,
    side: Literal["VN", "CN", "bilateral"] | None = None,
    set: Mapping[str, Any] | None = None,
    replications: int | None = None,
    warmup: float | None = None,
    max_replications: int | None = None,
    jobs: int = 1,
    dask: str | None = None,
    store: str | Path | None = None,
    progress: bool = False,
    draws: int | None = None,
    sampler: Literal["lhs", "sobol"] = "lhs",
    draw_seed: int = 0,
    years: tuple[int, int] | None = None,
) -> PlanningResult | DrawsResult:
    """The cheapest configuration whose targets hold with 95 % confidence; with ``draws``,
    its distribution over draws of the uncertain values (and, with ``years``, the first year
    the targets are missed); see docs/api.md."""
    options = StudyOptions(
        set=dict(set or {}),
        replications=replications,
        warmup=warmup,
        jobs=jobs,
        dask=dask,
        store=None if store is None else Path(store),
        progress=progress,
    )
    check_plan_options(options)
    drawn = draw_options(draws, sampler, draw_seed, years)
    cost_file = None if cost is None else Path(cost)
    inputs = plan_inputs(
        targets, vary, cost_file, options.overrides(), max_replications, side, years is not None
    )
    if drawn is not None:
        from gatesim.experiment.plan_draws import plan_over_draws

        return plan_over_draws(Path(scenario), inputs, years, drawn, options)
    return search_plan(Path(scenario), inputs, options)


def draw_options(
    draws: int | None, sampler: str, seed: int, years: tuple[int, int] | None = None
) -> DrawOptions | None:
    """The draws asked for (None: none); ``years`` needs draws (one-line errors)."""
    if years is not None:
        first, last = years
        if draws is None:
            raise UsageError("years", "scans the years of each draw: give draws as well")
        if not 1900 <= first <= last <= 2200:
            raise UsageError("years", "needs FIRST:LAST with 1900 <= FIRST <= LAST <= 2200",
                             f"{first}:{last}")  # fmt: skip
    if draws is None:
        return None
    return DrawOptions(draws, sampler, seed)  # type: ignore[arg-type]  # checked there


def check_plan_options(options: StudyOptions) -> None:
    """plan adds replications itself while a verdict is undecided: no automatic design."""
    check_counts(options)
    for name in ("replications", "warmup"):
        if getattr(options, name) == AUTO:
            raise UsageError(name, "plan needs a fixed value ('auto' is not available)")
    for name, why in PLAN_REFUSED.items():
        if getattr(options, name) is not None:
            raise UsageError(name, why)


PLAN_REFUSED = {
    "target_kpi": "not used by plan (give {targets} KPI<=VALUE)",
    "target_rel": "not used by plan (replications are added while a verdict is undecided)",
}


# --------------------------------------------------------------------------- capacity
def capacity(
    scenario: Scenario | str | Path,
    *,
    set: Mapping[str, Any] | None = None,
    replications: int | None = None,
    lane: str | None = None,
    method: Literal["both", "saturated", "ramp"] = "both",
    resolution: float = 0.05,
    scale_range: tuple[float, float] = (0.02, 100.0),
    jobs: int = 1,
    dask: str | None = None,
    progress: bool = False,
    draws: int | None = None,
    sampler: Literal["lhs", "sobol"] = "lhs",
    draw_seed: int = 0,
    store: str | Path | None = None,
) -> CapacityResult | DrawsResult:
    """What each lane and direction can carry, with 95 % CIs; with ``draws``, its
    distribution over draws of the uncertain values; see docs/api.md."""
    options = StudyOptions(
        set=dict(set or {}),
        replications=replications,
        jobs=jobs,
        dask=dask,
        progress=progress,
        store=None if store is None else Path(store),
    )
    check_counts(options)
    drawn = draw_options(draws, sampler, draw_seed)
    if drawn is not None and isinstance(scenario, Scenario):
        raise UsageError("draws", "draws its values from a scenario file's uncertain: ranges")
    loaded = _member(scenario, options.overrides())
    file = None if isinstance(scenario, Scenario) else Path(scenario)
    measured = capacity_options(loaded, file, method, resolution, scale_range, lane)
    if drawn is not None and file is not None:
        from gatesim.experiment.capacity_draws import capacity_over_draws

        return capacity_over_draws(file, drawn, measured, options)
    return measure(loaded, file, measured, options)


def capacity_options(
    scenario: Scenario,
    file: Path | None,
    method: str,
    resolution: float,
    scale_range: tuple[float, float],
    lane: str | None,
) -> CapacityOptions:
    """The measurement's options, checked against the scenario before anything runs."""
    if method not in ("both", "saturated", "ramp"):
        raise UsageError("method", "must be 'both', 'saturated' or 'ramp'", method)
    options = CapacityOptions(
        replications=scenario.replications,
        resolution=resolution,
        scale_range=scale_range,
        methods=("saturated", "ramp") if method == "both" else (method,),
        lane=lane,
    )
    if options.replications < 2:
        raise ScenarioError(
            file, "replications", "capacity needs at least 2 (give -r)", options.replications
        )
    try:
        check_measurable(capacity_scenario(scenario), options)
    except ScenarioError as exc:
        attributed = file is not None and exc.field in ("arrivals", "days")
        raise (exc.with_file(file) if attributed and file else exc) from None
    return options
