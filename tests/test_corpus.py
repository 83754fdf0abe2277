"""A corpus of bad inputs, generated from one tiny scenario: every case is refused with exit
code 2, exactly one line on stderr naming the file (or the argument), no traceback, and
nothing written.

Classes: wrong types and out-of-range values for each field, booleans for numbers, unknown
keys at every level, distribution and calendar parameters, references to missing names,
station types that are module paths, YAML tricks (tags, alias bombs, duplicate keys, bad
encodings, deep nesting), ``extends:`` and ``csv:`` path tricks (outside the tree, symlinks,
NUL bytes, folders, loops) and command-line arguments. Commands run in-process through
``gatesim.cli.main`` (``validate``, or ``run`` where the argument is refused before any work).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_hardening import one_line_error, run, tree

BASE: dict[str, Any] = {
    "name": "tiny",
    "days": 2,
    "nodes": {"src": {"kind": "source"}, "out": {"kind": "sink"}},
    "calendars": {"c": {"timezone": "UTC+07:00", "hours": [["07:00", "20:00"]]}},
    "stations": {
        "s1": {"servers": 1, "service": {"dist": "exponential", "mean": 1.0}, "calendar": "c"}
    },
    "routes": {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
    "arrivals": {
        "a": {"lane": "L", "direction": "export", "cargo": "c", "route": "r", "per_day": 100}
    },
}


@dataclass
class Case:
    files: dict[str, str | bytes]
    args: list[str] = field(default_factory=lambda: ["validate", "{d}/s.yaml"])
    names: str | None = "s.yaml"  # the file the error line must name (None: an argument)
    setup: Callable[[Path], None] | None = None


CASES: dict[str, Case] = {}


def add(case_id: str, case: Case) -> None:
    assert case_id not in CASES, case_id
    CASES[case_id] = case


def dump(tree_: Any) -> str:
    return yaml.safe_dump(tree_, sort_keys=False)


def with_value(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """BASE with the field at ``path`` set to ``value`` (created if absent)."""
    copy: dict[str, Any] = yaml.safe_load(dump(BASE))
    node = copy
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return copy


def without(path: tuple[str, ...]) -> dict[str, Any]:
    copy: dict[str, Any] = yaml.safe_load(dump(BASE))
    node = copy
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return copy


# --------------------------------------------------------------------------- values
NOT_A_NUMBER = ["abc", [], {}, [1, 2], {"x": 1}, True, False, None, "1 day", "0x"]
NUMERIC_FIELDS: dict[tuple[str, ...], list[Any]] = {
    ("days",): [0, -1, 1.5, 10**6],
    ("replications",): [0, -3, 2.5, 10**7],
    ("seed",): [-1, 1.5, 2**80],
    ("warmup_days",): [-1, 2, 5, float("nan")],
    ("demand_scale",): [-1, float("inf")],
    ("stations", "s1", "servers"): [0, -2, 1.5, 10**9],
    ("stations", "s1", "service", "mean"): [0, -1, float("inf"), 1e300],
    ("arrivals", "a", "per_day"): [-5, float("nan"), float("inf"), 1e12],
}
for path, extra in NUMERIC_FIELDS.items():
    for i, value in enumerate([*NOT_A_NUMBER, *extra]):
        add(f"value-{'.'.join(path)}-{i}", Case({"s.yaml": dump(with_value(path, value))}))

TEXT_FIELDS: dict[tuple[str, ...], list[Any]] = {
    ("name",): ["../escape", "/srv/x", "a/b", "..", "", None, [], {}, "x" * 500, "a\x00b"],
    ("start_date",): ["2025-02-30", "yesterday", 20250101, True, [], "2025-13-01"],
    ("timezone",): ["Mars/Olympus", "UTC+99:00", "", 7, True, []],
    ("nodes", "src", "kind"): ["fountain", "", 1, None, True],
    ("arrivals", "a", "direction"): ["sideways", "", 1, None, []],
    ("arrivals", "a", "route"): ["nowhere", "", 1, None, []],
    ("stations", "s1", "calendar"): ["nocal", "", 1, [], {}],
    ("routes", "r", "origin"): ["nowhere", "s1", "", 1, None],
    ("routes", "r", "destination"): ["nowhere", "src", "", None],
}
for path, values in TEXT_FIELDS.items():
    for i, value in enumerate(values):
        add(f"value-{'.'.join(path)}-{i}", Case({"s.yaml": dump(with_value(path, value))}))

REQUIRED = [("nodes",), ("stations",), ("routes",), ("arrivals",), ("routes", "r", "origin"),
            ("arrivals", "a", "route"), ("arrivals", "a", "lane")]  # fmt: skip
for path in REQUIRED:
    add(f"missing-{'.'.join(path)}", Case({"s.yaml": dump(without(path))}))

MAPPINGS = [(), ("stations", "s1"), ("stations", "s1", "service"), ("arrivals", "a"),
            ("routes", "r"), ("nodes", "src"), ("calendars", "c")]  # fmt: skip
for path in MAPPINGS:
    for key in ("unknown_key", "Days", "server"):
        label = ".".join(path) or "top"
        add(f"unknown-{label}-{key}", Case({"s.yaml": dump(with_value((*path, key), 1))}))

# --------------------------------------------------------------------------- distributions
SERVICE = ("stations", "s1", "service")
DISTRIBUTIONS: list[Any] = [
    {"dist": "gaussian", "mean": 1},
    {"dist": "exponential"},
    {"dist": "exponential", "mean": 1, "sd": 2},
    {"dist": "deterministic", "value": -1},
    {"dist": "deterministic", "value": True},
    {"dist": "uniform", "low": 5, "high": 1},
    {"dist": "uniform", "low": False, "high": 1},
    {"dist": "triangular", "low": 1, "mode": 0, "high": 2},
    {"dist": "triangular", "low": 0, "mode": 1, "high": 1e308},
    {"dist": "triangular", "low": 0, "mode": True, "high": 2},
    {"dist": "lognormal", "mean": 1},
    {"dist": "lognormal", "mean": 1, "cv": -1},
    {"dist": "lognormal", "mean": 1, "cv": True},
    {"dist": "gamma", "mean": 1, "cv": 0},
    {"dist": "erlang", "mean": 1, "k": 0},
    {"dist": "erlang", "mean": 1, "k": 1.5},
    {"dist": "erlang", "mean": 1, "k": True},
    {"dist": "empirical", "values": []},
    {"dist": "empirical", "values": [1, -2]},
    {"dist": "empirical", "values": [1, True]},
    {"dist": "mixture", "components": []},
    {"dist": "mixture", "components": [{"p": 0.5, "dist": {"dist": "deterministic", "value": 1}}]},
    {"dist": "mixture", "components": [{"p": True, "dist": {"dist": "deterministic", "value": 1}}]},
    {"dist": "exponential", "mean": 1, "shift": -5},
    {"dist": "exponential", "mean": 1, "shift": True},
    {"dist": "exponential", "mean": "1e400"},
    "exponential",
    5,
    [1, 2],
    {"mean": 1},
]
for i, dist in enumerate(DISTRIBUTIONS):
    add(f"dist-{i}", Case({"s.yaml": dump(with_value(SERVICE, dist))}))

# --------------------------------------------------------------------------- calendars
CALENDAR = ("calendars", "c")
CALENDARS: list[Any] = [
    {"timezone": "Mars/Olympus"},
    {"timezone": True},
    {"hours": [["25:00", "26:00"]]},
    {"hours": [["07:00"]]},
    {"hours": [[True, "08:00"]]},
    {"hours": "always"},
    {"hours": [["09:00", "07:00", "08:00"]]},
    {"closed_dates": ["2025-02-30"]},
    {"closed_dates": [True]},
    {"closed_dates": "2025-01-01"},
    {"weekdays": ["Funday"]},
    {"weekdays": [8]},
    {"bogus": 1},
    "24/7",
    [1, 2],
]
for i, calendar in enumerate(CALENDARS):
    add(f"calendar-{i}", Case({"s.yaml": dump(with_value(CALENDAR, calendar))}))

# --------------------------------------------------------------------------- station types
TYPES = ["this:X", "antigravity:X", "os:system", "os.system", "gatesim.stations.base:Station",
         "subprocess.Popen", "../evil", "/tmp/evil.py", "", "xray_scaner", "Station", "x" * 300,
         "builtins:eval", "importlib:import_module", "pathlib.Path"]  # fmt: skip
for i, type_name in enumerate(TYPES):
    add(f"type-{i}", Case({"s.yaml": dump(with_value(("stations", "s1", "type"), type_name))}))
PARAMS: list[Any] = [
    ("quarantine", {"hold_probability": 2}),
    ("quarantine", {"hold_probability": True}),
    ("quarantine", {"hold_probabilty": 0.1}),
    ("quarantine", "high"),
    ("staging_yard", {"area": []}),
    ("station", {"anything": 1}),
]
for i, (type_name, params) in enumerate(PARAMS):
    spec = {**BASE["stations"]["s1"], "type": type_name, "params": params}
    add(f"params-{i}", Case({"s.yaml": dump(with_value(("stations", "s1"), spec))}))

# --------------------------------------------------------------------------- YAML tricks
GOOD = dump(BASE)
YAML_TRICKS: list[str | bytes] = [
    "",
    "   \n",
    "- a\n- b\n",
    "just a string\n",
    "42\n",
    "name: [unclosed\n",
    "name: {a: 1\n",
    "name: 'unterminated\n",
    "\tname: tabbed\n",
    "name: a\n name: b\n",
    "name: a\nname: b\n",
    GOOD + "days: 3\n",
    "!!python/object/apply:os.system ['echo hi']\n",
    "name: !!python/object/apply:os.system ['echo hi']\n",
    "name: !!python/name:os.system\n",
    "name: !custom tag\n",
    "a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
    "a: *undefined\n",
    "x: " + "[" * 300 + "]" * 300 + "\n",
    "x: " + "{a: " * 300 + "1" + "}" * 300 + "\n",
    b"\xff\xfe\x00n\x00a\x00m\x00e\x00",
    b"name: \xe9t\xe9\n",
    b"\x00\x01\x02\x03",
    "%YAML 9.9\n---\nname: x\n",
    "---\nname: a\n---\nname: b\n",
    "? [complex, key]\n: 1\n",
    "{[1]: 2}\n",
    "name: 2025-02-30\n",
]
for i, text in enumerate(YAML_TRICKS):
    add(f"yaml-{i}", Case({"s.yaml": text}))


# --------------------------------------------------------------------------- paths
def extends(ref: str) -> str:
    return f"extends: {ref!r}\nname: child\n"


def trace(ref: str) -> str:
    tree_ = with_value(("arrivals", "a"), {**BASE["arrivals"]["a"], "per_day": 0})
    tree_["arrivals"]["a"]["trace"] = {"csv": ref}
    return dump(tree_)


def empirical(ref: str) -> str:
    return dump(with_value(SERVICE, {"dist": "empirical", "csv": ref, "column": "value"}))


def link_outside(folder: Path) -> None:
    (folder / "link.yaml").symlink_to(folder.parent / "outside" / "base.yaml")
    (folder / "link.csv").symlink_to(folder.parent / "outside" / "t.csv")
    (folder / "dirlink").symlink_to(folder.parent / "outside", target_is_directory=True)
    (folder / "loop.yaml").symlink_to(folder / "loop.yaml")
    (folder / "adir.yaml").mkdir()
    (folder / "adir.csv").mkdir()


REFS = ["../outside/base.yaml", "/etc/passwd", "/etc/hostname.yaml", "../../../../etc/x.yaml",
        "link.yaml", "dirlink/base.yaml", "loop.yaml", "adir.yaml", "missing.yaml",
        "base\x00.yaml", "a" * 300 + ".yaml", "s.yaml", "", "~/x.yaml", "base.txt",
        "/proc/self/environ", "../outside/t.csv"]  # fmt: skip
CSV_REFS = ["../outside/t.csv", "/etc/hostname.csv", "link.csv", "dirlink/t.csv", "adir.csv",
            "missing.csv", "t\x00.csv", "s.yaml", "", "bad.csv", "empty.csv", "neg.csv",
            "nocol.csv", "/proc/self/environ"]  # fmt: skip
SIDE_FILES: dict[str, str | bytes] = {
    "bad.csv": "time_min\n1\nDB_PASSWORD=x\n",
    "empty.csv": "time_min\n",
    "neg.csv": "time_min\n-5\n",
    "nocol.csv": "other\n1\n",
}
for i, ref in enumerate(REFS):
    add(f"extends-{i}", Case({"s.yaml": extends(ref)}, setup=link_outside))
for i, ref in enumerate(CSV_REFS):
    files = {**SIDE_FILES, "s.yaml": trace(ref)}
    add(f"trace-csv-{i}", Case(files, setup=link_outside))
    files = {**SIDE_FILES, "s.yaml": empirical(ref.replace("time_min", "value"))}
    add(f"empirical-csv-{i}", Case(files, setup=link_outside))
add("extends-loop", Case({"s.yaml": "extends: b.yaml\nname: a\n", "b.yaml": "extends: s.yaml\n"}))
add("extends-list-empty", Case({"s.yaml": "extends: []\nname: a\n"}))
add("extends-not-a-path", Case({"s.yaml": "extends: {a: 1}\nname: a\n"}))

# --------------------------------------------------------------------------- arguments
ARGS: list[list[str]] = [
    ["run", "{d}/s.yaml", "--days", "0"],
    ["run", "{d}/s.yaml", "--days", "x"],
    ["run", "{d}/s.yaml", "-r", "0"],
    ["run", "{d}/s.yaml", "-r", "many"],
    ["run", "{d}/s.yaml", "--seed", "-1"],
    ["run", "{d}/s.yaml", "--jobs", "0"],
    ["run", "{d}/s.yaml", "--warmup", "soon"],
    ["run", "{d}/s.yaml", "--warmup", "-1"],
    ["run", "{d}/s.yaml", "--set", "stations..servers=2"],
    ["run", "{d}/s.yaml", "--set", "nosuch=1"],
    ["run", "{d}/s.yaml", "--set", "novalue"],
    ["run", "{d}/s.yaml", "--target-rel", "2"],
    ["run", "{d}/s.yaml", "--target-kpi", "x"],
    ["run", "{d}/s.yaml", "-r", "auto", "--target-kpi", "foo"],
    ["run", "{d}/s.yaml", "--max-memory", "lots"],
    ["run", "{d}/s.yaml", "--max-memory", "-1G"],
    ["run", "{d}/s.yaml", "--max-memory", "1K"],
    ["run", "{d}/s.yaml", "--plugin", "no_such_module_anywhere"],
    ["run", "{d}/s.yaml", "--plugin", "{d}/missing.py"],
    ["run", "{d}/s.yaml", "--allow-path", "{d}/nope"],
    ["run", "{d}/s.yaml", "--out", "{d}/s.yaml/sub"],
    ["run", "{d}/s.yaml", "--out", "/proc/gatesim-out"],
    ["run", "{d}/s.yaml", "--out", "/", "--force"],
    ["run", "{d}/s.yaml", "--resume"],
    ["run", "{d}/s.yaml", "--year", "0"],
    ["run", "{d}/s.yaml", "--warmup", "1", "--warmup-days", "1"],
    ["run", "{d}/nothere.yaml"],
    ["run", "{d}/s.txt"],
    ["compare", "{d}/s.yaml"],
    ["sweep", "{d}/s.yaml", "--set", "days"],
    ["validate", "{d}/s.yaml", "--bogus"],
    ["types", "--plugin", ""],
]
for i, argv in enumerate(ARGS):
    add(f"args-{i}", Case({"s.yaml": GOOD, "s.txt": "x"}, args=argv, names=None))


# --------------------------------------------------------------------------- the test
def materialise(folder: Path, case: Case) -> list[str]:
    folder.mkdir()
    outside = folder.parent / "outside"
    outside.mkdir()
    (outside / "base.yaml").write_text("name: SUPERSECRET\n", encoding="utf-8")
    (outside / "t.csv").write_text("time_min\nDB_PASSWORD=hunter2\n", encoding="utf-8")
    for name, content in case.files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    if case.setup is not None:
        case.setup(folder)
    return [arg.replace("{d}", str(folder)) for arg in case.args]


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 300, len(CASES)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case_id: str
) -> None:
    case = CASES[case_id]
    monkeypatch.chdir(tmp_path)
    args = materialise(tmp_path / "d", case)
    before = tree(tmp_path)
    line = one_line_error(run(*args))
    if case.names is not None:
        assert line.startswith(f"error: {tmp_path / 'd' / case.names}"), line
    assert "SUPERSECRET" not in line and "hunter2" not in line
    assert tree(tmp_path) == before
