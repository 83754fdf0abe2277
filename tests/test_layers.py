"""The layers import only downward: core < scenario < stations < model < stats < experiment <
validation < report < cli (the import-linter contract in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    found = Path(sys.executable).with_name("lint-imports")
    return str(found) if found.exists() else (shutil.which("lint-imports") or "")


def test_the_layer_contract_holds() -> None:
    command = _lint_imports()
    if not command:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    done = subprocess.run([command], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


def test_core_imports_nothing_else_of_gatesim() -> None:
    for module in (ROOT / "gatesim" / "core").glob("*.py"):
        for line in module.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith(("from gatesim", "import gatesim")):
                assert stripped.startswith("from gatesim.core"), f"{module.name}: {stripped}"


def test_the_report_reads_tables_only() -> None:
    """gatesim.report imports neither the model, the stations, the scenario nor the experiment
    (the forbidden contract): its figures come from result files alone."""
    command = _lint_imports()
    if not command:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    done = subprocess.run([command], cwd=ROOT, capture_output=True, text=True, check=False)
    lines = " ".join(done.stdout.split())  # the tool wraps long contract names
    assert "The report reads result tables, never the model" in lines
    assert "scenario or experiment KEPT" in lines
