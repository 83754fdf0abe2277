"""Command line: ``python run_sim.py [run] SCENARIO.yaml``, ``validate``, ``types``.

Bad input (scenario files or arguments) prints one line on stderr and exits with code 2;
nothing is written. The CLI only talks to the scenario, experiment and output layers.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import yaml

from gatesim.scenario.errors import ScenarioError

EXIT_BAD_INPUT = 2
COMMANDS = ("run", "validate", "types")

DESCRIPTION = """\
gatesim: discrete-event simulation of cargo trucks through the Huu Nghi - Youyiguan
smart border gate (dedicated lanes 1119-1120 and 1088/2-1089).

commands:
  run SCENARIO.yaml       simulate and print the KPI table (the default command:
                          'run_sim.py SCENARIO.yaml' is 'run_sim.py run SCENARIO.yaml')
  validate SCENARIO.yaml  check a scenario file without running it
  types                   list the station types a scenario can use

Run 'run_sim.py COMMAND --help' for the options of a command.
Results go to --out DIR (default results/<scenario>-<timestamp>): summary.json,
replications.csv, stations.csv, daily_cleared.csv, hourly.csv, manifest.json and, with
--records, trucks.parquet and visits.parquet.
"""


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad arguments in one line with exit code 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text!r})") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text!r})")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0 (got {text!r})") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0 (got {text!r})")
    return value


def assignment(text: str) -> tuple[str, Any]:
    """``path.to.field=value``; the value is read as YAML (numbers, lists, strings)."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise argparse.ArgumentTypeError(f"expected FIELD.PATH=VALUE (got {text!r})")
    try:
        return path.strip(), yaml.safe_load(raw)
    except yaml.YAMLError:
        raise argparse.ArgumentTypeError(f"cannot read the value in {text!r}") from None


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
    validate = commands.add_parser("validate", help="check a scenario file without running it")
    validate.add_argument("scenario", type=Path)
    commands.add_parser("types", help="list the registered station types")
    return parser


def _add_run_options(run: argparse.ArgumentParser) -> None:
    run.add_argument("--days", type=positive_int, help="simulated days (overrides the file)")
    run.add_argument("--replications", "-r", type=positive_int, help="independent replications")
    run.add_argument("--seed", type=non_negative_int, help="master seed (overrides the file)")
    run.add_argument("--warmup-days", type=float, help="days discarded before measuring")
    run.add_argument(
        "--set",
        dest="assignments",
        type=assignment,
        action="append",
        default=[],
        metavar="FIELD.PATH=VALUE",
        help="override any scenario field, e.g. stations.vn_xray_1119.servers=3",
    )
    run.add_argument("--out", type=Path, help="output folder (default results/<name>-<time>)")
    run.add_argument("--force", action="store_true", help="replace an existing output folder")
    run.add_argument(
        "--jobs",
        "-j",
        type=positive_int,
        default=1,
        help="worker processes for replications (results identical to serial)",
    )
    run.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run replications on a Dask cluster ('local' starts a LocalCluster)",
    )
    run.add_argument(
        "--records",
        action="store_true",
        help="also write per-truck and per-visit records (Parquet)",
    )
    run.add_argument("--quiet", "-q", action="store_true", help="print only the output folder")


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] not in COMMANDS and not args_list[0].startswith("-"):
        args_list.insert(0, "run")  # 'run_sim.py baseline.yaml' means 'run baseline.yaml'
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return _dispatch(args, args_list)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace, argv: list[str]) -> int:
    if args.command == "types":
        return _types()
    if args.command == "validate":
        return _validate(args.scenario)
    return _run(args, argv)


def _types() -> int:
    from gatesim.stations.registry import station_types

    for name, cls in station_types().items():
        print(f"{name:22s} {cls.describe}")
    return 0


def _validate(path: Path) -> int:
    from gatesim.scenario.loader import load_scenario

    scenario = load_scenario(path)
    print(
        f"{path}: OK ({scenario.name}: {len(scenario.stations)} stations, "
        f"{len(scenario.arrivals)} arrival streams, {len(scenario.routes)} routes)"
    )
    return 0


def run_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = dict(args.assignments)
    for flag, field in (
        ("days", "days"),
        ("replications", "replications"),
        ("seed", "seed"),
        ("warmup_days", "warmup_days"),
    ):
        value = getattr(args, flag)
        if value is not None:
            overrides[field] = value
    if args.records:
        overrides["records"] = {"trucks": True, "visits": True}
    return overrides


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    from gatesim.experiment.executors import ExecutorError
    from gatesim.experiment.output import check_output_folder, write_experiment
    from gatesim.experiment.runner import run_experiment
    from gatesim.report.console import print_summary
    from gatesim.scenario.loader import load_scenario

    scenario = load_scenario(args.scenario, run_overrides(args))
    out = args.out or Path("results") / f"{scenario.name}-{datetime.now():%Y%m%d-%H%M%S}"
    check_output_folder(out, args.force)
    started = time.perf_counter()
    try:
        result = run_experiment(scenario, jobs=args.jobs, dask_address=args.dask)
    except ExecutorError as exc:
        raise ScenarioError(None, "--dask", str(exc)) from None
    wall = time.perf_counter() - started
    write_experiment(out, result, wall, ["run_sim.py", *argv], force=args.force)
    if not args.quiet:
        print_summary(result.summary(), wall)
    print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
