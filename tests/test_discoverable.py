"""Everything a new user is shown runs: every ``run_sim.py`` command in README.md's code blocks
and in the top-level ``--help`` examples; ``stations`` and ``kpis`` list names with their
meanings; a mistyped command gets one line with a suggestion.

Documented commands run in-process with small overrides (``--days``, ``--replications``, one
job, output under a temporary folder). ``capacity``, ``sensitivity`` and ``plan --draws`` take
minutes even when small (a capacity ramp, a Morris design of 100 points), so they are checked
up to the simulation: parsed, turned into a request (every flag combination checked) and their
scenario loaded with every override. Each command must exit 0.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import shlex
from pathlib import Path

import pytest

from gatesim.cli import build_parser, main
from gatesim.cli.arguments import COMMANDS, DESCRIPTION
from gatesim.cli.listing import unknown_command
from gatesim.cli.requests import invocation

ROOT = Path(__file__).resolve().parents[1]
#: Commands that simulate (they get the small overrides) and those checked up to simulating.
SIMULATING = ("run", "compare", "sweep", "plan")
CHECKED_ONLY = ("capacity", "sensitivity")
SMALL = ["--days", "2", "--warmup", "0", "--jobs", "1", "-q", "--force"]
REPLICATIONS = {"plan": ["-r", "2", "--max-replications", "2"]}


def readme_commands() -> list[list[str]]:
    """The argv after ``run_sim.py`` of every command in README.md's ```sh blocks."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if any(w.endswith("run_sim.py") for w in words):
                commands.append(words[[w.endswith("run_sim.py") for w in words].index(True) + 1 :])
    return commands


def help_commands() -> list[list[str]]:
    """The examples at the end of ``run_sim.py --help``."""
    examples = DESCRIPTION.split("examples:\n", 1)[1]
    return [shlex.split(line)[1:] for line in examples.splitlines() if "run_sim.py" in line]


def _command(argv: list[str]) -> str:
    first = argv[0] if argv else ""
    return first if first in COMMANDS or first.startswith("-") else "run"


def _in_tmp(argv: list[str], tmp: Path, index: int) -> list[str]:
    """``--out X`` (and report's DIR) moved under ``tmp``; a default folder made explicit."""
    moved = list(argv)
    if _command(argv) in ("report", "replay"):
        moved[1] = str(tmp / argv[1])
        return moved
    if "--out" in moved:
        at = moved.index("--out") + 1
        moved[at] = str(tmp / moved[at])
    elif _command(argv) in SIMULATING + CHECKED_ONLY:
        moved += ["--out", str(tmp / f"default_{index}")]
    return moved


def _small(argv: list[str]) -> list[str]:
    command = _command(argv)
    if command not in SIMULATING or "--draws" in argv:
        return argv
    return [*argv, *SMALL, *REPLICATIONS.get(command, ["-r", "2"])]


def _checked_only(argv: list[str]) -> bool:
    """Commands that take minutes even when small: capacity measurements, Morris designs, draws."""
    return _command(argv) in CHECKED_ONLY or bool({"--draws", "--capacity"} & set(argv))


def _check_up_to_simulating(argv: list[str]) -> None:
    from gatesim.model.loading import load_scenario

    args = build_parser().parse_args(argv)
    request = invocation(args, argv).request
    files = getattr(request, "scenarios", None) or (request.scenario,)  # type: ignore[union-attr]
    for path in files:
        load_scenario(path, request.options.overrides())  # type: ignore[union-attr]


def _run(argv: list[str]) -> int:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # --help
            code = int(exc.code or 0)
    assert "Traceback" not in err.getvalue()
    return code


def _runs(commands: list[list[str]], tmp: Path) -> None:
    assert commands
    failed = []
    for index, argv in enumerate(commands):
        moved = _in_tmp(argv, tmp, index)
        if _checked_only(argv):
            _check_up_to_simulating(moved)
            continue
        if _run(_small(moved)) != 0:
            failed.append(shlex.join(argv))
    assert failed == []


def test_readme_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    commands = readme_commands()
    assert {_command(c) for c in commands} >= {
        "run",
        "compare",
        "sweep",
        "plan",
        "capacity",
        "sensitivity",
        "report",
        "stations",
        "kpis",
    }
    _runs(commands, tmp_path)


def test_help_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    _runs(help_commands(), tmp_path)


def test_top_level_help_lists_every_command() -> None:
    listed = re.findall(r"^  ([a-z-]+)", DESCRIPTION.split("commands:\n", 1)[1], flags=re.M)
    assert set(COMMANDS) <= set(listed)


def test_run_help_names_real_stations(capsys: pytest.CaptureFixture[str]) -> None:
    from gatesim.model.loading import load_scenario

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    named = set(re.findall(r"stations\.(\w+)\.", capsys.readouterr().out))
    assert named and named <= set(load_scenario(ROOT / "scenarios/baseline.yaml").stations)


def test_mistyped_command_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["comapre", "a.yaml"]) == 2
    assert capsys.readouterr().err == "error: unknown command 'comapre' (did you mean 'compare'?)\n"
    assert unknown_command("xyzzy", COMMANDS).startswith("unknown command 'xyzzy' (commands: run,")


def test_a_scenario_path_still_runs_without_the_command_word() -> None:
    from gatesim.cli.app import _names_a_scenario

    assert _names_a_scenario("scenarios/baseline.yaml") and _names_a_scenario("x.yml")
    assert not _names_a_scenario("comapre")


def test_stations_lists_every_station_with_its_label(capsys: pytest.CaptureFixture[str]) -> None:
    from gatesim.model.loading import load_scenario

    scenario = load_scenario(ROOT / "scenarios/baseline.yaml")
    assert main(["stations", str(ROOT / "scenarios/baseline.yaml"), "--format", "csv"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(line for line in lines if line))
    assert [row["station"] for row in rows] == list(scenario.stations)
    by_name = {row["station"]: row for row in rows}
    for name, spec in scenario.stations.items():
        assert by_name[name]["label"] == spec.labels.get("en", spec.label)
        assert by_name[name]["vi"] == spec.labels["vi"]  # every shipped station has one
        assert by_name[name]["servers"] == str(spec.servers)


def test_kpis_lists_every_registered_family(capsys: pytest.CaptureFixture[str]) -> None:
    from gatesim.stats.registry import registered_kpis

    assert main(["kpis", "--format", "md"]) == 0
    out = capsys.readouterr().out
    for name, kpi in registered_kpis().items():
        assert f"| {name} | {kpi.unit} |" in out
    assert "| wait_mean_min | min | mean wait before service" in out
