"""Hardening against bad input: each case once ended in a traceback, a silent misreading or a
write outside the place the user asked for.

The promise (README, docs/security.md): bad input gets one line on stderr naming the file, the
field and the value, exit code 2, no traceback, and nothing is written. Commands run in-process
through ``gatesim.cli.main``; an escaping exception is reported as a traceback, as the
interpreter would.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from builders import TINY_YAML as GOOD

import gatesim.cli
import gatesim.experiment.output
import gatesim.experiment.study
from gatesim.cli import main
from gatesim.model.loading import load_scenario

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
ROOT_IGNORES_MODES = "running as root: root writes into read-only (chmod 555) folders anyway"


def good(old: str = "", new: str = "", append: str = "") -> str:
    assert old in GOOD
    return GOOD.replace(old, new) + append


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def run(*args: str | Path) -> Outcome:
    """``run_sim.py ARGS`` in this process, with what the user would see."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:
            traceback.print_exc()
            code = 1
    return Outcome(code, out.getvalue(), err.getvalue())


def one_line_error(done: Outcome, *needles: str) -> str:
    """Exit code 2 and exactly one stderr line without traceback, containing every needle."""
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert done.code == 2, done.stderr
    assert done.stderr.endswith("\n") and done.stderr.count("\n") == 1, repr(done.stderr)
    line = done.stderr.strip()
    for needle in needles:
        assert needle in line, f"{needle!r} missing from: {line}"
    return line


def tree(folder: Path) -> list[str]:
    """Every path under ``folder`` (hidden ones included), to check that nothing was written."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the command gets as far as simulating (checks must come first)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("simulated although the output cannot be written")

    # every command simulates through ReplicationRunner.outcomes (run, compare, sweep, plan,
    # capacity), so refusing it there refuses every simulation
    monkeypatch.setattr(gatesim.experiment.study.ReplicationRunner, "outcomes", refuse)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    folder.mkdir()
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)


# --------------------------------------------------------------------------- 1. timezone
BAD_TIMEZONES = ["Mars/Olympus", "UTC+99:00", "", "Asia"]  # 'Asia' is a tzdata folder


@pytest.mark.parametrize("tz", BAD_TIMEZONES)
def test_unknown_timezone_is_refused_by_validate(tmp_path: Path, tz: str) -> None:
    path = write(tmp_path, "s.yaml", good(append=f"timezone: '{tz}'\n"))
    line = one_line_error(run("validate", path), "s.yaml", "timezone", repr(tz))
    assert "unknown timezone" in line or "out of range" in line


@pytest.mark.parametrize("tz", BAD_TIMEZONES)
def test_unknown_timezone_from_set_fails_before_running(tmp_path: Path, tz: str) -> None:
    write(tmp_path, "s.yaml", GOOD)
    done = run("run", tmp_path / "s.yaml", "--set", f"timezone='{tz}'", "--out", tmp_path / "o")
    one_line_error(done, "s.yaml", "timezone", repr(tz))
    assert tree(tmp_path) == ["s.yaml"]


def test_known_timezones_still_load(tmp_path: Path) -> None:
    for tz in ("UTC+07:00", "UTC", "Asia/Shanghai"):
        path = write(tmp_path, "s.yaml", good(append=f"timezone: {tz}\n"))
        assert load_scenario(path).timezone == tz


def test_calendar_timezone_naming_a_tzdata_folder_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", good(append="calendars: {c: {timezone: America}}\n"))
    one_line_error(run("validate", path), "s.yaml", "calendars.c.timezone", "'America'")


# --------------------------------------------------------------------------- 2. unusable paths
def test_nul_byte_in_extends_names_file_and_field(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", GOOD)
    path = write(tmp_path, "a.yaml", 'extends: "base\\0.yaml"\nname: a\n')
    one_line_error(run("validate", path), "a.yaml", "extends", "not a valid file path")


def test_nul_byte_in_a_csv_path_names_file_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", good("per_day: 100", 'trace: {csv: "t\\0.csv"}'))
    one_line_error(run("validate", path), "s.yaml", "arrivals.a.trace.csv", "not a valid file path")


# --------------------------------------------------------------------------- 3. name is a label
@pytest.mark.parametrize(
    "name", ["'../../escape'", "/srv/elsewhere", "'a\\b'", "'..'", '"x\\0y"', "a/b"]
)
def test_name_that_is_a_path_is_refused_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    cwd = tmp_path / "work" / "deep"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)  # without --out results go to results/<name>-<time> from here
    write(cwd, "s.yaml", good("name: tiny", f"name: {name}"))
    before = tree(tmp_path)
    one_line_error(run("run", "s.yaml", "-q"), "s.yaml", "name", "not a path")
    assert tree(tmp_path) == before
    one_line_error(run("validate", "s.yaml"), "s.yaml", "name")


def test_plain_names_are_still_labels(tmp_path: Path) -> None:
    for name in ("baseline", "validation-mm1", "s4_2027.v2"):
        path = write(tmp_path, "s.yaml", good("name: tiny", f"name: {name}"))
        assert load_scenario(path).name == name


# --------------------------------------------------------------------------- 4. output folders
@pytest.mark.parametrize("out", ["/proc/x", "/proc/x/y/z"])
def test_out_that_no_one_can_write_fails_before_simulating(
    tmp_path: Path, no_simulation: None, out: str
) -> None:
    write(tmp_path, "s.yaml", GOOD)
    one_line_error(run("run", tmp_path / "s.yaml", "--out", out, "-q"), "--out", out, "/proc")
    assert tree(tmp_path) == ["s.yaml"]


@pytest.mark.skipif(AS_ROOT, reason=ROOT_IGNORES_MODES)
def test_out_in_a_read_only_folder_fails_before_simulating(
    tmp_path: Path, no_simulation: None
) -> None:
    write(tmp_path, "s.yaml", GOOD)
    with read_only(tmp_path / "ro") as folder:
        for out in (folder / "out", folder / "new" / "out"):
            done = run("run", tmp_path / "s.yaml", "--out", out, "-q")
            one_line_error(done, "--out", str(out), "Permission denied")
        assert tree(folder) == []
    assert tree(tmp_path) == ["ro", "s.yaml"]


@pytest.mark.skipif(AS_ROOT, reason=ROOT_IGNORES_MODES)
def test_capacity_and_sweep_check_the_out_folder_too(tmp_path: Path, no_simulation: None) -> None:
    write(tmp_path, "s.yaml", GOOD)
    with read_only(tmp_path / "ro") as folder:
        out = folder / "out"
        done = run("capacity", tmp_path / "s.yaml", "--days", "7", "-r", "2", "--out", out, "-q")
        one_line_error(done, "--out", "Permission denied")
        sweep = ("sweep", tmp_path / "s.yaml", "--set", "stations.s1.servers=1,2")
        one_line_error(run(*sweep, "--out", out, "-q"), "--out", "Permission denied")
        assert tree(folder) == []


@pytest.mark.parametrize("out", [".", "..", "/", "{cwd}", "sub/.."])
def test_out_holding_the_current_folder_is_refused_even_with_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_simulation: None, out: str
) -> None:
    cwd = tmp_path / "work"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    write(cwd, "s.yaml", GOOD)
    write(cwd, "keep.txt", "the user's own file\n")
    before = tree(tmp_path)
    target = out.replace("{cwd}", str(cwd))
    done = run("run", "s.yaml", "--out", target, "--force", "-q")
    one_line_error(done, "--out", repr(target), "current folder")
    assert tree(tmp_path) == before


def test_out_capacity_refuses_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_simulation: None
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "s.yaml", GOOD)
    done = run("capacity", "s.yaml", "--days", "7", "-r", "2", "--out", ".", "--force", "-q")
    one_line_error(done, "--out", "current folder")
    assert tree(tmp_path) == ["s.yaml"]


def _disk_full(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_oserror_while_writing_results_is_one_line_and_nothing_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "s.yaml", GOOD)
    monkeypatch.setattr(gatesim.experiment.output, "write_json", _disk_full)
    done = run("run", tmp_path / "s.yaml", "-r", "1", "--out", tmp_path / "out", "-q")
    one_line_error(done, "--out", "No space left on device", str(tmp_path / "out"))
    # no out folder and no staging folder; only the replication store kept for --resume
    assert [p for p in tree(tmp_path) if not p.startswith("out.partial")] == ["s.yaml"]


def test_oserror_while_replacing_results_keeps_the_old_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "s.yaml", GOOD)
    old = tmp_path / "out"
    old.mkdir()
    write(old, "summary.json", "{}\n")
    monkeypatch.setattr(gatesim.experiment.output, "write_tables", _disk_full)
    done = run("run", tmp_path / "s.yaml", "-r", "1", "--out", old, "--force", "-q")
    one_line_error(done, "--out", "No space left on device")
    kept = [p for p in tree(tmp_path) if not p.startswith("out.partial")]
    assert kept == ["out", "out/summary.json", "s.yaml"]
    assert (old / "summary.json").read_text(encoding="utf-8") == "{}\n"


# --------------------------------------------------------------------------- 5. report --out
@pytest.fixture(scope="module")
def result_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("result")
    write(folder, "s.yaml", GOOD)
    done = run("run", folder / "s.yaml", "-r", "1", "--out", folder / "out", "-q")
    assert done.code == 0, done.stderr
    return folder / "out"


def test_report_onto_an_existing_folder_is_one_line_without_leftover(
    tmp_path: Path, result_folder: Path
) -> None:
    (tmp_path / "adir").mkdir()
    done = run("report", result_folder, "--out", tmp_path / "adir")
    one_line_error(done, "--out", str(tmp_path / "adir"), "is a folder")
    assert tree(tmp_path) == ["adir"]


@pytest.mark.parametrize("out", ["/proc/x.html", "/proc/sub/x.html"])
def test_report_onto_an_unwritable_place_is_one_line(result_folder: Path, out: str) -> None:
    before = tree(result_folder)
    one_line_error(run("report", result_folder, "--out", out), "--out", out, "cannot write")
    assert tree(result_folder) == before


def test_report_below_a_file_is_one_line_without_leftover(
    tmp_path: Path, result_folder: Path
) -> None:
    write(tmp_path, "afile", "x\n")
    done = run("report", result_folder, "--out", tmp_path / "afile" / "r.html")
    one_line_error(done, "--out", "cannot write the report")
    assert tree(tmp_path) == ["afile"]


@pytest.mark.skipif(AS_ROOT, reason=ROOT_IGNORES_MODES)
def test_report_into_a_read_only_folder_is_one_line_without_leftover(
    tmp_path: Path, result_folder: Path
) -> None:
    with read_only(tmp_path / "ro") as folder:
        done = run("report", result_folder, "--out", folder / "r.html")
        one_line_error(done, "--out", "Permission denied")
        assert tree(folder) == []


# --------------------------------------------------------------------------- 6. duplicate keys
def test_duplicate_top_level_key_names_key_and_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", good(append="days: 5\n"))
    one_line_error(run("validate", path), "s.yaml", "duplicate key 'days'", "lines 2 and 7")


def test_duplicate_nested_and_flow_keys_are_refused(tmp_path: Path) -> None:
    nested = good("stations: {s1: {servers: 1,", "stations:\n  s1: {servers: 1,")
    nested = nested.replace("mean: 1.0}}}", "mean: 1.0}}\n  s1: {servers: 3}")
    path = write(tmp_path, "nested.yaml", nested)
    one_line_error(run("validate", path), "nested.yaml", "duplicate key 's1'", "lines 5 and 6")
    path = write(tmp_path, "flow.yaml", good("servers: 1,", "servers: 1, servers: 2,"))
    one_line_error(run("validate", path), "flow.yaml", "duplicate key 'servers'", "lines 4 and 4")


def test_merge_keys_may_still_be_overridden(tmp_path: Path) -> None:
    text = good(
        "stations: {s1: {servers: 1, service: {dist: exponential, mean: 1.0}}}",
        "x-booth: &booth {servers: 1, service: {dist: exponential, mean: 1.0}}\n"
        "stations:\n  s1:\n    <<: *booth\n    servers: 4",
    )
    assert load_scenario(write(tmp_path, "s.yaml", text)).stations["s1"].servers == 4


# --------------------------------------------------------------------------- 7. booleans
@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("servers: 1,", "servers: true,", "stations.s1.servers"),
        ("servers: 1,", "servers: 1, queue_capacity: false,", "stations.s1.queue_capacity"),
        ("per_day: 100", "per_day: true", "arrivals.a.per_day"),
        ("per_day: 100", "per_day: 1, channels: {green: true}", "arrivals.a.channels.green"),
        ("days: 2", "days: true", "days"),
        ("days: 2", "days: 2\ndemand_scale: true", "demand_scale"),
    ],
)
def test_boolean_where_a_number_is_expected_is_refused(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    path = write(tmp_path, "s.yaml", good(old, new))
    one_line_error(run("validate", path), "s.yaml", field, "not true/false")


def test_boolean_from_set_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "s.yaml", GOOD)
    done = run("run", tmp_path / "s.yaml", "--set", "seed=true", "--out", tmp_path / "o")
    one_line_error(done, "s.yaml", "seed", "not true/false", "True")
    assert tree(tmp_path) == ["s.yaml"]


def test_booleans_where_booleans_belong_still_load(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", good(append="records: {trucks: false, visits: true}\n"))
    records = load_scenario(path).records
    assert (records.trucks, records.visits) == (False, True)


# --------------------------------------------------------------------------- 8. CSV with BOM
def test_trace_csv_with_a_utf8_bom_is_read(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "\ufefftime_min\r\n1.5\r\n30\r\n".encode())
    path = write(tmp_path, "s.yaml", good("per_day: 100", "trace: {csv: t.csv, column: time_min}"))
    trace = load_scenario(path).arrivals["a"].trace
    assert trace is not None and trace.times == [1.5, 30.0]


def test_empirical_csv_with_a_utf8_bom_is_read(tmp_path: Path) -> None:
    write(tmp_path, "d.csv", "\ufeffvalue\n2\n4\n".encode())
    service = "{dist: empirical, csv: d.csv, column: value}"
    path = write(tmp_path, "s.yaml", good("{dist: exponential, mean: 1.0}", service))
    assert load_scenario(path).stations["s1"].service.values == (2.0, 4.0)


# --------------------------------------------------------------------------- 9. --set paths
@pytest.mark.parametrize("assignment", ["../../x=1", "stations..servers=2", ".days=3"])
def test_set_with_an_empty_path_part_names_the_argument(tmp_path: Path, assignment: str) -> None:
    write(tmp_path, "s.yaml", GOOD)
    done = run("run", tmp_path / "s.yaml", "--set", assignment, "--out", tmp_path / "o")
    one_line_error(done, "--set", repr(assignment))
    done = run("sweep", tmp_path / "s.yaml", "--set", assignment + ",4", "--out", tmp_path / "o")
    one_line_error(done, "--set", repr(assignment + ",4"))
    assert tree(tmp_path) == ["s.yaml"]
