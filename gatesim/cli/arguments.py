"""The command line's arguments: value types, the parser of every command, and the option
groups several commands share (added through :class:`Options`, which keeps each command's own
help text without reaching into argparse's internals).

Parsing only checks each value on its own; :mod:`gatesim.cli.requests` turns the parsed
arguments into a request and checks how they combine.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import yaml

if TYPE_CHECKING:
    from gatesim.experiment.sweep import Axis

EXIT_BAD_INPUT = 2
COMMANDS = (
    "run",
    "compare",
    "sweep",
    "plan",
    "capacity",
    "sensitivity",
    "validate",
    "types",
    "stations",
    "kpis",
    "validate-model",
    "report",
    "replay",
)
#: Commands whose options belong to another module's own parser.
PASSTHROUGH = {
    "validate-model": "gatesim.validation.suite",
    "report": "gatesim.report.html",
    "replay": "gatesim.report.replay",
}

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
  stations SCENARIO.yaml  list a scenario's stations (names for --set and KPIs) with labels
  kpis                    list the KPIs a run reports, with units and meanings
  validate-model          check the engine against closed-form queueing results
                          (docs/validation.md; --scale, --jobs, --only CHECK)
  report DIR              write DIR/report.html (one self-contained page) for a result
                          folder of run, compare or sweep
  replay RUN_DIR --day D  write RUN_DIR/replay.html: one day of both lanes animated on the
                          lane map (needs a run with --records or --replay-day D)

Run 'run_sim.py COMMAND --help' for the options of a command (see docs/experiments.md).
Results go to --out DIR (default results/<scenario>-<timestamp>): summary.json,
replications.csv, stations.csv, daily_cleared.csv, hourly.csv, hourly_summary.csv,
trucks.parquet, queues_over_time.csv, manifest.json and, with --records, visits.parquet;
--excel adds results.xlsx. Station names start with hn_ (Huu Nghi - Youyiguan lane,
1119-1120) or tt_ (Tan Thanh - Po Chai lane, 1088/2-1089).

examples:
  run_sim.py scenarios/baseline.yaml --days 10 --replications 3 --records --out out/base
  run_sim.py report out/base --lang vi
  run_sim.py replay out/base --day 1
  run_sim.py compare scenarios/baseline.yaml scenarios/s4_full_smart_gate.yaml --excel
  run_sim.py stations scenarios/baseline.yaml
  run_sim.py kpis --format md
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


#: A comma that starts the next FIELD.PATH=VALUE of a variant (values may hold commas: [1, 2]).
_NEXT_ASSIGNMENT = re.compile(r",\s*(?=[A-Za-z_][\w.]*\s*=)")


def variant_arg(text: str) -> tuple[str, dict[str, Any]]:
    """``NAME:FIELD.PATH=VALUE[,FIELD.PATH=VALUE...]``: a named set of overrides."""
    name, sep, rest = text.partition(":")
    if not sep or not name.strip() or "=" in name or not rest.strip():
        raise argparse.ArgumentTypeError(
            f"expected NAME:FIELD.PATH=VALUE[,FIELD.PATH=VALUE...] (got {text!r})"
        )
    return name.strip(), dict(assignment(part) for part in _NEXT_ASSIGNMENT.split(rest))


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
    _add_run_options(Options(run))
    _add_experiment_options(Options(run))
    add_format_option(run)
    add_excel_option(run)
    _add_compare_parser(commands)
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
    _add_experiment_options(Options(sweep))
    add_format_option(sweep)
    add_excel_option(sweep)
    _add_plan_parser(commands)
    _add_capacity_parser(commands)
    _add_sensitivity_parser(commands)
    validate = commands.add_parser("validate", help="check a scenario file without running it")
    validate.add_argument("scenario", type=Path)
    commands.add_parser("types", help="list the registered station types")
    _add_listing_parsers(commands)
    for name, sub in commands.choices.items():
        _add_input_options(sub, scenarios=name not in ("types", "kpis"))
    return parser


def _add_compare_parser(commands: Any) -> None:
    compare = commands.add_parser(
        "compare", help="compare scenarios under common random numbers (paired differences)"
    )
    compare.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO.yaml")
    compare.add_argument(
        "--capacity",
        action="store_true",
        help="also measure each scenario's capacity (saturated entry) with paired differences",
    )
    compare.add_argument(
        "--variant",
        dest="variants",
        type=variant_arg,
        action="append",
        default=[],
        metavar="NAME:FIELD.PATH=VALUE[,FIELD.PATH=VALUE...]",
        help="also compare a variant of the first scenario file with these overrides, named "
        "NAME (after the files; repeatable)",
    )
    compare.add_argument(
        "--allow-unpaired",
        action="store_true",
        help="compare members that differ in days, year, warm-up or seed (a warning, kept in "
        "comparison.json; refused by default)",
    )
    add_format_option(compare)
    add_excel_option(compare)
    _add_experiment_options(Options(compare))


def _add_listing_parsers(commands: Any) -> None:
    """``stations SCENARIO`` and ``kpis``: what a scenario and a run can name, described."""
    stations = commands.add_parser(
        "stations", help="list a scenario's stations with side, type, servers and label"
    )
    stations.add_argument("scenario", type=Path, help="scenario YAML file")
    add_format_option(stations)
    kpis = commands.add_parser("kpis", help="list the KPIs with their units and meanings")
    add_format_option(kpis)


def add_format_option(cmd: argparse.ArgumentParser) -> None:
    """``--format table|md|csv`` for the console tables."""
    cmd.add_argument(
        "--format",
        dest="table_format",
        choices=("table", "md", "csv"),
        default="table",
        help="console tables as aligned text (default), Markdown or CSV",
    )


def add_excel_option(cmd: argparse.ArgumentParser) -> None:
    """``--excel``: also write DIR/results.xlsx."""
    cmd.add_argument(
        "--excel",
        action="store_true",
        help="also write DIR/results.xlsx: one workbook with sheets summary, lanes, stations, "
        "days and hours (and comparison for compare)",
    )


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


class Options:
    """Adds options to one command. ``helps`` (by destination) replaces the shared help text of
    an option that means something else for this command; ``argparse.SUPPRESS`` hides one the
    command refuses. ``added`` lists the destinations, in order."""

    def __init__(self, cmd: argparse.ArgumentParser, helps: Mapping[str, str] | None = None):
        self.cmd = cmd
        self.helps = dict(helps or {})
        self.added: list[str] = []

    def __call__(self, *flags: str, **kwargs: Any) -> None:
        action = self.cmd.add_argument(*flags, **kwargs)
        action.help = self.helps.get(action.dest, action.help)
        self.added.append(action.dest)


def _add_run_options(add: Options) -> None:
    add("--warmup-days", type=float, help="days discarded before measuring")
    _add_set_option(add, "override any scenario field, e.g. stations.hn_vn_xray.servers=3")
    add(
        "--records",
        action="store_true",
        help="also write per-truck and per-visit records (Parquet)",
    )
    add(
        "--replay-day",
        type=int,
        metavar="D",
        help="keep the per-visit records of day D only (from 0), enough for "
        "'run_sim.py replay DIR' of that day",
    )


def _add_set_option(add: Options, text: str) -> None:
    add(
        "--set",
        dest="assignments",
        type=assignment,
        action="append",
        default=[],
        metavar="FIELD.PATH=VALUE",
        help=text,
    )


def _add_experiment_options(add: Options) -> None:
    add("--days", type=positive_int, help="simulated days (overrides the file)")
    add(
        "--replications",
        "-r",
        type=replications_arg,
        metavar="R|auto",
        help="independent replications, or 'auto' to stop at a precision target",
    )
    add("--seed", type=non_negative_int, help="master seed (overrides the file)")
    add(
        "--year",
        type=positive_int,
        help="planning year: sets demand.year (growth) and moves start_date into that year",
    )
    add(
        "--warmup",
        type=warmup_arg,
        metavar="auto|DAYS",
        help="warm-up to discard: DAYS, or 'auto' (MSER-5 on a pilot run)",
    )
    add("--target-kpi", help="KPI for --replications auto (throughput_per_day)")
    add(
        "--target-rel",
        type=fraction_arg,
        help="relative CI half-width to reach with --replications auto (0.05)",
    )
    add(
        "--max-replications",
        type=positive_int,
        help="cap on replications with --replications auto (50)",
    )
    _add_output_and_executor_options(add)


def _add_output_and_executor_options(add: Options) -> None:
    add("--out", type=Path, help="output folder (default results/<name>-<time>)")
    add("--force", action="store_true", help="replace an existing output folder")
    add(
        "--report", action="store_true", help="also write DIR/report.html (one self-contained page)"
    )
    add(
        "--resume",
        action="store_true",
        help="reuse the replications an interrupted run with the same --out finished",
    )
    add(
        "--jobs",
        "-j",
        type=positive_int,
        default=1,
        help="worker processes for replications (results identical to serial)",
    )
    add(
        "--dask",
        metavar="ADDRESS",
        help="run replications on a Dask cluster ('local' starts a LocalCluster)",
    )
    add("--quiet", "-q", action="store_true", help="print only the output folder")
    add(
        "--max-memory",
        type=size_arg,
        metavar="SIZE",
        help="memory the run may use, e.g. 8G (default: the memory available now); a run "
        "estimated to need more is refused before it starts",
    )


#: plan: shared options that mean something else there, or that it refuses (hidden).
PLAN_HELP = {
    "replications": "replications per configuration to start with (at least 2)",
    "max_replications": "cap on replications per configuration while undecided (40)",
    "target_kpi": argparse.SUPPRESS,
    "target_rel": argparse.SUPPRESS,
    "records": argparse.SUPPRESS,
    "replay_day": argparse.SUPPRESS,
}


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
        default=[],
        metavar="FIELD.PATH=LO:HI[:STEP]",
        help="a capacity to search over (larger = more capacity); repeat for more dimensions "
        "(required unless --years is given)",
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
    add = Options(plan, PLAN_HELP)
    _add_run_options(add)
    _add_experiment_options(add)
    add_format_option(plan)

    _add_cache_option(plan)
    _add_draw_options(plan, "the plan's answers")
    plan.add_argument(
        "--years",
        type=_year_range,
        metavar="FIRST:LAST",
        help="with --draws: in each draw, the first year in FIRST..LAST whose targets are "
        "missed (the scenario's levers as given)",
    )


def _add_cache_option(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="keep every replication in DIR (JSON records keyed by the resolved scenario and "
        "replication) and reuse those found there: across searches and reruns",
    )


def _add_draw_options(cmd: argparse.ArgumentParser, answers: str) -> None:
    cmd.add_argument(
        "--draws",
        type=positive_int,
        metavar="N",
        help=f"{answers} over N draws of the scenario's uncertain: values (DIR/draws.json, "
        "draws.csv)",
    )
    cmd.add_argument(
        "--sampler",
        choices=("lhs", "sobol"),
        default="lhs",
        help="with --draws: Latin hypercube (default) or scrambled Sobol sequence",
    )
    cmd.add_argument(
        "--draw-seed",
        type=non_negative_int,
        default=0,
        help="with --draws: seed of the draws' design (the runs keep the scenario's seed)",
    )


def _year_range(text: str) -> tuple[int, int]:
    first, sep, last = text.partition(":")
    try:
        years = (int(first), int(last))
    except ValueError:
        years = (0, -1)
    if not sep or not 1900 <= years[0] <= years[1] <= 2200:
        raise argparse.ArgumentTypeError(f"needs FIRST:LAST years with FIRST <= LAST, got '{text}'")
    return years


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
    _add_set_option(Options(capacity), "override any scenario field")
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
    _add_draw_options(capacity, "capacity")
    capacity.add_argument(
        "--resume", action="store_true", help="with --draws: reuse the runs an interrupted run "
        "finished (needs --out)",
    )  # fmt: skip


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
    _add_set_option(Options(cmd), "override a scenario field at every design point")
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
