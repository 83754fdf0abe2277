"""Each command: its request in, the experiment API called, the console printed, files written.

The order is the same everywhere: check every argument and scenario, then the output folder,
then simulate, then write the results atomically, and only then remove the replication store
(``DIR.partial``), so a finished result is never lost. A Ctrl-C after the output folder is
known is re-raised as :class:`Interrupted`, which names it for the message on what was kept.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from gatesim.cli.naming import titled
from gatesim.cli.requests import (
    CapacityRequest,
    CompareRequest,
    Invocation,
    KpisRequest,
    Output,
    PlanRequest,
    RunRequest,
    SensitivityRequest,
    StationsRequest,
    SweepRequest,
    TypesRequest,
    ValidateRequest,
)
from gatesim.core.errors import UsageError
from gatesim.experiment.options import StudyOptions

if TYPE_CHECKING:
    from gatesim.experiment.capacity import CapacityOptions
    from gatesim.experiment.draws_output import DrawsResult
    from gatesim.experiment.planning import PlanInputs

T = TypeVar("T")
#: Arguments that can only be checked once a first replication reports its KPIs: a study
#: refused for them leaves no replication store behind.
FOUND_AFTER_A_PILOT = ("target_kpi",)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a command whose output folder (and replication store) is ``out``."""

    def __init__(self, out: Path) -> None:
        super().__init__()
        self.out = out


@contextmanager
def writing_to(out: Path) -> Iterator[None]:
    try:
        yield
    except Interrupted:
        raise
    except KeyboardInterrupt:
        raise Interrupted(out) from None


def dispatch(call: Invocation) -> int:
    request, argv = call.request, list(call.argv)
    if isinstance(request, TypesRequest):
        return types()
    if isinstance(request, ValidateRequest):
        return validate(request.scenario)
    if isinstance(request, (StationsRequest, KpisRequest)):
        return listing(request)
    if isinstance(request, CompareRequest):
        return compare(request, argv)
    if isinstance(request, SweepRequest):
        return sweep(request, argv)
    if isinstance(request, PlanRequest):
        return plan(request, argv)
    if isinstance(request, CapacityRequest):
        return capacity(request, argv)
    if isinstance(request, SensitivityRequest):
        return sensitivity(request, argv)
    return run(request, argv)


def types() -> int:
    """Station types, distributions and KPIs, built in or plug-in, each with its source
    package (the installed distribution that holds its module, or the plug-in module)."""
    from importlib.metadata import packages_distributions

    from gatesim.core.distributions import distribution_types
    from gatesim.stations.registry import station_types
    from gatesim.stats.registry import kpi_names, resolve_kpi

    packages = packages_distributions()

    def source(module: str) -> str:
        top = module.partition(".")[0]
        # a package found twice (an editable install and a build's egg-info) is named once
        return ", ".join(dict.fromkeys(packages.get(top, []))) or f"module {module}"

    for name, cls in station_types().items():
        print(f"{name:22s} {cls.describe}  [{source(cls.__module__)}]")
    print("\ndistributions (dist:)")
    for name, dist in distribution_types().items():
        print(f"  {name:20s} [{source(dist.__module__)}]")
    print("\nKPIs (built in, or listed in kpis:)")
    for name in kpi_names():
        fn = resolve_kpi(name).fn
        print(f"  {name:20s} [{source(getattr(fn, '__module__', None) or 'gatesim')}]")
    return 0


def validate(path: Path) -> int:
    from gatesim.model.loading import load_scenario

    scenario = load_scenario(path)
    print(
        f"{path}: OK ({scenario.name}: {len(scenario.stations)} stations, "
        f"{len(scenario.arrivals)} arrival streams, {len(scenario.routes)} routes)"
    )
    return 0


def listing(request: StationsRequest | KpisRequest) -> int:
    from gatesim.cli.listing import list_kpis, list_stations

    if isinstance(request, StationsRequest):
        return list_stations(request.scenario, request.table_format)
    return list_kpis(request.table_format)


# --------------------------------------------------------------------------- shared steps
def prepare_out(output: Output, default_name: str) -> Path:
    """The output folder (``results/<name>-<time>`` unless given), checked before simulating."""
    from gatesim.experiment.output import check_output_folder

    stamp = f"{datetime.now():%Y%m%d-%H%M%S}"
    out = output.out or Path("results") / f"{default_name}{output.suffix}-{stamp}"
    check_output_folder(out, output.force)
    return out


def simulate(
    out: Path, output: Output, options: StudyOptions, study: Callable[[StudyOptions], T]
) -> T:
    """Run ``study`` with the replication store beside ``out`` (reused with --resume). An
    argument refused only after the pilot leaves nothing behind: the store and the folders
    made for it (``results/``) are removed again."""
    from gatesim.experiment.store import PartialStore, partial_folder

    stored = dataclasses.replace(options, store=partial_folder(out), resume=output.resume)
    new_parent = next((p for p in reversed(out.absolute().parents) if not p.exists()), None)
    try:
        return study(stored)
    except UsageError as exc:
        if exc.argument in FOUND_AFTER_A_PILOT and not output.resume:
            PartialStore(partial_folder(out)).remove()
            _remove_empty(new_parent)
        raise


def _remove_empty(new_parent: Path | None) -> None:
    if new_parent is None:
        return
    for folder in sorted(new_parent.rglob("*"), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    if new_parent.is_dir() and not any(new_parent.iterdir()):
        new_parent.rmdir()


def discard_store(out: Path) -> None:
    """After the results are written: the replication store is no longer needed."""
    from gatesim.experiment.store import PartialStore, partial_folder

    PartialStore(partial_folder(out)).remove()


def workbook_writer(output: Output) -> Callable[[Path], None] | None:
    """With ``--excel``: what writes results.xlsx into the staging folder."""
    if not output.excel:
        return None
    from gatesim.report.excel import write_workbook

    def write(folder: Path) -> None:
        write_workbook(folder)

    return write


def finish(out: Path, output: Output, event_log: bool = True) -> None:
    """After the atomic write: the event log (with visit records) and the optional report,
    each written to a temporary file and renamed, so a failure here never spoils the results."""
    from gatesim.report.events import write_event_log

    if event_log:
        write_event_log(out)
    print(f"results written to {out}")
    if output.report:
        from gatesim.report.html import write_report

        try:
            print(f"report written to {write_report(out)}")
        except ValueError as exc:  # the results are written; only the report failed
            raise UsageError("--report", str(exc)) from None


# --------------------------------------------------------------------------- run
def run(request: RunRequest, argv: list[str]) -> int:
    from gatesim.experiment.manifests import run_extra
    from gatesim.experiment.options import run_scenarios
    from gatesim.experiment.output import write_experiment
    from gatesim.model.loading import load_scenario
    from gatesim.report.console import summary_items
    from gatesim.report.studies import design_lines
    from gatesim.report.tables import print_tables

    options, output = request.options, request.output
    loaded = load_scenario(request.scenario, options.overrides())
    # The title says which run it was: the name with --year and --set (gatesim.cli.naming).
    scenario = loaded.model_copy(update={"name": titled(loaded.name, output.suffix)})
    options.design()
    out = prepare_out(output, loaded.name)
    with writing_to(out):
        study = simulate(out, output, options, lambda o: run_scenarios([scenario], o))
        result = study.results[0]
        extra = run_extra(study.runner, result, study.design)
        write_experiment(
            out,
            result,
            study.wall_seconds,
            argv,
            force=output.force,
            extra=workbook_writer(output),
            manifest_extra=extra,
        )
        discard_store(out)
    result.drop_records()  # written; the event log reads them back from the files
    if not output.quiet:
        summary = result.summary()
        items = [*summary_items(summary, study.wall_seconds), *design_lines(summary)]
        print_tables(items, output.table_format)
    finish(out, output)
    return 0


# --------------------------------------------------------------------------- compare, sweep
def compare(request: CompareRequest, argv: list[str]) -> int:
    from gatesim.experiment.studies import compared_scenarios, run_comparison
    from gatesim.report.studies import print_comparison

    output = request.output
    compared = compared_scenarios(
        request.scenarios, request.options, request.allow_unpaired, dict(request.variants)
    )
    for found in compared.unpaired:
        for difference in found:
            print(f"warning: unpaired: {difference}", file=sys.stderr)
    out = prepare_out(output, "compare")
    with writing_to(out):
        result = simulate(
            out, output, request.options, lambda o: run_comparison(compared, o, request.capacity)
        )
        result.save(out, argv, output.force, workbook_writer(output))
        discard_store(out)
    if not output.quiet:
        print_comparison(result.document, result.results[-1].summary(), request.table_format)
    finish(out, output)
    return 0


def sweep(request: SweepRequest, argv: list[str]) -> int:
    from gatesim.experiment.studies import run_sweep, swept_points
    from gatesim.report.studies import print_sweep

    output = request.output
    points = swept_points(request.scenario, list(request.axes), request.options)
    out = prepare_out(output, f"sweep-{points[0].scenario.name}")
    with writing_to(out):
        result = simulate(out, output, request.options, lambda o: run_sweep(points, o))
        result.save(out, argv, output.force, workbook_writer(output))
        discard_store(out)
    if not output.quiet:
        print_sweep(result.table, result.parameters, output.table_format)
    finish(out, output)
    return 0


# --------------------------------------------------------------------------- plan, capacity
def plan(request: PlanRequest, argv: list[str]) -> int:
    """Capacity search; exit 1 when nothing in range fits (the best point is still written)."""
    from gatesim.experiment.planning import plan_inputs, search_plan
    from gatesim.experiment.studies import check_plan_options
    from gatesim.report.studies import print_plan

    options, output = request.options, request.output
    check_plan_options(options)
    inputs = plan_inputs(
        request.targets,
        request.varies,
        request.cost,
        options.overrides(),
        request.max_replications,
        request.side,
        request.draws.years is not None,
    )
    if request.draws.draws is not None:
        return plan_draws(request, inputs, argv)
    out = prepare_out(output, f"plan-{request.scenario.stem}")
    with writing_to(out):
        result = simulate(out, output, options, lambda o: search_plan(request.scenario, inputs, o))
        result.save(out, argv, output.force)
        discard_store(out)
    if not output.quiet:
        print_plan(result.document, fmt=output.table_format)
    finish(out, output, event_log=False)
    return result.exit_code


def plan_draws(request: PlanRequest, inputs: PlanInputs, argv: list[str]) -> int:
    """``plan --draws N``: the plan's answers over draws; exit 0 (the distribution is the
    answer, whether or not some draws found nothing in range)."""
    from gatesim.experiment.plan_draws import plan_over_draws
    from gatesim.experiment.studies import draw_options

    given = request.draws
    drawn = draw_options(given.draws, given.sampler, given.seed, given.years)
    assert drawn is not None  # --draws was given
    out = prepare_out(request.output, f"plan-draws-{request.scenario.stem}")

    def study(options: StudyOptions) -> DrawsResult:
        return plan_over_draws(request.scenario, inputs, given.years, drawn, options)

    return _write_draws(out, request.output, request.options, study, argv)


def _write_draws(
    out: Path,
    output: Output,
    options: StudyOptions,
    study: Callable[[StudyOptions], DrawsResult],
    argv: list[str],
) -> int:
    from gatesim.report.draws_console import print_draws

    with writing_to(out):
        result = simulate(out, output, options, study)
        result.save(out, argv, output.force)
        discard_store(out)
    if not output.quiet:
        print_draws(result.document)
    finish(out, output, event_log=False)
    return 0


def capacity(request: CapacityRequest, argv: list[str]) -> int:
    from gatesim.experiment.capacity_run import measure
    from gatesim.experiment.studies import capacity_options
    from gatesim.model.loading import load_scenario
    from gatesim.report.studies import print_capacity

    options, output = request.options, request.output
    scenario = load_scenario(request.scenario, options.overrides())
    measured = capacity_options(
        scenario,
        request.scenario,
        request.method,
        request.resolution,
        request.scale_range,
        request.lane,
    )
    if request.draws.draws is not None:
        return capacity_draws(request, measured, argv)
    out = prepare_out(output, f"capacity-{scenario.name}")
    result = measure(scenario, request.scenario, measured, options)
    result.save(out, argv, output.force)
    if not output.quiet:
        print_capacity(result.document)
    finish(out, output, event_log=False)
    return 0


def capacity_draws(request: CapacityRequest, measured: CapacityOptions, argv: list[str]) -> int:
    """``capacity --draws N``: capacity per lane and direction over draws."""
    from gatesim.experiment.capacity_draws import capacity_over_draws
    from gatesim.experiment.studies import draw_options

    given = request.draws
    drawn = draw_options(given.draws, given.sampler, given.seed)
    assert drawn is not None  # --draws was given
    out = prepare_out(request.output, f"capacity-draws-{request.scenario.stem}")

    def study(options: StudyOptions) -> DrawsResult:
        return capacity_over_draws(request.scenario, drawn, measured, options)

    return _write_draws(out, request.output, request.options, study, argv)


# --------------------------------------------------------------------------- sensitivity
def sensitivity(request: SensitivityRequest, argv: list[str]) -> int:
    """Global sensitivity; finished runs are kept in DIR.partial until the results are
    written, so --resume continues an interrupted analysis."""
    from gatesim.experiment.progress import ProgressBar, progress_wanted
    from gatesim.experiment.sensitivity import SensitivityOptions
    from gatesim.experiment.sensitivity_output import sensitivity_document, write_sensitivity
    from gatesim.experiment.sensitivity_run import sensitivity as analyse
    from gatesim.experiment.store import PartialStore, partial_folder
    from gatesim.report.sensitivity_console import print_sensitivity
    from gatesim.report.sensitivity_plots import write_sensitivity_figures

    options, output = request.options, request.output
    method = SensitivityOptions(
        method=request.method,
        budget=request.budget,
        sobol_budget=request.sobol_budget,
        top=request.top,
    )
    out = prepare_out(output, f"sensitivity-{request.scenario.stem}")
    store = PartialStore(partial_folder(out))
    with writing_to(out):
        if not output.resume:
            store.remove()
        with ProgressBar(progress_wanted(output.quiet)) as bar:
            result = analyse(
                request.scenario,
                request.kpis,
                method,
                options.overrides(),
                request.replications,
                options.jobs,
                options.dask,
                store,
                bar,
            )
        write_sensitivity(out, result, argv, output.force, write_sensitivity_figures)
        store.remove()
    if not output.quiet:
        print_sensitivity(sensitivity_document(result))
    finish(out, output, event_log=False)
    return 0
