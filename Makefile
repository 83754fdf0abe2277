# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SCENARIO ?= scenarios/baseline.yaml

.PHONY: run test lint bench browser docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) run_sim.py $(SCENARIO)

test: $(STAMP) lint
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

docs: $(STAMP)
	$(PY) scripts/validation_table.py
	$(PY) scripts/scenario_table.py
	$(PY) scripts/make_doc_plots.py
	$(PY) scripts/planning_walkthrough.py
	$(PY) scripts/calibration_table.py
	$(PY) scripts/sources_table.py

bench: $(STAMP)
	$(PY) benchmarks/run_benchmarks.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
