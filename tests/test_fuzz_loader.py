"""Hostile scenario files: the only outcomes allowed are a valid Scenario or one ScenarioError.

Hypothesis feeds the loader random YAML trees, random mutations of the shipped baseline, byte
garbage, deep nesting, huge and non-finite numbers, long strings and ``extends`` tricks. Any
other exception (a traceback for the user), or a crash when a file that loaded is simulated,
fails the test. The CLI check confirms the user-facing contract: exit code 2, one line.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatesim import ScenarioError, simulate
from gatesim.cli import main
from gatesim.model.loading import load_scenario
from gatesim.scenario.loader import allowed_folders, load_raw

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
FUZZ = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

nasty_numbers = st.sampled_from(
    [0, -1, 1e308, -1e308, math.inf, -math.inf, math.nan, 2**70, -(2**70), 1e-320, 0.5, 3]
)
nasty_scalars = st.one_of(
    nasty_numbers,
    st.booleans(),
    st.none(),
    st.text(max_size=30),
    st.just("x" * 100_000),
    st.sampled_from(["yes", "no", "~", "[", "{a: b", "../../etc/passwd"]),
)
trees = st.recursive(
    nasty_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)


def paths_of(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += paths_of(value, (*prefix, key))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            found += paths_of(value, (*prefix, i))
    return found


BASE_TREE = load_raw(BASELINE)
BASE_PATHS = paths_of(BASE_TREE)[1:]


def mutate(tree: dict[str, Any], path: tuple[Any, ...], action: str, value: Any) -> dict[str, Any]:
    tree = copy.deepcopy(tree)
    node: Any = tree
    for key in path[:-1]:
        node = node[key]
    last = path[-1]
    if action == "delete" and isinstance(node, dict):
        del node[last]
    elif action == "unknown_key" and isinstance(node, dict):
        node[f"{last}_typo"] = value
    else:
        node[last] = value
    return tree


def outcome_of(path: Path) -> str:
    """'ok' or 'error'; anything else propagates and fails the test."""
    try:
        scenario = load_scenario(path)
    except ScenarioError as error:
        assert "\n" not in str(error)
        return "error"
    expected = sum(a.per_day for a in scenario.arrivals.values()) * scenario.demand_scale
    if expected < 5_000 and len(scenario.stations) < 200:
        # a file that loads must also simulate (a tenth of the demand keeps the check quick)
        short = scenario.model_copy(
            update={"days": 1, "warmup_days": 0.0, "demand_scale": scenario.demand_scale / 10}
        )
        simulate(short)
    return "ok"


def write_yaml(tmp_path: Path, tree: Any, name: str = "fuzz.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    return path


@FUZZ
@given(
    index=st.integers(0, len(BASE_PATHS) - 1),
    action=st.sampled_from(["replace", "delete", "unknown_key"]),
    value=trees,
)
def test_mutated_baseline_loads_or_fails_cleanly(
    tmp_path: Path, index: int, action: str, value: Any
) -> None:
    tree = mutate(BASE_TREE, BASE_PATHS[index], action, value)
    assert outcome_of(write_yaml(tmp_path, tree)) in ("ok", "error")


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=trees)
def test_random_yaml_trees_fail_cleanly(tmp_path: Path, tree: Any) -> None:
    assert outcome_of(write_yaml(tmp_path, tree)) == "error"


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=400))
def test_byte_garbage_fails_cleanly(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "garbage.yaml"
    path.write_bytes(data)
    assert outcome_of(path) == "error"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x00\x01\x02",
        "[" * 5000 + "]" * 5000,
        "a: " + "[" * 300 + "]" * 300,
        "a: &a [*a]",
        "x: " + "y" * 2_000_000,
        "a: &a ['lol','lol']\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f]\n"
        "h: [*g,*g,*g,*g,*g,*g,*g,*g]\n",
    ],
)
def test_pathological_files_fail_cleanly(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    assert outcome_of(path) == "error"


def test_extends_chains_loops_and_outside_paths(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    assert outcome_of(tmp_path / "a.yaml") == "error"
    for i in range(30):  # a chain deeper than the limit
        (tmp_path / f"c{i}.yaml").write_text(f"extends: c{i + 1}.yaml\n")
    assert outcome_of(tmp_path / "c0.yaml") == "error"
    (tmp_path / "out.yaml").write_text("extends: ../../../../../../etc/passwd\n")
    assert outcome_of(tmp_path / "out.yaml") == "error"
    (tmp_path / "dir.yaml").mkdir()
    (tmp_path / "d.yaml").write_text("extends: dir.yaml\n")
    assert outcome_of(tmp_path / "d.yaml") == "error"
    (tmp_path / "ok.yaml").write_text(f"extends: {BASELINE}\nname: absolute_base\n")
    assert outcome_of(tmp_path / "ok.yaml") == "error"  # outside the folder tree of ok.yaml
    with allowed_folders([BASELINE.parent]):
        assert outcome_of(tmp_path / "ok.yaml") == "ok"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(index=st.integers(0, len(BASE_PATHS) - 1), value=trees)
def test_cli_gives_one_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], index: int, value: Any
) -> None:
    path = write_yaml(tmp_path, mutate(BASE_TREE, BASE_PATHS[index], "replace", value))
    code = main(["validate", str(path)])
    captured = capsys.readouterr()
    assert code in (0, 2)
    if code == 2:
        assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
