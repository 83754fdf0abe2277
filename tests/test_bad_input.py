"""Bad input through the command line.

Every bad file or argument must end with exit code 2 and exactly one line on stderr that names
the file and the field, with no traceback, and nothing may be written (no --out folder, no
staging leftovers).

Each interpreter start costs 2-3 CPU-seconds (``import gatesim`` pulls in pandas and scipy), so
the whole matrix runs through ``gatesim.cli.main`` in-process (exit codes from ``SystemExit``,
any escaping exception reported as a traceback, exactly as the interpreter would), and a few
representative cases run as real ``run_sim.py`` subprocesses, started together.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from builders import TINY_YAML as GOOD

from gatesim.cli import main

ROOT = Path(__file__).resolve().parents[1]
RUN_SIM = ROOT / "run_sim.py"


def good(old: str = "", new: str = "", append: str = "") -> str:
    assert old in GOOD
    return GOOD.replace(old, new) + append


@dataclass
class Case:
    """Files to write into a fresh folder, the CLI arguments ({d} = that folder), and what the
    one error line must contain (the file named by ``file``, plus every string in ``needles``)."""

    files: dict[str, str | bytes]
    args: list[str]
    file: str | None
    needles: list[str] = field(default_factory=list)


def run_case(scenario: str, *needles: str, command: str = "run") -> Case:
    args = [command, "{d}/" + scenario] + (["--out", "{d}/out", "-q"] if command == "run" else [])
    return Case({}, args, scenario, list(needles))


CASES: dict[str, Case] = {}


def case(name: str, files: dict[str, str | bytes], base: Case) -> None:
    base.files = files
    CASES[name] = base


case(
    "yaml_syntax_error",
    {"s.yaml": good("servers: 1,", "servers: [1,")},
    run_case("s.yaml", "YAML syntax error", "line 4"),
)
case(
    "unknown_key_did_you_mean",
    {"s.yaml": good("servers: 1,", "servrs: 1,")},
    run_case("s.yaml", "stations.s1.servrs", "did you mean 'servers'"),
)
case(
    "unknown_key_via_validate",
    {"s.yaml": good("per_day: 100", "perday: 100")},
    run_case("s.yaml", "arrivals.a.perday", "did you mean 'per_day'", command="validate"),
)
case(
    "wrong_type",
    {"s.yaml": good("servers: 1,", "servers: many,")},
    run_case("s.yaml", "stations.s1.servers", "'many'"),
)
case(
    "negative_rate",
    {"s.yaml": good("per_day: 100", "per_day: -5")},
    run_case("s.yaml", "arrivals.a.per_day", "-5"),
)
case(
    "negative_initial_backlog",
    {"s.yaml": good("per_day: 100", "per_day: 100, initial_backlog: -3")},
    run_case("s.yaml", "arrivals.a.initial_backlog", "-3"),
)
case(
    "channel_probabilities_not_summing_to_one",
    {"s.yaml": good("per_day: 100", "per_day: 100, channels: {green: 0.5, red: 0.4}")},
    run_case("s.yaml", "arrivals.a.channels", "sum to 1"),
)
case(
    "choice_probabilities_not_summing_to_one",
    {
        "s.yaml": good(
            "steps: [s1]", "steps: [{choose: [{p: 0.5, steps: [s1]}, {p: 0.2, steps: []}]}]"
        )
    },
    run_case("s.yaml", "routes.r.steps.0.choose", "sum to 1"),
)
# Blocking after service and preemptive priority (issue 22).
case(
    "block_without_waiting_room",
    {"s.yaml": good("servers: 1,", "when_full: block, servers: 1,")},
    run_case("s.yaml", "stations.s1", "when_full 'block' needs a finite waiting room"),
)
case(
    "unknown_when_full",
    {"s.yaml": good("servers: 1,", "when_full: wait, queue_capacity: 2, servers: 1,")},
    run_case("s.yaml", "stations.s1.when_full", "'wait'"),
)
case(
    "preempt_without_priority_classes",
    {"s.yaml": good("servers: 1,", "priority: {order: [c], preempt: true}, servers: 1,")},
    run_case("s.yaml", "stations.s1", "preempt needs priority classes", "fifo"),
)
# Renewal arrivals (issue 22).
case(
    "per_day_and_interarrival",
    {"s.yaml": good("per_day: 100", "per_day: 100, interarrival: {dist: exponential, mean: 2}")},
    run_case("s.yaml", "arrivals.a", "give per_day or interarrival, not both"),
)
case(
    "interarrival_with_negative_support",
    {"s.yaml": good("per_day: 100", "interarrival: {dist: uniform, low: 1, high: 2, shift: -3}")},
    run_case("s.yaml", "arrivals.a.interarrival", "makes samples negative"),
)
case(
    "interarrival_of_mean_zero",
    {"s.yaml": good("per_day: 100", "interarrival: {dist: deterministic, value: 0}")},
    run_case("s.yaml", "arrivals.a.interarrival", "above 0 minutes"),
)
# Rework loops (issue 22).
case(
    "rework_to_a_later_step",
    {"s.yaml": good("steps: [s1]", "steps: [{rework: {to: s1, p: 0.2}}, s1]")},
    run_case("s.yaml", "routes.r.steps.0.rework.to", "not a station step earlier"),
)
case(
    "rework_to_a_station_not_on_the_route",
    {"s.yaml": good("steps: [s1]", "steps: [s1, {rework: {to: s2, p: 0.2}}]")},
    run_case("s.yaml", "routes.r.steps.1.rework.to", "'s2'", "not a station step earlier"),
)
case(
    "rework_probability_above_one",
    {"s.yaml": good("steps: [s1]", "steps: [s1, {rework: {to: s1, p: 1.5}}]")},
    run_case("s.yaml", "routes.r.steps.1.rework.p", "1.5"),
)
# Impatient trucks (issue 18): patience and balking thresholds.
FRUIT_PATIENCE = "patience_by_cargo: {fruit: {dist: exponential, mean: 9}},"
case(
    "zero_patience",
    {"s.yaml": good("servers: 1,", "patience: {dist: deterministic, value: 0}, servers: 1,")},
    run_case("s.yaml", "stations.s1.patience", "positive time"),
)
case(
    "negative_patience",
    {"s.yaml": good("servers: 1,", "patience: {dist: deterministic, value: -5}, servers: 1,")},
    run_case("s.yaml", "stations.s1.patience.value", "-5"),
)
case(
    "negative_balk_at",
    {"s.yaml": good("servers: 1,", "balk_at: -1, servers: 1,")},
    run_case("s.yaml", "stations.s1.balk_at", "-1"),
)
case(
    "fractional_balk_at",
    {"s.yaml": good("servers: 1,", "balk_at: 2.5, servers: 1,")},
    run_case("s.yaml", "stations.s1.balk_at", "integer", "2.5"),
)
case(
    "patience_of_unknown_cargo",
    {
        "s.yaml": good(
            "servers: 1,", "patience_by_cargo: {fruit: {dist: exponential, mean: 9}}, servers: 1,"
        )
    },
    run_case("s.yaml", "stations.s1.patience_by_cargo.fruit", "no arrival stream has cargo"),
)
case(
    "route_step_without_road",
    {"s.yaml": good(append="roads: {direct: {from: src, to: out, length_km: 1, speed_kmh: 60}}\n")},
    run_case("s.yaml", "routes.r.steps.0", "no road from 'src' to 's1'"),
)
case(
    "sink_unreachable",
    {"s.yaml": good(append="roads: {in: {from: src, to: s1, length_km: 1, speed_kmh: 60}}\n")},
    run_case("s.yaml", "routes.r.destination", "no road from 's1' to 'out'"),
)
case(
    "unknown_station_type",
    {"s.yaml": good("servers: 1,", "type: xray_scaner, servers: 1,")},
    run_case("s.yaml", "stations.s1.type", "did you mean 'xray_scanner'"),
)
case(
    "station_type_module_path_refused",
    {"s.yaml": good("servers: 1,", "type: 'nosuch.module:Bay', servers: 1,")},
    run_case("s.yaml", "stations.s1.type", "nosuch"),
)
case(
    "station_params_out_of_range",
    {"s.yaml": good("servers: 1,", "type: quarantine, params: {hold_probability: 2}, servers: 1,")},
    run_case("s.yaml", "stations.s1.params.hold_probability"),
)
case(
    "station_params_unknown",
    {"s.yaml": good("servers: 1,", "type: staging_yard, params: {area: []}, servers: 1,")},
    run_case("s.yaml", "stations.s1.params.area", "did you mean 'areas'"),
)
case(
    "extends_loop",
    {"a.yaml": "extends: b.yaml\nname: a\n", "b.yaml": "extends: a.yaml\nname: b\n"},
    run_case("a.yaml", "extends", "loop"),
)
case(
    "extends_missing_base",
    {"a.yaml": "extends: nothere.yaml\nname: a\n"},
    run_case("a.yaml", "extends", "not found"),
)
case("missing_file", {}, run_case("nope.yaml", "not found"))
case("empty_file", {"s.yaml": ""}, run_case("s.yaml", "empty"))
case("only_comments", {"s.yaml": "# nothing here\n"}, run_case("s.yaml", "empty"))
case("binary_garbage", {"s.yaml": bytes(range(256)) * 8}, run_case("s.yaml", "UTF-8"))
case(
    "control_characters",
    {"s.yaml": b"\x00\x01name: x\x00\n"},
    run_case("s.yaml", "YAML syntax error"),
)
case("top_level_list", {"s.yaml": "- a\n- b\n"}, run_case("s.yaml", "mapping"))
case(
    "warmup_longer_than_horizon",
    {"s.yaml": good("days: 2", "days: 2\nwarmup_days: 3")},
    run_case("s.yaml", "warmup_days"),
)
case(
    "unknown_calendar",
    {"s.yaml": good("servers: 1,", "calendar: dayy, servers: 1,", "calendars: {day: {}}\n")},
    run_case("s.yaml", "stations.s1.calendar", "did you mean 'day'"),
)
case(
    "days_zero",
    {"s.yaml": GOOD},
    Case({}, ["run", "{d}/s.yaml", "--days", "0", "--out", "{d}/out"], None, ["--days"]),
)
case(
    "set_unknown_path",
    {"s.yaml": GOOD},
    Case(
        {},
        ["run", "{d}/s.yaml", "--set", "stations.s11.servers=2", "--out", "{d}/out"],
        "s.yaml",
        ["stations.s11", "did you mean 's1'"],
    ),
)
case(
    "set_misspelt_field",
    {"s.yaml": GOOD},
    Case(
        {},
        ["run", "{d}/s.yaml", "--set", "stations.s1.servrs=2", "--out", "{d}/out"],
        "s.yaml",
        ["stations.s1.servrs", "did you mean 'servers'"],
    ),
)
case(
    "set_bad_value",
    {"s.yaml": GOOD},
    Case(
        {},
        ["run", "{d}/s.yaml", "--set", "stations.s1.servers=0", "--out", "{d}/out"],
        "s.yaml",
        ["stations.s1.servers"],
    ),
)

# --- demand calendar and trade value (issue 9)
SEASON = "demand: {seasons: [{name: peak, from: %s, to: %s, factor: 1.5%s}]}\n"
case(
    "season_where_unknown_cargo",
    {"s.yaml": good(append=SEASON % ('"05-01"', '"07-31"', ", where: {cargo: [fruit]}"))},
    run_case("s.yaml", "demand.seasons.0.where.cargo", "'fruit'"),
)
case(
    "season_where_unknown_lane",
    {"s.yaml": good(append=SEASON % ('"05-01"', '"07-31"', ", where: {lane: [M]}"))},
    run_case("s.yaml", "demand.seasons.0.where.lane", "'M'", command="validate"),
)
case(
    "season_to_before_from",
    {"s.yaml": good(append=SEASON % ("2026-02-17", "2026-02-14", ""))},
    run_case("s.yaml", "demand.seasons.0", "'to' (2026-02-14) is before 'from' (2026-02-17)"),
)
case(
    "season_bad_month_day",
    {"s.yaml": good(append=SEASON % ('"02-30"', '"03-31"', ""))},
    run_case("s.yaml", "demand.seasons.0.from", "'02-30' is not a valid MM-DD"),
)
case(
    "season_mixed_kinds",
    {"s.yaml": good(append=SEASON % ('"05-01"', "2026-07-31", ""))},
    run_case("s.yaml", "demand.seasons.0", "both be MM-DD"),
)
case(
    "year_outside_growth_table",
    {"s.yaml": good(append="demand: {year: 2031, growth: {by_year: {2025: 1.0, 2030: 2.6}}}\n")},
    run_case("s.yaml", "demand.year", "year 2031 is outside", "2031"),
)
case(
    "cli_year_outside_growth_table",
    {"s.yaml": good(append="demand: {growth: {by_year: {2025: 1.0, 2030: 2.6}}}\n")},
    Case(
        {},
        ["run", "{d}/s.yaml", "--year", "2024", "--out", "{d}/out"],
        "s.yaml",
        ["demand.year", "year 2024 is outside the growth.by_year table (2025-2030)"],
    ),
)
case(
    "cli_year_before_base_year",
    {"s.yaml": good(append="demand: {growth: {annual_rate: 0.1, base_year: 2025}}\n")},
    Case(
        {},
        ["run", "{d}/s.yaml", "--year", "2020", "--out", "{d}/out"],
        "s.yaml",
        ["demand.year", "before growth.base_year 2025"],
    ),
)
case(
    "cli_year_without_growth",
    {"s.yaml": GOOD},
    Case(
        {},
        ["run", "{d}/s.yaml", "--year", "2030", "--out", "{d}/out"],
        "s.yaml",
        ["demand.year", "needs a growth rate"],
    ),
)
case(
    "trade_value_unknown_cargo",
    {"s.yaml": good(append="trade_value: {per_truck: {c: 1000, fruit: 3000}}\n")},
    run_case("s.yaml", "trade_value.per_truck.fruit", "no arrival stream has cargo 'fruit'"),
)
case(
    "trade_value_missing_cargo",
    {
        "s.yaml": good(
            "per_day: 100}}",
            "per_day: 100}, b: {lane: L, direction: import, cargo: d, route: r, per_day: 1}}",
            "trade_value: {per_truck: {c: 1000}}\n",
        )
    },
    run_case("s.yaml", "trade_value.per_truck", "no value for cargo d"),
)
case(
    "extends_list_loop",
    {
        "a.yaml": "extends: [b.yaml]\nname: a\n",
        "b.yaml": "extends: [base.yaml, a.yaml]\n",
        "base.yaml": GOOD,
    },
    run_case("a.yaml", "extends loop: a.yaml -> b.yaml -> a.yaml", command="validate"),
)

LONG_DIR = "a_folder_name_long_enough_to_push_any_absolute_path_well_past_eighty_characters"

# Former bugs (fixed): the error escaped as a traceback, or named the wrong field. Each case
# keeps the description of what used to go wrong.
FIXED: dict[str, tuple[Case, str]] = {
    "impossible_date": (
        Case(
            {"s.yaml": good(append="start_date: 2025-02-30\n")},
            ["validate", "{d}/s.yaml"],
            "s.yaml",
            ["start_date"],
        ),
        "BUG: an impossible YAML date (2025-02-30) raises ValueError inside PyYAML's timestamp "
        "constructor; loader._read_yaml only catches yaml.YAMLError, so the CLI dies with a "
        "traceback (exit 1)",
    ),
    "impossible_closed_date": (
        Case(
            {"s.yaml": good(append="calendars: {c: {closed_dates: [2025-13-01]}}\n")},
            ["validate", "{d}/s.yaml"],
            "s.yaml",
            ["closed_dates"],
        ),
        "BUG: as impossible_date, for a date inside a list (month 13)",
    ),
    "missing_trace_csv": (
        Case(
            {"s.yaml": good("per_day: 100", "trace: {csv: nofile.csv}")},
            ["validate", "{d}/s.yaml"],
            "s.yaml",
            ["arrivals.a.trace"],
        ),
        "BUG: a missing trace/empirical CSV is reported under the field 'extends' "
        "(loader._resolve_existing labels every referenced file 'extends')",
    ),
    "out_inside_a_file": (
        Case(
            {"s.yaml": GOOD, "afile": "not a folder\n"},
            ["run", "{d}/s.yaml", "--out", "{d}/afile/sub", "-q"],
            None,
            ["--out"],
        ),
        "BUG: an --out folder whose parent is a file dies with NotADirectoryError (traceback, "
        "exit 1) when the '.partial' store is created, instead of a one-line --out error",
    ),
    "missing_file_name_cut_off": (
        Case(
            {"a.yaml": f"extends: {LONG_DIR}/base.yaml\nname: a\n"},
            ["validate", "{d}/a.yaml"],
            "a.yaml",
            ["extends", "base.yaml"],
        ),
        "BUG: a missing file is shown as its absolute path cut to 80 characters from the end "
        "(errors._short_repr), so a long path loses the very file name that is missing",
    ),
}


def _materialise(folder: Path, c: Case) -> list[str]:
    folder.mkdir(parents=True)
    for name, content in c.files.items():
        target = folder / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return [a.replace("{d}", str(folder)) for a in c.args]


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def run_in_process(args: list[str]) -> Outcome:
    """``gatesim.cli.main(args)`` with captured output; what the interpreter would report."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:
            traceback.print_exc()  # into err, as an uncaught exception would be
            code = 1
    return Outcome(code, out.getvalue(), err.getvalue())


def run_subprocess(args: list[str]) -> Outcome:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, str(RUN_SIM), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def check_one_line_error(folder: Path, c: Case, done: Outcome) -> None:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert done.returncode == 2, done.stderr
    assert done.stderr.endswith("\n") and done.stderr.count("\n") == 1, repr(done.stderr)
    line = done.stderr.strip()
    if c.file is not None:
        assert c.file in line, f"file not named: {line}"
    for needle in c.needles:
        assert needle in line, f"{needle!r} missing from: {line}"
    # nothing written: no --out folder and no staging leftovers beside it
    assert sorted(p.name for p in folder.iterdir()) == sorted(c.files), "something was written"


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_exit_2(name: str, tmp_path: Path) -> None:
    folder = tmp_path / "case"
    c = CASES[name]
    check_one_line_error(folder, c, run_in_process(_materialise(folder, c)))


@pytest.mark.parametrize("name", list(FIXED))
def test_formerly_broken_bad_input(name: str, tmp_path: Path) -> None:
    folder = tmp_path / "case"
    c = FIXED[name][0]
    check_one_line_error(folder, c, run_in_process(_materialise(folder, c)))


# --------------------------------------------------------------------------- real processes
SUBPROCESS_CASES = ["unknown_key_did_you_mean", "days_zero", "route_step_without_road"]


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Outcome]]:
    """A few cases and a good file through ``run_sim.py``, all started at once."""
    root = tmp_path_factory.mktemp("bad_input")
    jobs = {name: CASES[name] for name in SUBPROCESS_CASES}
    jobs["validate_good"] = Case({"s.yaml": GOOD}, ["validate", "{d}/s.yaml"], None)
    argv = {name: _materialise(root / name, c) for name, c in jobs.items()}
    with ThreadPoolExecutor(max_workers=len(argv)) as pool:
        futures = {name: pool.submit(run_subprocess, args) for name, args in argv.items()}
        return {name: (root / name, f.result()) for name, f in futures.items()}


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_bad_input_in_a_real_process(name: str, processes: dict[str, tuple[Path, Outcome]]) -> None:
    folder, done = processes[name]
    check_one_line_error(folder, CASES[name], done)


def test_validate_good_file(processes: dict[str, tuple[Path, Outcome]]) -> None:
    folder, done = processes["validate_good"]
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout and "s.yaml" in done.stdout
    assert done.stderr == ""
    assert sorted(p.name for p in folder.iterdir()) == ["s.yaml"]
