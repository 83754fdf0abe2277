"""The example plug-in package (examples/coldchain) as installed: a test-local ``.dist-info``
on ``sys.path`` holds exactly what ``pip install -e examples/coldchain`` would declare (its
entry points from pyproject.toml), so ``importlib.metadata`` finds it the real way, fast and
without touching the shared environment. A scenario then names its distribution and station
type by their short names; ``types`` lists them with their source package."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tomllib

import gatesim.core.distributions as distributions
from gatesim import cli
from gatesim.model.engine import simulate
from gatesim.model.loading import load_scenario
from gatesim.scenario.schema import Scenario
from gatesim.stations import registry

COLDCHAIN = Path(__file__).resolve().parents[1] / "examples" / "coldchain"
MODULES = ("coldchain_bays", "coldchain_dists")


def dist_info(folder: Path) -> None:
    """``gatesim_coldchain-0.1.0.dist-info`` from the package's pyproject.toml."""
    project = tomllib.loads((COLDCHAIN / "pyproject.toml").read_text(encoding="utf-8"))
    meta = folder / "gatesim_coldchain-0.1.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['project']['name']}\nVersion: 0.1.0\n"
    )
    groups = project["project"]["entry-points"]
    text = "".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()) + "\n"
        for group, points in groups.items()
    )
    (meta / "entry_points.txt").write_text(text)
    (meta / "top_level.txt").write_text("\n".join(project["tool"]["setuptools"]["py-modules"]))


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    registry._load_builtins()  # before the registry is copied (and restored) below
    dist_info(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(COLDCHAIN))
    for module in MODULES:
        monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.setattr(distributions, "_PLUGINS", {})
    monkeypatch.setattr(registry, "_REGISTRY", {**registry._REGISTRY})
    registry._REGISTRY.pop("cold_chain_bay", None)
    yield
    for module in MODULES:  # imported here: gone with the registrations they made
        sys.modules.pop(module, None)


@pytest.mark.usefixtures("installed")
def test_a_scenario_names_the_installed_distribution() -> None:
    assert "coldchain_dists" not in sys.modules  # nothing imported until a scenario names it
    scenario = load_scenario(COLDCHAIN / "weibull_lab.yaml")
    service = scenario.stations["lab"].service
    assert (type(service).__module__, type(service).__name__) == ("coldchain_dists", "Weibull")
    assert service.mean == pytest.approx(40 * math.gamma(1 + 1 / 1.5), rel=1e-12)
    again = Scenario.model_validate(scenario.model_dump())
    assert again == scenario
    result = simulate(scenario)
    assert result.conservation()["arrived"] > 100


@pytest.mark.usefixtures("installed")
def test_the_plugin_draws_have_its_mean() -> None:
    """100,000 draws: sd 24.6 min, so 5 standard errors are 0.39 min."""
    weibull = distributions.parse_distribution({"dist": "weibull", "scale": 40, "k": 1.5})
    draws = weibull.sample_many(np.random.default_rng(3), 100_000)
    assert abs(draws.mean() - weibull.mean) < 5 * math.sqrt(weibull.variance / 100_000)


@pytest.mark.usefixtures("installed")
def test_types_lists_the_plugins_with_their_package(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["types"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(
        line.startswith("cold_chain_bay") and line.endswith("[gatesim-coldchain]") for line in lines
    )
    assert "  weibull              [gatesim-coldchain]" in lines
    assert "  exponential          [gatesim]" in lines


def test_without_the_package_the_name_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(distributions, "_PLUGINS", {})
    scenario = COLDCHAIN / "weibull_lab.yaml"
    assert cli.main(["validate", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    where = f"error: {scenario}: stations.lab.service"
    assert err.startswith(f"{where}: unknown distribution 'weibull'")
