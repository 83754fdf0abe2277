# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SCENARIO ?= scenarios/baseline.yaml

.PHONY: run test lint bench browser docs clean bytecode

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The editable install leaves gatesim's bytecode to the first import, and a machine that sets
# PYTHONDONTWRITEBYTECODE (as some CI images do) would compile every module again in every
# process: about 0.25 s of each command's start. compileall writes what is missing or stale
# (0.05 s when nothing is), as pip does for a regular install.
bytecode: $(STAMP)
	$(PY) -m compileall -q gatesim

run: bytecode
	$(PY) run_sim.py $(SCENARIO)

test: bytecode lint
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check gatesim tests benchmarks examples scripts run_sim.py
	$(PY) -m mypy gatesim benchmarks
	$(VENV)/bin/lint-imports

# Headless Chromium for the report's browser test (Debian's package; needs root or sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@chromium --version

docs: bytecode
	$(PY) scripts/validation_table.py
	$(PY) scripts/scenario_table.py
	$(PY) scripts/make_doc_plots.py
	$(PY) scripts/planning_walkthrough.py
	$(PY) scripts/calibration_table.py
	$(PY) scripts/sources_table.py

bench: bytecode
	$(PY) benchmarks/run_benchmarks.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
	find gatesim tests benchmarks scripts -name __pycache__ -type d -prune -exec rm -rf {} +
