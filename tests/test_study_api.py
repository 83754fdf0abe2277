"""The public experiment API (``gatesim.compare``, ``sweep``, ``plan``, ``capacity``): result
objects, paired CIs recomputed by hand from the per-replication values, the same files as the
command line, resume from a store, and one-line ``UsageError``s named the API's or the CLI's way.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from scipy import stats

import gatesim
from gatesim import (
    CapacityResult,
    ComparisonResult,
    PlanningResult,
    SweepResult,
    UsageError,
    load_scenario,
    scenario_capacity,
)
from gatesim.cli import main
from gatesim.experiment import executors

SCENARIO = """\
name: small
days: 7
warmup_days: 1
replications: 3
seed: 3
nodes:
  src: {kind: source}
  out: {kind: sink}
stations:
  xray:
    servers: 1
    service: {dist: exponential, mean: 10}
routes:
  r: {origin: src, steps: [xray], destination: out}
arrivals:
  a: {lane: L1, direction: export, cargo: goods, route: r, per_day: 80}
"""
FASTER = SCENARIO.replace("name: small", "name: faster").replace("mean: 10", "mean: 8")
#: Keys of a manifest that differ between two runs of the same study.
VOLATILE = {"wall_seconds", "command", "replication_seconds", "created"}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {"small": tmp_path / "small.yaml", "faster": tmp_path / "faster.yaml"}
    paths["small"].write_text(SCENARIO, encoding="utf-8")
    paths["faster"].write_text(FASTER, encoding="utf-8")
    return paths


def t_interval_by_hand(values: list[float]) -> tuple[float, float, float]:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def stable(document: Any) -> Any:
    if isinstance(document, dict):
        return {k: stable(v) for k, v in document.items() if k not in VOLATILE}
    if isinstance(document, list):
        return [stable(v) for v in document]
    return document


# --------------------------------------------------------------------------- compare
def test_compare_paired_differences_match_a_direct_computation(files: dict[str, Path]) -> None:
    result = gatesim.compare([files["small"], files["faster"]])
    assert isinstance(result, ComparisonResult) and result.names == ["small", "faster"]
    base, other = (r.kpi_table() for r in result.results)
    assert list(base.index) == list(other.index) == [0, 1, 2]  # common replication indices
    diffs = result.differences().set_index("kpi")
    for kpi in ("throughput_per_day", "time_in_system_mean_h", "station.xray.wait_mean_min"):
        by_replication = (other[kpi] - base[kpi]).tolist()
        mean, lo, hi = t_interval_by_hand(by_replication)
        row = diffs.loc[kpi]
        assert row["scenario"] == "faster" and row["replications"] == 3
        assert row["mean"] == pytest.approx(mean) and row["lo"] == pytest.approx(lo)
        assert row["hi"] == pytest.approx(hi)
    # a faster x-ray shortens the wait in every replication, so the whole interval is below 0
    assert diffs.loc["station.xray.wait_mean_min", "hi"] < 0
    table = result.to_frame()
    faster_wait = table[(table["scenario"] == "faster") & (table["kpi"] == "time_in_system_mean_h")]
    assert faster_wait["diff"].item() == pytest.approx(diffs.loc["time_in_system_mean_h", "mean"])


def test_compare_takes_scenario_objects_with_the_first_ones_seed(files: dict[str, Path]) -> None:
    base = load_scenario(files["small"])
    variant = base.model_copy(update={"name": "variant", "seed": 99})
    with pytest.raises(UsageError, match=r"^scenarios: seed differs: small 3, variant 99: "):
        gatesim.compare([base, variant], set={"replications": 2})
    result = gatesim.compare([base, variant], set={"replications": 2}, allow_unpaired=True)
    assert result.document[1]["unpaired"] == ["seed differs: small 3, variant 99"]
    assert [r.scenario.seed for r in result.results] == [3, 3]  # common random numbers
    assert [len(r.outcomes) for r in result.results] == [2, 2]
    # the same scenario twice: identical replications, every defined paired difference is 0
    defined = result.differences().dropna()
    assert "throughput_per_day" in set(defined["kpi"])
    assert (defined[["mean", "lo", "hi"]] == 0).all().all()
    assert result.document[1]["file"] is None


def test_compare_save_writes_what_the_cli_writes(files: dict[str, Path], tmp_path: Path) -> None:
    api = gatesim.compare([files["small"], files["faster"]], set={"days": 5}).save(tmp_path / "a")
    cli = tmp_path / "cli"
    assert main(["compare", str(files["small"]), str(files["faster"]), "--days", "5",
                 "--out", str(cli), "-q"]) == 0  # fmt: skip
    for name in ("comparison.json", "small/summary.json", "faster/summary.json"):
        assert read(api / name) == read(cli / name), name
    assert (api / "comparison.csv").read_bytes() == (cli / "comparison.csv").read_bytes()
    assert stable(read(api / "manifest.json")) == stable(read(cli / "manifest.json"))


def test_compare_auto_design_and_resume_from_a_store(
    files: dict[str, Path], tmp_path: Path
) -> None:
    store = tmp_path / "store"
    pair = [files["small"], files["faster"]]
    first = gatesim.compare(pair, replications="auto", target_rel=0.5, warmup="auto", store=store)
    control = first.results[0].replication_control
    assert control is not None and control["target_rel"] == 0.5 and not control["cap_hit"]
    assert first.results[0].warmup_report()["method"] == "mser5"
    again = gatesim.compare(pair, replications="auto", target_rel=0.5, warmup="auto", store=store)
    assert again.run.runner.resumed  # every replication came from the store
    assert again.differences().equals(first.differences())


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"target_rel": 0.1}, "target_rel"),  # needs replications="auto"
        ({"replications": 0}, "replications"),
        ({"replications": "many"}, "replications"),
        ({"warmup": -1.0}, "warmup"),
        ({"jobs": 0}, "jobs"),
        ({"set": {"stations.xray.servers": 2}}, "set"),  # dotted path on a Scenario object
    ],
)
def test_bad_options_are_a_usage_error_before_running(
    files: dict[str, Path], kwargs: dict[str, Any], argument: str
) -> None:
    base = load_scenario(files["small"])
    with pytest.raises(UsageError) as caught:
        gatesim.compare([base, base], **kwargs)
    assert caught.value.argument == argument and "\n" not in str(caught.value)


def test_unreachable_dask_is_a_usage_error(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executors, "DASK_CONNECT_TIMEOUT", 1.0)
    with pytest.raises(UsageError) as caught:
        gatesim.compare([files["small"], files["faster"]], dask="tcp://127.0.0.1:9")
    assert caught.value.argument == "dask"


def test_the_cli_names_the_flag(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["run", str(files["small"]), "--target-rel", "0.1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == "error: --target-rel: only applies with --replications auto\n"
    assert not out.exists()


# --------------------------------------------------------------------------- sweep
def test_sweep_result_tables_and_paired_differences(files: dict[str, Path], tmp_path: Path) -> None:
    result = gatesim.sweep(files["small"], {"stations.xray.servers": [1, 2]}, set={"days": 5})
    assert isinstance(result, SweepResult)
    table = result.to_frame()
    assert table["stations.xray.servers"].tolist() == [1, 2]
    assert table["replications"].tolist() == [3, 3]
    one, two = (r.kpi_table()["station.xray.wait_mean_min"] for r in result.results)
    mean, lo, hi = t_interval_by_hand((two - one).tolist())
    row = result.differences().set_index("kpi").loc["station.xray.wait_mean_min"]
    assert (row["mean"], row["lo"], row["hi"]) == pytest.approx((mean, lo, hi))
    saved = result.save(tmp_path / "sweep")
    assert (saved / "sweep.csv").is_file() and len(list((saved / "points").iterdir())) == 2


def test_sweep_axes_need_values(files: dict[str, Path]) -> None:
    with pytest.raises(UsageError, match="non-empty list"):
        gatesim.sweep(files["small"], {"stations.xray.servers": 2})  # type: ignore[dict-item]


# --------------------------------------------------------------------------- plan, capacity
def test_plan_finds_the_cheapest_configuration(files: dict[str, Path], tmp_path: Path) -> None:
    result = gatesim.plan(
        files["small"],
        ["station.xray.wait_mean_min<=15"],
        ["stations.xray.servers=1:4"],
        set={"days": 5},
    )
    assert isinstance(result, PlanningResult) and result.found and result.exit_code == 0
    assert result.chosen is not None
    chosen = result.chosen["values"]["stations.xray.servers"]
    verdicts = result.to_frame().set_index("stations.xray.servers")["verdict"]
    assert verdicts[chosen] == "holds"
    assert all(verdicts[v] == "fails" for v in verdicts.index if v < chosen)
    saved = result.save(tmp_path / "plan")
    assert read(saved / "plan.json")["chosen"]["values"] == result.chosen["values"]


def test_plan_refuses_an_automatic_design(files: dict[str, Path]) -> None:
    with pytest.raises(UsageError) as caught:
        gatesim.plan(files["small"], ["throughput_per_day>=1"], ["days=5:6"], replications="auto")  # type: ignore[arg-type]
    assert caught.value.argument == "replications"


def test_capacity_has_the_shape_of_the_other_studies(
    files: dict[str, Path], tmp_path: Path
) -> None:
    result = gatesim.capacity(files["small"], method="saturated", set={"replications": 2})
    assert isinstance(result, CapacityResult)
    scenario = load_scenario(files["small"], {"replications": 2})
    options = gatesim.CapacityOptions(replications=2, methods=("saturated",))
    direct = scenario_capacity(scenario, options)
    assert [f.saturated for f in result.flows] == [f.saturated for f in direct]
    frame = result.to_frame()
    assert frame["saturated_mean"].tolist() == [direct[0].saturated[0]]  # type: ignore[index]
    saved = result.save(tmp_path / "capacity")
    assert read(saved / "capacity.json")["flows"][0]["lane"] == "L1"


def test_plan_help_hides_the_refused_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--target-kpi" not in text and "--records" not in text
    assert "replications per configuration to start with" in text


# --------------------------------------------------------------------------- docs/api.md
@pytest.mark.slow
def test_the_api_page_snippets_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The examples of docs/api.md's experiment section run as written (from a scratch
    folder: ``results/`` goes there; the scenario files are the repository's)."""
    root = Path(__file__).resolve().parent.parent
    text = (root / "docs" / "api.md").read_text(encoding="utf-8")
    section = text[text.index("## Experiments:") : text.index("## Station types")]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    snippets = [b for b in blocks if "gatesim." in b and not re.match(r"\w+\(", b)]
    assert len(snippets) == 4
    monkeypatch.chdir(tmp_path)
    code = "\n".join(snippets).replace('"scenarios/', f'"{root}/scenarios/')
    exec(compile(code, "docs/api.md", "exec"), {})
    assert (tmp_path / "results" / "xray" / "comparison.json").is_file()
