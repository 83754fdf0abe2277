"""Command line: ``python run_sim.py [run] SCENARIO.yaml``, ``validate``, ``types``.

Bad input (scenario files or arguments) prints one line on stderr and exits with code 2;
nothing is written. The CLI only talks to the scenario, experiment and output layers.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import yaml

from gatesim.core.errors import ScenarioError

if TYPE_CHECKING:  # the CLI imports the heavy layers lazily, when a command needs them
    from gatesim.experiment.runner import ExperimentResult
    from gatesim.experiment.study import Design, ReplicationRunner
    from gatesim.experiment.sweep import Axis
    from gatesim.scenario.schema import Scenario

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
COMMANDS = (
    "run",
    "compare",
    "sweep",
    "plan",
    "capacity",
    "sensitivity",
    "validate",
    "types",
    "validate-model",
    "report",
)
#: Commands whose options belong to another module's own parser.
PASSTHROUGH = {"validate-model": "gatesim.validation.suite", "report": "gatesim.report.html"}

DESCRIPTION = """\
gatesim: discrete-event simulation of cargo trucks through the Huu Nghi - Youyiguan
smart border gate (dedicated lanes 1119-1120 and 1088/2-1089).

commands:
  run SCENARIO.yaml       simulate and print the KPI table (the default command:
                          'run_sim.py SCENARIO.yaml' is 'run_sim.py run SCENARIO.yaml')
  compare A.yaml B.yaml   run scenarios under common random numbers and report paired
                          differences against the first one
  sweep SCENARIO.yaml --set FIELD.PATH=V1,V2,...
                          full-factorial parameter sweep, one folder per point
  plan SCENARIO.yaml --target "KPI<=X" --vary FIELD.PATH=LO:HI
                          capacity search: the cheapest configuration whose targets
                          hold with 95 % confidence
  capacity SCENARIO.yaml  what each lane and direction can carry (trucks/day with 95 % CI),
                          by saturated entry and by demand ramp, and what binds it
  sensitivity SCENARIO.yaml --kpi KPI
                          which uncertain assumptions (the file's 'uncertain:' ranges) move
                          a KPI: Morris screening, then Sobol indices with CIs
  validate SCENARIO.yaml  check a scenario file without running it
  types                   list the station types a scenario can use
  validate-model          check the engine against closed-form queueing results
                          (docs/validation.md; --scale, --jobs, --only CHECK)
  report DIR              write DIR/report.html (one self-contained page) for a result
                          folder of run, compare or sweep

Run 'run_sim.py COMMAND --help' for the options of a command (see docs/experiments.md).
Results go to --out DIR (default results/<scenario>-<timestamp>): summary.json,
replications.csv, stations.csv, daily_cleared.csv, hourly.csv, hourly_summary.csv,
manifest.json and, with --records, trucks.parquet and visits.parquet.
"""


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad arguments in one line with exit code 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _integer_at_least(minimum: int, wording: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {wording} (got {text!r})")
        return value

    return parse


positive_int = _integer_at_least(1, "a positive integer")
non_negative_int = _integer_at_least(0, "an integer >= 0")


def assignment(text: str) -> tuple[str, Any]:
    """``path.to.field=value``; the value is read as YAML (numbers, lists, strings)."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise argparse.ArgumentTypeError(f"expected FIELD.PATH=VALUE (got {text!r})")
    _check_field_path(path.strip(), text)
    try:
        return path.strip(), yaml.safe_load(raw)
    except yaml.YAMLError:
        raise argparse.ArgumentTypeError(f"cannot read the value in {text!r}") from None


def _check_field_path(path: str, text: str) -> None:
    """A field path is names joined by dots (``stations.xray.servers``): no empty part."""
    if not all(part.strip() for part in path.split(".")):
        raise argparse.ArgumentTypeError(
            f"FIELD.PATH must be field names joined by '.', e.g. stations.NAME.servers "
            f"(got {text!r})"
        )


def replications_arg(text: str) -> int | str:
    """A positive integer, or ``auto`` (add replications until a precision target is met)."""
    return "auto" if text.strip().lower() == "auto" else positive_int(text)


def warmup_arg(text: str) -> float | str:
    """Days to discard (a number >= 0), or ``auto`` (MSER-5 on a pilot run)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be 'auto' or a number of days (got {text!r})"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be 'auto' or a number of days >= 0 (got {text!r})")
    return value


def fraction_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1) (got {text!r})") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1) (got {text!r})")
    return value


def size_arg(text: str) -> int:
    from gatesim.experiment.memory import parse_size

    try:
        return parse_size(text)
    except (ValueError, IndexError):
        raise argparse.ArgumentTypeError(
            f"must be a size such as 800M or 8G (got {text!r})"
        ) from None


def axis_arg(text: str) -> Axis:
    from gatesim.experiment.sweep import parse_axis

    try:
        axis = parse_axis(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    _check_field_path(axis.path, text)
    return axis


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="run_sim.py",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    run = commands.add_parser("run", help="simulate a scenario and print its KPIs")
    run.add_argument("scenario", type=Path, help="scenario YAML file")
    _add_run_options(run)
    _add_experiment_options(run)
    compare = commands.add_parser(
        "compare", help="compare scenarios under common random numbers (paired differences)"
    )
    compare.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO.yaml")
    compare.add_argument(
        "--capacity",
        action="store_true",
        help="also measure each scenario's capacity (saturated entry) with paired differences",
    )
    _add_experiment_options(compare)
    sweep = commands.add_parser("sweep", help="full-factorial sweep over scenario fields")
    sweep.add_argument("scenario", type=Path, help="scenario YAML file")
    sweep.add_argument(
        "--set",
        dest="axes",
        type=axis_arg,
        action="append",
        required=True,
        metavar="FIELD.PATH=V1,V2,...",
        help="swept field and its comma-separated values (YAML scalars); repeat for more axes",
    )
    _add_experiment_options(sweep)
    _add_plan_parser(commands)
    _add_capacity_parser(commands)
    _add_sensitivity_parser(commands)
    validate = commands.add_parser("validate", help="check a scenario file without running it")
    validate.add_argument("scenario", type=Path)
    commands.add_parser("types", help="list the registered station types")
    for name, sub in commands.choices.items():
        _add_input_options(sub, scenarios=name != "types")
    return parser


def _add_input_options(cmd: argparse.ArgumentParser, scenarios: bool = True) -> None:
    """``--plugin`` (station types from a module or .py file) and, for commands that read
    scenario files, ``--allow-path`` (a folder beyond the scenario's own tree)."""
    cmd.add_argument(
        "--plugin",
        dest="plugins",
        action="append",
        default=[],
        metavar="MODULE_OR_FILE",
        help="import station types and KPIs from a module or a .py file (repeatable); "
        "installed packages' (entry points 'gatesim.stations', 'gatesim.kpis') need no flag",
    )
    if scenarios:
        cmd.add_argument(
            "--allow-path",
            dest="allow_paths",
            action="append",
            default=[],
            type=Path,
            metavar="DIR",
            help="let extends: and csv: read files in DIR too (by default only the scenario "
            "file's folder tree); repeatable",
        )


def _add_run_options(run: argparse.ArgumentParser) -> None:
    run.add_argument("--warmup-days", type=float, help="days discarded before measuring")
    _add_set_option(run, "override any scenario field, e.g. stations.vn_xray_1119.servers=3")
    run.add_argument(
        "--records",
        action="store_true",
        help="also write per-truck and per-visit records (Parquet)",
    )


def _add_set_option(cmd: argparse.ArgumentParser, text: str) -> None:
    cmd.add_argument(
        "--set",
        dest="assignments",
        type=assignment,
        action="append",
        default=[],
        metavar="FIELD.PATH=VALUE",
        help=text,
    )


def _add_experiment_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--days", type=positive_int, help="simulated days (overrides the file)")
    cmd.add_argument(
        "--replications",
        "-r",
        type=replications_arg,
        metavar="R|auto",
        help="independent replications, or 'auto' to stop at a precision target",
    )
    cmd.add_argument("--seed", type=non_negative_int, help="master seed (overrides the file)")
    cmd.add_argument(
        "--year",
        type=positive_int,
        help="planning year: sets demand.year (growth) and moves start_date into that year",
    )
    cmd.add_argument(
        "--warmup",
        type=warmup_arg,
        metavar="auto|DAYS",
        help="warm-up to discard: DAYS, or 'auto' (MSER-5 on a pilot run)",
    )
    cmd.add_argument("--target-kpi", help="KPI for --replications auto (throughput_per_day)")
    cmd.add_argument(
        "--target-rel",
        type=fraction_arg,
        help="relative CI half-width to reach with --replications auto (0.05)",
    )
    cmd.add_argument(
        "--max-replications",
        type=positive_int,
        help="cap on replications with --replications auto (50)",
    )
    _add_output_and_executor_options(cmd)


def _add_output_and_executor_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--out", type=Path, help="output folder (default results/<name>-<time>)")
    cmd.add_argument("--force", action="store_true", help="replace an existing output folder")
    cmd.add_argument(
        "--report", action="store_true", help="also write DIR/report.html (one self-contained page)"
    )
    cmd.add_argument(
        "--resume",
        action="store_true",
        help="reuse the replications an interrupted run with the same --out finished",
    )
    cmd.add_argument(
        "--jobs",
        "-j",
        type=positive_int,
        default=1,
        help="worker processes for replications (results identical to serial)",
    )
    cmd.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run replications on a Dask cluster ('local' starts a LocalCluster)",
    )
    cmd.add_argument("--quiet", "-q", action="store_true", help="print only the output folder")
    cmd.add_argument(
        "--max-memory",
        type=size_arg,
        metavar="SIZE",
        help="memory the run may use, e.g. 8G (default: the memory available now); a run "
        "estimated to need more is refused before it starts",
    )


def _add_plan_parser(commands: Any) -> None:
    plan = commands.add_parser(
        "plan", help="capacity search: the cheapest configuration that meets service targets"
    )
    plan.add_argument("scenario", type=Path, help="scenario YAML file")
    plan.add_argument(
        "--target",
        dest="targets",
        action="append",
        required=True,
        metavar="KPI<=VALUE",
        help="service target (<=, <, >=, >) on a KPI mean; repeat for several (all must hold)",
    )
    plan.add_argument(
        "--vary",
        dest="varies",
        action="append",
        required=True,
        metavar="FIELD.PATH=LO:HI[:STEP]",
        help="a capacity to search over (larger = more capacity); repeat for more dimensions",
    )
    plan.add_argument(
        "--cost", type=Path, metavar="FILE", help="YAML: cost per unit (and fixed) per path"
    )
    plan.add_argument(
        "--side",
        choices=("VN", "CN", "bilateral"),
        help="vary only the levers of one side of the border (stations of that side, its "
        "calendars and roads); plan.json names the side of every varied field",
    )
    _add_run_options(plan)
    _add_experiment_options(plan)
    for action in plan._actions:  # shared options that mean something else here, or are refused
        hidden = action.dest in PLAN_REFUSED
        action.help = argparse.SUPPRESS if hidden else PLAN_HELP.get(action.dest, action.help)


def _add_capacity_parser(commands: Any) -> None:
    capacity = commands.add_parser(
        "capacity", help="capacity per lane and direction: saturated entry and demand ramp"
    )
    capacity.add_argument("scenario", type=Path, help="scenario YAML file")
    capacity.add_argument("--days", type=positive_int, help="simulated days (overrides the file)")
    capacity.add_argument(
        "--replications",
        "-r",
        type=_integer_at_least(2, "at least 2"),
        help="replications per load (the file's count; at least 2 for an interval)",
    )
    capacity.add_argument("--seed", type=non_negative_int, help="master seed (overrides the file)")
    capacity.add_argument("--year", type=positive_int, help="planning year (sets demand.year)")
    capacity.add_argument("--lane", help="measure this lane only (the others get no trucks)")
    capacity.add_argument(
        "--method",
        choices=("both", "saturated", "ramp"),
        default="both",
        help="saturated entry, demand ramp, or both (default; they check each other)",
    )
    capacity.add_argument(
        "--resolution",
        type=fraction_arg,
        default=0.05,
        help="ramp: stop when the growing factor is within this fraction of the stable (0.05)",
    )
    capacity.add_argument(
        "--scale-range",
        type=_scale_range,
        default=(0.02, 100.0),
        metavar="LOW:HIGH",
        help="ramp: demand factors the search may try (0.02:100, relative to the file)",
    )
    _add_set_option(capacity, "override any scenario field")
    capacity.add_argument(
        "--out", type=Path, help="output folder (default results/capacity-<name>-<time>)"
    )
    capacity.add_argument("--force", action="store_true", help="replace an existing output folder")
    capacity.add_argument(
        "--report", action="store_true", help="also write DIR/report.html (one self-contained page)"
    )
    capacity.add_argument(
        "--jobs", "-j", type=positive_int, default=1, help="worker processes (same results)"
    )
    capacity.add_argument("--dask", metavar="ADDRESS", help="run on a Dask cluster ('local')")
    capacity.add_argument("--quiet", "-q", action="store_true", help="print only the folder")


def _add_sensitivity_parser(commands: Any) -> None:
    cmd = commands.add_parser(
        "sensitivity",
        help="which uncertain assumptions move a KPI (Morris screening, then Sobol indices)",
    )
    cmd.add_argument("scenario", type=Path, help="scenario YAML file with an 'uncertain:' map")
    cmd.add_argument(
        "--kpi", action="append", required=True, help="KPI to analyse; repeat for more"
    )
    cmd.add_argument(
        "--method",
        choices=("morris", "sobol"),
        default="sobol",
        help="morris: screening only; sobol (default): screening, then Sobol indices of the "
        "--top factors of each KPI",
    )
    cmd.add_argument(
        "--budget", type=positive_int, help="design points per stage (default: 10 trajectories)"
    )
    cmd.add_argument(
        "--sobol-budget", type=positive_int, help="design points of the Sobol stage (--budget)"
    )
    cmd.add_argument(
        "--top", type=positive_int, default=5, help="factors per KPI carried to Sobol (5)"
    )
    cmd.add_argument("--replications", "-r", type=positive_int, help="runs per design point")
    cmd.add_argument("--days", type=positive_int, help="simulated days (overrides the file)")
    cmd.add_argument("--seed", type=non_negative_int, help="master seed (overrides the file)")
    cmd.add_argument("--year", type=positive_int, help="planning year (sets demand.year)")
    _add_set_option(cmd, "override a scenario field at every design point")
    cmd.add_argument("--out", type=Path, help="output folder (default results/<name>-<time>)")
    cmd.add_argument("--force", action="store_true", help="replace an existing output folder")
    cmd.add_argument(
        "--resume", action="store_true", help="reuse the runs an interrupted analysis finished"
    )
    cmd.add_argument("--report", action="store_true", help="also write DIR/report.html")
    cmd.add_argument("--jobs", "-j", type=positive_int, default=1, help="worker processes")
    cmd.add_argument("--dask", metavar="ADDRESS", help="run on a Dask cluster ('local')")
    cmd.add_argument("--quiet", "-q", action="store_true", help="print only the output folder")


def _scale_range(text: str) -> tuple[float, float]:
    low, sep, high = text.partition(":")
    try:
        bounds = (float(low), float(high))
    except ValueError:
        bounds = (math.nan, math.nan)
    if not sep or not all(math.isfinite(b) for b in bounds) or not 0 < bounds[0] < bounds[1]:
        raise argparse.ArgumentTypeError(f"needs LOW:HIGH with 0 < LOW < HIGH, got '{text}'")
    return bounds


PLAN_HELP = {
    "replications": "replications per configuration to start with (at least 2)",
    "max_replications": "cap on replications per configuration while undecided (40)",
}


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in PASSTHROUGH:
        return _passthrough(args_list[0], args_list[1:])
    if args_list and args_list[0] not in COMMANDS and not args_list[0].startswith("-"):
        args_list.insert(0, "run")  # 'run_sim.py baseline.yaml' means 'run baseline.yaml'
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        with _inputs_as_asked(args):
            return _dispatch(args, args_list)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(_interrupted(args), file=sys.stderr)
        return EXIT_INTERRUPTED


@contextmanager
def _inputs_as_asked(args: argparse.Namespace) -> Iterator[None]:
    """Load the ``--plugin`` modules, and let scenarios read the ``--allow-path`` folders."""
    from gatesim.scenario.loader import allowed_folders
    from gatesim.stations.plugins import load_plugin

    for plugin in args.plugins:
        load_plugin(plugin)
    with allowed_folders(getattr(args, "allow_paths", [])):
        yield


def console_main() -> NoReturn:
    """The process entry point (``run_sim.py``, the ``gatesim`` script): :func:`main`, then exit.

    After Ctrl-C the process leaves with ``os._exit``: every ``with`` and ``finally`` has run
    by then (staging folders removed, workers terminated), but a pool worker terminated while
    sending a result leaves the pool's reader thread waiting for the rest of the message, and
    the interpreter would wait for that thread forever at exit."""
    code = main()
    if code == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)


def _passthrough(command: str, argv: list[str]) -> int:
    import importlib

    module_main = importlib.import_module(PASSTHROUGH[command]).main
    return int(module_main(argv))


def _interrupted(args: argparse.Namespace) -> str:
    """The Ctrl-C message: what was kept and how to resume (nothing is ever half-written)."""
    from gatesim.experiment.store import PartialStore

    out: Path | None = getattr(args, "resolved_out", None)
    if out is None or not PartialStore(partial_folder(out)).count():
        return "interrupted: nothing was written"
    kept = PartialStore(partial_folder(out)).count()
    return (
        f"interrupted: {kept} finished replication(s) kept in {partial_folder(out)}; "
        f"rerun with --out {out} --resume to reuse them"
    )


def _dispatch(args: argparse.Namespace, argv: list[str]) -> int:
    if args.command == "types":
        return _types()
    if args.command == "validate":
        return _validate(args.scenario)
    command = ["run_sim.py", *argv]
    if args.command == "compare":
        return _compare(args, command)
    if args.command == "sweep":
        return _sweep(args, command)
    if args.command == "plan":
        return _plan(args, command)
    if args.command == "capacity":
        return _capacity(args, command)
    if args.command == "sensitivity":
        return _sensitivity(args, command)
    return _run(args, command)


def _types() -> int:
    from gatesim.stations.registry import station_types

    for name, cls in station_types().items():
        print(f"{name:22s} {cls.describe}")
    return 0


def _validate(path: Path) -> int:
    from gatesim.model.loading import load_scenario

    scenario = load_scenario(path)
    print(
        f"{path}: OK ({scenario.name}: {len(scenario.stations)} stations, "
        f"{len(scenario.arrivals)} arrival streams, {len(scenario.routes)} routes)"
    )
    return 0


# --------------------------------------------------------------------------- experiments
def run_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Scenario overrides from the flags: --set, --days, --replications R, --seed, warm-up,
    --year."""
    overrides: dict[str, Any] = dict(getattr(args, "assignments", []))
    for flag in ("days", "seed"):
        if getattr(args, flag) is not None:
            overrides[flag] = getattr(args, flag)
    if isinstance(args.replications, int):
        overrides["replications"] = args.replications
    warmup = _fixed_warmup(args)
    if warmup is not None:
        overrides["warmup_days"] = warmup
    if getattr(args, "records", False):
        overrides["records"] = {"trucks": True, "visits": True}
    if getattr(args, "year", None) is not None:
        overrides["demand.year"] = args.year  # the loader also moves start_date into the year
    return overrides


def _fixed_warmup(args: argparse.Namespace) -> float | None:
    legacy = getattr(args, "warmup_days", None)
    if legacy is not None and args.warmup is not None:
        raise ScenarioError(None, "--warmup-days", "give either --warmup or --warmup-days")
    if legacy is not None:
        return float(legacy)
    return args.warmup if isinstance(args.warmup, float) else None


def _design(args: argparse.Namespace) -> Design:
    from gatesim.experiment.study import Design

    auto = args.replications == "auto"
    for flag in ("target_kpi", "target_rel", "max_replications"):
        if getattr(args, flag) is not None and not auto:
            option = "--" + flag.replace("_", "-")
            raise ScenarioError(None, option, "only applies with --replications auto")
    defaults = Design()
    return Design(
        auto_replications=auto,
        auto_warmup=args.warmup == "auto",
        target_kpi=args.target_kpi or defaults.target_kpi,
        target_rel=args.target_rel or defaults.target_rel,
        max_replications=args.max_replications or defaults.max_replications,
    )


def _prepare_out(args: argparse.Namespace, default_name: str) -> Path:
    from gatesim.experiment.output import check_output_folder

    if args.resume and args.out is None:
        raise ScenarioError(None, "--resume", "needs the --out folder of the interrupted run")
    out: Path = args.out or Path("results") / f"{default_name}-{datetime.now():%Y%m%d-%H%M%S}"
    check_output_folder(out, args.force)
    args.resolved_out = out
    return out


def _experiment(
    scenarios: list[Scenario], args: argparse.Namespace, out: Path, design: Design, groups: str
) -> tuple[list[ExperimentResult], float, ReplicationRunner]:
    """Run the study with the requested executor, progress bar and partial store."""
    from gatesim.experiment.executors import ExecutorError
    from gatesim.experiment.progress import ProgressBar, progress_wanted
    from gatesim.experiment.store import PartialStore
    from gatesim.experiment.study import (
        Execution,
        ReplicationRunner,
        run_study,
        scheduler_address,
    )

    execution = Execution(jobs=args.jobs, dask_address=args.dask)
    _check_memory(scenarios, args)
    store = PartialStore(partial_folder(out))
    new_parent = next((p for p in reversed(out.absolute().parents) if not p.exists()), None)
    started = time.perf_counter()
    try:
        with (
            ProgressBar(progress_wanted(args.quiet), groups) as bar,
            scheduler_address(execution) as address,
        ):
            runner = ReplicationRunner(execution, address, store, args.resume, bar)
            results = run_study(scenarios, design, runner)
    except ExecutorError as exc:
        raise ScenarioError(None, "--dask", str(exc)) from None
    except ScenarioError as exc:
        if exc.field in FOUND_AFTER_A_PILOT and not args.resume:
            _discard(store, new_parent)  # bad input: leave nothing behind
        raise
    return results, time.perf_counter() - started, runner


#: Arguments that can only be checked once a first replication reports its KPIs.
FOUND_AFTER_A_PILOT = ("--target-kpi",)


def _discard(store: Any, new_parent: Path | None) -> None:
    """Remove the replication store, and the folders made for it (``results/``) if empty."""
    store.remove()
    if new_parent is not None:
        for folder in sorted(new_parent.rglob("*"), reverse=True):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        if new_parent.is_dir() and not any(new_parent.iterdir()):
            new_parent.rmdir()


def _check_memory(scenarios: list[Scenario], args: argparse.Namespace) -> None:
    """Refuse before simulating a run estimated not to fit (workers on a remote Dask cluster
    use that cluster's memory, so only this process's share is counted then)."""
    from gatesim.experiment.memory import check_memory

    remote = args.dask is not None and args.dask != "local"
    workers = 0 if remote else args.jobs
    check_memory(scenarios, workers, getattr(args, "max_memory", None))


def partial_folder(out: Path) -> Path:
    from gatesim.experiment.store import partial_folder as folder

    return folder(out)


def _run(args: argparse.Namespace, command: list[str]) -> int:
    from gatesim.experiment.manifests import run_extra
    from gatesim.experiment.output import write_experiment
    from gatesim.model.loading import load_scenario
    from gatesim.report.console import print_summary
    from gatesim.report.studies import design_lines, print_lines

    scenario = load_scenario(args.scenario, run_overrides(args))
    design = _design(args)
    out = _prepare_out(args, scenario.name)
    results, wall, runner = _experiment([scenario], args, out, design, "")
    result = results[0]
    extra = run_extra(runner, result, design)
    write_experiment(out, result, wall, command, force=args.force, manifest_extra=extra)
    runner.discard_store()
    if not args.quiet:
        summary = result.summary()
        print_summary(summary, wall)
        print_lines(design_lines(summary))
    return _finish(out, args)


def _compare(args: argparse.Namespace, command: list[str]) -> int:
    from rich.console import Console

    from gatesim.experiment.compare import (
        comparison_document,
        unique_folders,
        write_comparison_files,
    )
    from gatesim.experiment.manifests import group_manifest
    from gatesim.report.studies import comparison_table, design_lines, print_lines

    scenarios = _load_compared(args.scenarios, run_overrides(args))
    design = _design(args)
    out = _prepare_out(args, "compare")
    results, wall, runner = _experiment(scenarios, args, out, design, "scenarios")
    folders = unique_folders([s.name for s in scenarios])
    document = comparison_document(results, folders, [str(p) for p in args.scenarios])
    if args.capacity:
        for entry, capacity in zip(document, _compared_capacity(results, args), strict=True):
            entry.update(capacity)
    manifest = group_manifest("compare", results, folders, wall, command, runner, design)

    def write_files(folder: Path) -> None:
        write_comparison_files(folder, document, manifest)
        if args.capacity:
            from gatesim.experiment.capacity_run import write_compared_capacity_csv

            write_compared_capacity_csv(folder / "capacity.csv", document)

    _write_members(args, out, (folders, results, wall, command, runner, design), write_files)
    if not args.quiet:
        Console().print(comparison_table(document))
        if args.capacity:
            from gatesim.experiment.capacity_run import capacity_comparison_table

            names = [entry["scenario"] for entry in document]
            wide = Console(width=None if sys.stdout.isatty() else 160)
            wide.print(capacity_comparison_table(names, document))
        print_lines(design_lines(results[-1].summary()))
    return _finish(out, args)


def _compared_capacity(
    results: list[ExperimentResult], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """``compare --capacity``: each scenario's saturated-entry capacity, paired by seed."""
    from gatesim.experiment.capacity_run import (
        capacity_entries,
        compared_capacities,
        offered_by_flow,
    )
    from gatesim.experiment.executors import ExecutorError
    from gatesim.experiment.progress import ProgressBar, progress_wanted
    from gatesim.experiment.study import Execution, ReplicationRunner, scheduler_address

    execution = Execution(jobs=args.jobs, dask_address=args.dask)
    scenarios = [r.scenario.model_copy(update={"replications": len(r.outcomes)}) for r in results]
    try:
        with (
            ProgressBar(progress_wanted(args.quiet), "capacity") as bar,
            scheduler_address(execution) as address,
        ):
            runner = ReplicationRunner(execution, address, progress=bar)
            flows = compared_capacities(scenarios, runner)
    except ExecutorError as exc:
        raise ScenarioError(None, "--dask", str(exc)) from None
    return capacity_entries(flows, [offered_by_flow(r) for r in results])


def _write_members(
    args: argparse.Namespace,
    out: Path,
    study: tuple[list[str], list[Any], float, list[str], Any, Design],
    write_files: Callable[[Path], None],
) -> None:
    """Write a compare or sweep: one run folder per member plus the group files, atomically;
    then drop the replication store (the results are safe on disk)."""
    from gatesim.experiment.manifests import run_extra
    from gatesim.experiment.output import write_group

    folders, results, wall, command, runner, design = study
    members = [(f, r, run_extra(runner, r, design)) for f, r in zip(folders, results, strict=True)]
    write_group(out, members, wall, command, write_files, force=args.force)
    runner.discard_store()


def _load_compared(paths: list[Path], overrides: dict[str, Any]) -> list[Scenario]:
    """Every scenario with the first one's seed and replication count (common random numbers)."""
    from gatesim.model.loading import load_scenario

    if len(paths) < 2:
        raise ScenarioError(None, "compare", "needs at least two scenario files")
    first = load_scenario(paths[0], overrides)
    shared = {**overrides, "seed": first.seed, "replications": first.replications}
    return [first, *(load_scenario(path, shared) for path in paths[1:])]


def _sweep(args: argparse.Namespace, command: list[str]) -> int:
    from rich.console import Console

    from gatesim.experiment.manifests import group_manifest
    from gatesim.experiment.sweep import sweep_points, sweep_table, write_sweep_files
    from gatesim.report.studies import sweep_table as sweep_display

    points = sweep_points(args.scenario, args.axes, run_overrides(args))
    design = _design(args)
    out = _prepare_out(args, f"sweep-{points[0].scenario.name}")
    scenarios = [p.scenario for p in points]
    results, wall, runner = _experiment(scenarios, args, out, design, "sweep points")
    folders = [f"points/{p.folder}" for p in points]
    table = sweep_table(points, results)
    per_point = [{"point": p.index, "values": p.values} for p in points]
    manifest = group_manifest(
        "sweep", results, folders, wall, command, runner, design, per_scenario=per_point
    )
    _write_members(
        args,
        out,
        (folders, results, wall, command, runner, design),
        lambda folder: write_sweep_files(folder, table, manifest),
    )
    if not args.quiet:
        Console().print(sweep_display(table, [a.path for a in args.axes]))
    return _finish(out, args)


def _plan(args: argparse.Namespace, command: list[str]) -> int:
    """Capacity search (gatesim/experiment/planning.py); exit 1 when nothing in range fits."""
    from gatesim.experiment.planning import plan_inputs, run_plan
    from gatesim.experiment.study import Execution

    for flag, refused in PLAN_REFUSED.items():
        if getattr(args, flag) not in (None, False):
            raise ScenarioError(None, "--" + flag.replace("_", "-"), refused)
    if args.replications == "auto" or args.warmup == "auto":
        option = "--replications" if args.replications == "auto" else "--warmup"
        raise ScenarioError(None, option, "plan needs a fixed value ('auto' is not available)")
    overrides = run_overrides(args)
    inputs = plan_inputs(
        args.targets, args.varies, args.cost, overrides, args.max_replications, args.side
    )
    out = _prepare_out(args, f"plan-{args.scenario.stem}")
    code, _ = run_plan(
        args.scenario,
        inputs,
        overrides,
        Execution(jobs=args.jobs, dask_address=args.dask),
        out,
        command,
        force=args.force,
        resume=args.resume,
        quiet=args.quiet,
    )
    print(f"results written to {out}")
    _report_if_asked(out, args)  # also when nothing in range fits: it shows the best point
    return code


def _capacity(args: argparse.Namespace, command: list[str]) -> int:
    """Capacity per lane and direction (gatesim/experiment/capacity.py)."""
    from gatesim.experiment.capacity import CapacityOptions, capacity_scenario, check_measurable
    from gatesim.experiment.capacity_run import run_capacity
    from gatesim.experiment.executors import ExecutorError
    from gatesim.experiment.output import check_output_folder
    from gatesim.experiment.study import Execution
    from gatesim.model.loading import load_scenario

    overrides: dict[str, Any] = dict(args.assignments)
    for flag in ("days", "seed", "replications"):
        if getattr(args, flag) is not None:
            overrides[flag] = getattr(args, flag)
    if args.year is not None:
        overrides["demand.year"] = args.year
    scenario = load_scenario(args.scenario, overrides)
    methods = ("saturated", "ramp") if args.method == "both" else (args.method,)
    options = CapacityOptions(
        replications=scenario.replications,
        resolution=args.resolution,
        scale_range=args.scale_range,
        methods=methods,
        lane=args.lane,
    )
    if options.replications < 2:
        raise ScenarioError(
            args.scenario,
            "replications",
            "capacity needs at least 2 (give -r)",
            options.replications,
        )
    try:
        check_measurable(capacity_scenario(scenario), options)
    except ScenarioError as exc:
        raise (exc.with_file(args.scenario) if exc.field in ("arrivals", "days") else exc) from None
    out = args.out or Path("results") / f"capacity-{scenario.name}-{datetime.now():%Y%m%d-%H%M%S}"
    check_output_folder(out, args.force)
    execution = Execution(jobs=args.jobs, dask_address=args.dask)
    try:
        run_capacity(
            scenario,
            args.scenario,
            options,
            execution,
            out,
            command,
            force=args.force,
            quiet=args.quiet,
        )
    except ExecutorError as exc:
        raise ScenarioError(None, "--dask", str(exc)) from None
    print(f"results written to {out}")
    _report_if_asked(out, args)
    return 0


def _sensitivity(args: argparse.Namespace, command: list[str]) -> int:
    """Global sensitivity (gatesim/experiment/sensitivity_run.py); finished runs are kept in
    DIR.partial until the results are written, so --resume continues an interrupted analysis."""
    from gatesim.experiment.progress import ProgressBar, progress_wanted
    from gatesim.experiment.sensitivity import SensitivityOptions
    from gatesim.experiment.sensitivity_output import sensitivity_document, write_sensitivity
    from gatesim.experiment.sensitivity_run import sensitivity
    from gatesim.experiment.store import PartialStore
    from gatesim.report.sensitivity_console import print_sensitivity
    from gatesim.report.sensitivity_plots import write_sensitivity_figures

    overrides: dict[str, Any] = dict(args.assignments)
    for flag in ("days", "seed"):
        if getattr(args, flag) is not None:
            overrides[flag] = getattr(args, flag)
    if args.year is not None:
        overrides["demand.year"] = args.year
    options = SensitivityOptions(
        method=args.method, budget=args.budget, sobol_budget=args.sobol_budget, top=args.top
    )
    out = _prepare_out(args, f"sensitivity-{args.scenario.stem}")
    store = PartialStore(partial_folder(out))
    if not args.resume:
        store.remove()
    with ProgressBar(progress_wanted(args.quiet)) as bar:
        result = sensitivity(
            args.scenario,
            args.kpi,
            options,
            overrides,
            args.replications,
            args.jobs,
            args.dask,
            store,
            bar,
        )
    write_sensitivity(out, result, command, args.force, write_sensitivity_figures)
    store.remove()
    if not args.quiet:
        print_sensitivity(sensitivity_document(result))
    print(f"results written to {out}")
    _report_if_asked(out, args)
    return 0


PLAN_REFUSED = {
    "target_kpi": "not used by plan (give --target KPI<=VALUE)",
    "target_rel": "not used by plan (replications are added while a verdict is undecided)",
    "records": "not available with plan",
}


def _finish(out: Path, args: argparse.Namespace) -> int:
    """After the atomic write: the event log (with visit records) and the optional report, each
    written to a temporary file and renamed, so a failure here never spoils the results."""
    from gatesim.report.events import write_event_log

    write_event_log(out)
    print(f"results written to {out}")
    _report_if_asked(out, args)
    return 0


def _report_if_asked(out: Path, args: argparse.Namespace) -> None:
    """``--report``: DIR/report.html from the finished result folder."""
    if args.report:
        from gatesim.report.html import write_report

        try:
            print(f"report written to {write_report(out)}")
        except ValueError as exc:  # the results are written; only the report failed
            raise ScenarioError(None, "--report", str(exc)) from None


if __name__ == "__main__":
    console_main()
